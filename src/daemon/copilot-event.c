/* One event of a call (shared/spec/events.md), immutable once built. */
#include "config.h"

#include "copilot-event.h"

/* An event is serialised once, when it is made, and the same text goes to
 * every /live client; the node serves the REST answers. */
struct _CopilotEvent
{
  gatomicrefcount ref_count;
  char *type;
  char *call_id;
  guint64 seq;
  gint64 ts_ms;
  JsonNode *node;
  char *json;
};

G_DEFINE_BOXED_TYPE (CopilotEvent, copilot_event, copilot_event_ref,
    copilot_event_unref);

/**
 * copilot_event_new:
 * @type: event type, e.g. "transcript.final"
 * @call_id: the call
 * @seq: sequence number within the call (from 1)
 * @ts_ms: unix time in milliseconds
 * @fields: (transfer full) (nullable): the type's own fields
 *
 * Returns: (transfer full): a new event with the common fields first
 */
CopilotEvent *
copilot_event_new (const char *type, const char *call_id, guint64 seq,
    gint64 ts_ms, JsonObject * fields)
{
  CopilotEvent *self = g_new0 (CopilotEvent, 1);
  JsonObject *obj = json_object_new ();

  g_atomic_ref_count_init (&self->ref_count);
  self->type = g_strdup (type);
  self->call_id = g_strdup (call_id);
  self->seq = seq;
  self->ts_ms = ts_ms;

  json_object_set_string_member (obj, "type", type);
  json_object_set_string_member (obj, "call_id", call_id);
  json_object_set_int_member (obj, "seq", (gint64) seq);
  json_object_set_int_member (obj, "ts_ms", ts_ms);
  if (fields != NULL) {
    JsonObjectIter iter;
    const char *name;
    JsonNode *value;

    json_object_iter_init_ordered (&iter, fields);
    while (json_object_iter_next_ordered (&iter, &name, &value)) {
      if (!json_object_has_member (obj, name))
        json_object_set_member (obj, name, json_node_copy (value));
    }
    json_object_unref (fields);
  }
  self->node = json_node_init_object (json_node_alloc (), obj);
  json_object_unref (obj);
  json_node_seal (self->node);
  self->json = json_to_string (self->node, FALSE);
  return self;
}

CopilotEvent *
copilot_event_ref (CopilotEvent * self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
copilot_event_unref (CopilotEvent * self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->type);
  g_free (self->call_id);
  json_node_unref (self->node);
  g_free (self->json);
  g_free (self);
}

const char *
copilot_event_get_type_name (const CopilotEvent * self)
{
  return self->type;
}

const char *
copilot_event_get_call_id (const CopilotEvent * self)
{
  return self->call_id;
}

guint64
copilot_event_get_seq (const CopilotEvent * self)
{
  return self->seq;
}

gint64
copilot_event_get_ts_ms (const CopilotEvent * self)
{
  return self->ts_ms;
}

/**
 * copilot_event_get_node:
 *
 * Returns: (transfer none): the event as a sealed JSON object node
 */
JsonNode *
copilot_event_get_node (const CopilotEvent * self)
{
  return self->node;
}

/**
 * copilot_event_get_json:
 *
 * Returns: (transfer none): the event as compact JSON text
 */
const char *
copilot_event_get_json (const CopilotEvent * self)
{
  return self->json;
}
