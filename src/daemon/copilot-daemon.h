/* copilotd: the server, the calls and the endpoints, on one main context. */
#pragma once

#include <libsoup/soup.h>

#include "copilot-call-table.h"
#include "copilot-daemon-config.h"
#include "copilot-metrics.h"

G_BEGIN_DECLS

#define COPILOT_TYPE_DAEMON (copilot_daemon_get_type ())
G_DECLARE_FINAL_TYPE (CopilotDaemon, copilot_daemon, COPILOT, DAEMON, GObject)

G_GNUC_WARN_UNUSED_RESULT
CopilotDaemon *copilot_daemon_new (CopilotDaemonConfig * config);

gboolean copilot_daemon_start (CopilotDaemon * self, GError ** error);

guint copilot_daemon_get_port (CopilotDaemon * self);

void copilot_daemon_stop (CopilotDaemon * self);

gboolean copilot_daemon_is_quiet (CopilotDaemon * self);

CopilotCallTable *copilot_daemon_get_call_table (CopilotDaemon * self);

const CopilotMetrics *copilot_daemon_get_metrics (CopilotDaemon * self);

guint copilot_daemon_get_n_streams (CopilotDaemon * self);

guint copilot_daemon_get_n_live_clients (CopilotDaemon * self);

G_END_DECLS
