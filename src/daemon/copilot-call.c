/* A call: its legs, its metadata and its bounded event log.
 *
 * Main context only. A call is active until every leg has ended (or it is
 * ended explicitly); then it emits call.ended and #CopilotCall::ended. Its
 * events carry strictly increasing sequence numbers from 1; the newest
 * max-events are kept for replays. */
#include "config.h"

#include "copilot-call.h"
#include "copilot-segment.h"

struct _CopilotCall
{
  GObject parent;

  char *id;
  char *from;
  char *to;
  gint64 started_ms;
  gint64 ended_ms;
  char *end_reason;
  gboolean ended;
  gboolean started_sent;
  GPtrArray *legs;              /* CopilotLeg, signals connected to us */
  gboolean callended;           /* a leg ended with "callended" */
  GPtrArray *speakers;          /* char*, every leg or speaker seen */
  GQueue events;                /* CopilotEvent, oldest first */
  guint max_events;
  guint64 next_seq;
  guint n_external;             /* transcripts posted through REST */
};

G_DEFINE_TYPE (CopilotCall, copilot_call, G_TYPE_OBJECT);

enum
{
  SIGNAL_EVENT,
  SIGNAL_ENDED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static void
copilot_call_dispose (GObject * object)
{
  CopilotCall *self = COPILOT_CALL (object);

  for (guint i = 0; i < self->legs->len; i++) {
    CopilotLeg *leg = g_ptr_array_index (self->legs, i);

    g_signal_handlers_disconnect_by_data (leg, self);
    copilot_leg_stop (leg, "stopped");
  }
  g_ptr_array_set_size (self->legs, 0);
  G_OBJECT_CLASS (copilot_call_parent_class)->dispose (object);
}

static void
copilot_call_finalize (GObject * object)
{
  CopilotCall *self = COPILOT_CALL (object);

  g_free (self->id);
  g_free (self->from);
  g_free (self->to);
  g_free (self->end_reason);
  g_ptr_array_unref (self->legs);
  g_ptr_array_unref (self->speakers);
  g_queue_clear_full (&self->events, (GDestroyNotify) copilot_event_unref);
  G_OBJECT_CLASS (copilot_call_parent_class)->finalize (object);
}

static void
copilot_call_class_init (CopilotCallClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = copilot_call_dispose;
  object_class->finalize = copilot_call_finalize;

  /* Every event of the call, once stored. */
  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      COPILOT_TYPE_EVENT);
  /* After call.ended. */
  signals[SIGNAL_ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
copilot_call_init (CopilotCall * self)
{
  self->legs = g_ptr_array_new_with_free_func (g_object_unref);
  self->speakers = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&self->events);
  self->next_seq = 1;
}

CopilotCall *
copilot_call_new (const char *id, guint max_events)
{
  CopilotCall *self = g_object_new (COPILOT_TYPE_CALL, NULL);

  self->id = g_strdup (id);
  self->max_events = MAX (max_events, 1);
  self->started_ms = now_ms ();
  g_message ("call %s: created", id);
  return self;
}

const char *
copilot_call_get_id (CopilotCall * self)
{
  return self->id;
}

gboolean
copilot_call_is_ended (CopilotCall * self)
{
  return self->ended;
}

gint64
copilot_call_get_started_ms (CopilotCall * self)
{
  return self->started_ms;
}

guint64
copilot_call_get_last_seq (CopilotCall * self)
{
  return self->next_seq - 1;
}

static void
add_speaker (CopilotCall * self, const char *speaker)
{
  for (guint i = 0; i < self->speakers->len; i++) {
    if (g_str_equal (g_ptr_array_index (self->speakers, i), speaker))
      return;
  }
  g_ptr_array_add (self->speakers, g_strdup (speaker));
}

/**
 * copilot_call_emit:
 * @self: a call
 * @type: event type
 * @fields: (transfer full) (nullable): the type's fields
 *
 * Stores a new event with the next sequence number and emits
 * #CopilotCall::event.
 *
 * Returns: (transfer none): the event, valid until the call is finalized
 *   or the event falls out of the log
 */
CopilotEvent *
copilot_call_emit (CopilotCall * self, const char *type, JsonObject * fields)
{
  CopilotEvent *event = copilot_event_new (type, self->id, self->next_seq++,
      now_ms (), fields);

  g_queue_push_tail (&self->events, event);
  while (self->events.length > self->max_events)
    copilot_event_unref (g_queue_pop_head (&self->events));
  g_debug ("call %s: %s", self->id, copilot_event_get_json (event));
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, event);
  return event;
}

static void
leg_start_cb (CopilotLeg * leg, const GstStructure * s, gpointer user_data)
{
  CopilotCall *self = user_data;
  JsonObject *fields;
  JsonArray *tracks;
  const char *params_json;
  JsonNode *params = NULL;
  gint rate = 0;

  if (self->started_sent || self->ended)
    return;
  self->started_sent = TRUE;
  g_free (self->from);
  self->from = g_strdup (gst_structure_get_string (s, "from"));
  g_free (self->to);
  self->to = g_strdup (gst_structure_get_string (s, "to"));
  gst_structure_get_int (s, "sample-rate", &rate);

  fields = json_object_new ();
  json_object_set_string_member (fields, "from", self->from);
  json_object_set_string_member (fields, "to", self->to);
  tracks = json_array_new ();
  for (guint i = 0; i < self->speakers->len; i++)
    json_array_add_string_element (tracks,
        g_ptr_array_index (self->speakers, i));
  json_object_set_array_member (fields, "tracks", tracks);
  json_object_set_int_member (fields, "sample_rate", rate);
  json_object_set_string_member (fields, "encoding",
      gst_structure_get_string (s, "encoding"));
  params_json = gst_structure_get_string (s, "custom-parameters-json");
  if (params_json != NULL)
    params = json_from_string (params_json, NULL);
  if (params == NULL || !JSON_NODE_HOLDS_OBJECT (params)) {
    g_clear_pointer (&params, json_node_unref);
    params = json_node_init_object (json_node_alloc (), NULL);
    json_node_take_object (params, json_object_new ());
  }
  json_object_set_member (fields, "custom_parameters", params);
  g_message ("call %s: started (from %s to %s, %d Hz)", self->id,
      self->from ? self->from : "?", self->to ? self->to : "?", rate);
  copilot_call_emit (self, "call.started", fields);
}

static void
leg_transcript_cb (CopilotLeg * leg, CopilotSegment * seg, guint64 latency,
    gpointer user_data)
{
  CopilotCall *self = user_data;
  JsonObject *fields = json_object_new ();
  gboolean final = copilot_segment_is_final (seg);
  /* Segment times are the leg pipeline's running time; the leg started
   * that long after the call. */
  gint64 offset = MAX (copilot_leg_get_started_ms (leg) - self->started_ms, 0);
  guint64 start = copilot_segment_get_start (seg);
  guint64 end = copilot_segment_get_end (seg);

  if (self->ended)
    return;
  json_object_set_string_member (fields, "segment_id",
      copilot_segment_get_id (seg));
  json_object_set_string_member (fields, "speaker",
      copilot_segment_get_speaker (seg) ? copilot_segment_get_speaker (seg) :
      "unknown");
  json_object_set_string_member (fields, "text",
      copilot_segment_get_text (seg));
  if (start != COPILOT_SEGMENT_TIME_NONE)
    json_object_set_int_member (fields, "start_ms",
        offset + (gint64) (start / GST_MSECOND));
  else
    json_object_set_null_member (fields, "start_ms");
  if (end != COPILOT_SEGMENT_TIME_NONE)
    json_object_set_int_member (fields, "end_ms",
        offset + (gint64) (end / GST_MSECOND));
  else
    json_object_set_null_member (fields, "end_ms");
  if (final) {
    json_object_set_double_member (fields, "confidence",
        copilot_segment_get_confidence (seg));
    json_object_set_int_member (fields, "latency_ms",
        GST_CLOCK_TIME_IS_VALID (latency) ? (gint64) (latency / GST_MSECOND) :
        0);
    g_message ("call %s: %s final \"%s\"", self->id,
        copilot_leg_get_speaker (leg), copilot_segment_get_text (seg));
  }
  copilot_call_emit (self, final ? "transcript.final" : "transcript.partial",
      fields);
}

static void
finish_end (CopilotCall * self, const char *reason)
{
  JsonObject *fields;

  if (self->ended)
    return;
  self->ended = TRUE;
  self->ended_ms = now_ms ();
  if (self->end_reason == NULL)
    self->end_reason = g_strdup (self->callended ? "callended" : reason);
  fields = json_object_new ();
  json_object_set_string_member (fields, "reason", self->end_reason);
  g_message ("call %s: ended (%s)", self->id, self->end_reason);
  copilot_call_emit (self, "call.ended", fields);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
}

static void
leg_ended_cb (CopilotLeg * leg, const char *reason, gpointer user_data)
{
  CopilotCall *self = user_data;
  g_autoptr (CopilotCall) keep = g_object_ref (self);

  /* The first "callended" wins; otherwise the last leg says why.  Only
   * recorded here: the call's end_reason is set when the call ends. */
  if (g_strcmp0 (reason, "callended") == 0 && !self->callended)
    self->callended = TRUE;
  for (guint i = 0; i < self->legs->len; i++) {
    if (!copilot_leg_is_ended (g_ptr_array_index (self->legs, i)))
      return;
  }
  finish_end (self, reason);
}

/**
 * copilot_call_add_leg:
 * @self: an active call
 * @leg: a running leg, whose speaker the call does not have yet
 *
 * The call keeps the leg until it is finalized.
 */
void
copilot_call_add_leg (CopilotCall * self, CopilotLeg * leg)
{
  g_return_if_fail (!self->ended);

  /* A speaker reconnecting replaces its ended leg: legs do not pile up. */
  for (guint i = self->legs->len; i > 0; i--) {
    CopilotLeg *old = g_ptr_array_index (self->legs, i - 1);

    if (copilot_leg_is_ended (old) && g_str_equal (copilot_leg_get_speaker
            (old), copilot_leg_get_speaker (leg))) {
      g_signal_handlers_disconnect_by_data (old, self);
      g_ptr_array_remove_index (self->legs, i - 1);
    }
  }
  g_ptr_array_add (self->legs, g_object_ref (leg));
  add_speaker (self, copilot_leg_get_speaker (leg));
  g_signal_connect (leg, "start", G_CALLBACK (leg_start_cb), self);
  g_signal_connect (leg, "transcript", G_CALLBACK (leg_transcript_cb), self);
  g_signal_connect (leg, "ended", G_CALLBACK (leg_ended_cb), self);
}

/**
 * copilot_call_has_audio:
 *
 * Returns: whether audio legs ever joined the call (calls created through
 *   the REST transcript API have none)
 */
gboolean
copilot_call_has_audio (CopilotCall * self)
{
  return self->legs->len > 0;
}

/**
 * copilot_call_get_leg:
 *
 * Returns: (transfer none) (nullable): the running leg of @speaker
 */
CopilotLeg *
copilot_call_get_leg (CopilotCall * self, const char *speaker)
{
  for (guint i = 0; i < self->legs->len; i++) {
    CopilotLeg *leg = g_ptr_array_index (self->legs, i);

    if (!copilot_leg_is_ended (leg)
        && g_str_equal (copilot_leg_get_speaker (leg), speaker))
      return leg;
  }
  return NULL;
}

/**
 * copilot_call_add_transcript:
 * @self: an active call
 * @speaker: "agent" or "customer"
 * @text: what was said, from an external recogniser
 *
 * Returns: (transfer none): the transcript.final event
 */
CopilotEvent *
copilot_call_add_transcript (CopilotCall * self, const char *speaker,
    const char *text)
{
  JsonObject *fields = json_object_new ();
  g_autofree char *id = g_strdup_printf ("%s-%s-ext-%u", self->id, speaker,
      self->n_external++);
  gint64 at = now_ms () - self->started_ms;

  add_speaker (self, speaker);
  json_object_set_string_member (fields, "segment_id", id);
  json_object_set_string_member (fields, "speaker", speaker);
  json_object_set_string_member (fields, "text", text);
  json_object_set_int_member (fields, "start_ms", at);
  json_object_set_int_member (fields, "end_ms", at);
  json_object_set_double_member (fields, "confidence", 1.0);
  json_object_set_int_member (fields, "latency_ms", 0);
  return copilot_call_emit (self, "transcript.final", fields);
}

/**
 * copilot_call_end:
 * @self: a call
 * @reason: "callended", "stopped", "disconnected" or "timeout"
 *
 * Stops every running leg now and ends the call (emitting call.ended and
 * #CopilotCall::ended) if it had not ended yet.
 */
void
copilot_call_end (CopilotCall * self, const char *reason)
{
  g_autoptr (CopilotCall) keep = g_object_ref (self);

  if (self->ended)
    return;
  /* An explicit end says why, whatever a leg said before. */
  g_free (self->end_reason);
  self->end_reason = g_strdup (reason);
  for (guint i = 0; i < self->legs->len; i++)
    copilot_leg_stop (g_ptr_array_index (self->legs, i), reason);
  /* With legs, the last one's "ended" already ended the call. */
  finish_end (self, reason);
}

/**
 * copilot_call_dup_events:
 * @self: a call
 * @after_seq: only events with a greater sequence number
 *
 * Returns: (transfer full) (element-type CopilotEvent): the stored events,
 *   oldest first
 */
GPtrArray *
copilot_call_dup_events (CopilotCall * self, guint64 after_seq)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      copilot_event_unref);

  for (GList * l = self->events.head; l != NULL; l = l->next) {
    if (copilot_event_get_seq (l->data) > after_seq)
      g_ptr_array_add (out, copilot_event_ref (l->data));
  }
  return out;
}

/**
 * copilot_call_to_summary:
 *
 * Returns: (transfer full): the call summary of docs/protocol.md
 */
JsonNode *
copilot_call_to_summary (CopilotCall * self)
{
  JsonObject *obj = json_object_new ();
  JsonArray *legs = json_array_new ();
  JsonNode *node;

  json_object_set_string_member (obj, "call_id", self->id);
  json_object_set_string_member (obj, "state",
      self->ended ? "ended" : "active");
  json_object_set_string_member (obj, "from", self->from);
  json_object_set_string_member (obj, "to", self->to);
  json_object_set_int_member (obj, "started_ms", self->started_ms);
  if (self->ended)
    json_object_set_int_member (obj, "ended_ms", self->ended_ms);
  else
    json_object_set_null_member (obj, "ended_ms");
  json_object_set_int_member (obj, "last_seq",
      (gint64) copilot_call_get_last_seq (self));
  for (guint i = 0; i < self->speakers->len; i++)
    json_array_add_string_element (legs, g_ptr_array_index (self->speakers, i));
  json_object_set_array_member (obj, "legs", legs);
  json_object_set_string_member (obj, "end_reason", self->end_reason);
  node = json_node_init_object (json_node_alloc (), obj);
  json_object_unref (obj);
  return node;
}
