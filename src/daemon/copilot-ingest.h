/* The Exotel ingest WebSocket endpoint: one stream per leg of a call. */
#pragma once

#include <libsoup/soup.h>

#include "copilot-call-table.h"
#include "copilot-daemon-config.h"
#include "copilot-metrics.h"

G_BEGIN_DECLS

#define COPILOT_TYPE_INGEST (copilot_ingest_get_type ())
G_DECLARE_FINAL_TYPE (CopilotIngest, copilot_ingest, COPILOT, INGEST, GObject)

G_GNUC_WARN_UNUSED_RESULT
CopilotIngest *copilot_ingest_new (SoupServer * server,
    const CopilotDaemonConfig * config, CopilotCallTable * table,
    CopilotMetrics * metrics);

guint copilot_ingest_get_n_streams (CopilotIngest * self);

void copilot_ingest_close_all (CopilotIngest * self);

G_END_DECLS
