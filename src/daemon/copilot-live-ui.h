/* The /live agent view: static files from the GResource built from ui/. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

void copilot_live_ui_add_handler (SoupServer * server, const char *path);

G_END_DECLS
