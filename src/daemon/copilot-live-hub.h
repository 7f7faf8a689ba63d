/* The /live/ws endpoint: clients following one call or every call. */
#pragma once

#include <libsoup/soup.h>

#include "copilot-call-table.h"

G_BEGIN_DECLS

#define COPILOT_TYPE_LIVE_HUB (copilot_live_hub_get_type ())
G_DECLARE_FINAL_TYPE (CopilotLiveHub, copilot_live_hub, COPILOT, LIVE_HUB,
    GObject)

G_GNUC_WARN_UNUSED_RESULT
CopilotLiveHub *copilot_live_hub_new (SoupServer * server, const char *path,
    CopilotCallTable * table, guint max_queue, guint max_message_size,
    guint keepalive_interval);

void copilot_live_hub_set_max_clients (CopilotLiveHub * self,
    guint max_clients);

guint copilot_live_hub_get_n_clients (CopilotLiveHub * self);

void copilot_live_hub_close_all (CopilotLiveHub * self);

G_END_DECLS
