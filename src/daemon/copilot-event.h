/* One event of a call (shared/spec/events.md), immutable once built. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define COPILOT_TYPE_EVENT (copilot_event_get_type ())
typedef struct _CopilotEvent CopilotEvent;

G_GNUC_CONST
GType copilot_event_get_type (void);

G_GNUC_WARN_UNUSED_RESULT
CopilotEvent *copilot_event_new (const char *type, const char *call_id,
    guint64 seq, gint64 ts_ms, JsonObject * fields);

CopilotEvent *copilot_event_ref (CopilotEvent * self);
void copilot_event_unref (CopilotEvent * self);

const char *copilot_event_get_type_name (const CopilotEvent * self);
const char *copilot_event_get_call_id (const CopilotEvent * self);
guint64 copilot_event_get_seq (const CopilotEvent * self);
gint64 copilot_event_get_ts_ms (const CopilotEvent * self);
JsonNode *copilot_event_get_node (const CopilotEvent * self);
const char *copilot_event_get_json (const CopilotEvent * self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotEvent, copilot_event_unref)

G_END_DECLS
