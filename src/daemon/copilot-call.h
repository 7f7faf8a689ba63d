/* A call: its legs, its metadata and its bounded event log. */
#pragma once

#include <json-glib/json-glib.h>

#include "copilot-event.h"
#include "copilot-leg.h"

G_BEGIN_DECLS

#define COPILOT_TYPE_CALL (copilot_call_get_type ())
G_DECLARE_FINAL_TYPE (CopilotCall, copilot_call, COPILOT, CALL, GObject)

G_GNUC_WARN_UNUSED_RESULT
CopilotCall *copilot_call_new (const char *id, guint max_events);

const char *copilot_call_get_id (CopilotCall * self);
gboolean copilot_call_is_ended (CopilotCall * self);
gint64 copilot_call_get_started_ms (CopilotCall * self);
guint64 copilot_call_get_last_seq (CopilotCall * self);

CopilotEvent *copilot_call_emit (CopilotCall * self, const char *type,
    JsonObject * fields);

void copilot_call_add_leg (CopilotCall * self, CopilotLeg * leg);
gboolean copilot_call_has_audio (CopilotCall * self);
CopilotLeg *copilot_call_get_leg (CopilotCall * self, const char *speaker);

CopilotEvent *copilot_call_add_transcript (CopilotCall * self,
    const char *speaker, const char *text);

void copilot_call_end (CopilotCall * self, const char *reason);

G_GNUC_WARN_UNUSED_RESULT
GPtrArray *copilot_call_dup_events (CopilotCall * self, guint64 after_seq);

G_GNUC_WARN_UNUSED_RESULT
JsonNode *copilot_call_to_summary (CopilotCall * self);

G_END_DECLS
