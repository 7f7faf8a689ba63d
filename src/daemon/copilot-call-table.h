/* Every active call and the most recent ended ones. */
#pragma once

#include "copilot-call.h"
#include "copilot-metrics.h"

G_BEGIN_DECLS

#define COPILOT_TYPE_CALL_TABLE (copilot_call_table_get_type ())
G_DECLARE_FINAL_TYPE (CopilotCallTable, copilot_call_table, COPILOT,
    CALL_TABLE, GObject)

G_GNUC_WARN_UNUSED_RESULT
CopilotCallTable *copilot_call_table_new (guint max_events_per_call,
    guint max_ended_calls, CopilotMetrics * metrics);

CopilotCall *copilot_call_table_lookup (CopilotCallTable * self,
    const char *id);

CopilotCall *copilot_call_table_lookup_active (CopilotCallTable * self,
    const char *id);

CopilotCall *copilot_call_table_create (CopilotCallTable * self,
    const char *id);

guint copilot_call_table_get_n_active (CopilotCallTable * self);
guint copilot_call_table_count_active (CopilotCallTable * self,
    gboolean with_audio);

G_GNUC_WARN_UNUSED_RESULT
GPtrArray *copilot_call_table_list (CopilotCallTable * self);

G_GNUC_WARN_UNUSED_RESULT
JsonNode *copilot_call_table_to_summaries (CopilotCallTable * self);

void copilot_call_table_end_all (CopilotCallTable * self, const char *reason);

G_END_DECLS
