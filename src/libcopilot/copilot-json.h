#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean copilot_json_nesting_ok (const char *data, gsize length,
    guint max_depth);

G_END_DECLS
