/* Every active call and the most recent ended ones.
 *
 * Main context only. The table relays every call's events as
 * #CopilotCallTable::event and says when the set of calls or their state
 * changed with #CopilotCallTable::calls-changed. */
#include "config.h"

#include "copilot-call-table.h"

struct _CopilotCallTable
{
  GObject parent;

  GHashTable *active;           /* id -> CopilotCall */
  GQueue ended;                 /* CopilotCall, newest first */
  guint max_events;
  guint max_ended;
  CopilotMetrics *metrics;      /* borrowed from the daemon */
};

G_DEFINE_TYPE (CopilotCallTable, copilot_call_table, G_TYPE_OBJECT);

enum
{
  SIGNAL_EVENT,
  SIGNAL_CALLS_CHANGED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
forget_call (CopilotCallTable * self, CopilotCall * call)
{
  g_signal_handlers_disconnect_by_data (call, self);
  g_object_unref (call);
}

static void
copilot_call_table_dispose (GObject * object)
{
  CopilotCallTable *self = COPILOT_CALL_TABLE (object);
  CopilotCall *call;

  if (self->active != NULL) {
    GHashTableIter iter;

    g_hash_table_iter_init (&iter, self->active);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & call)) {
      g_hash_table_iter_steal (&iter);
      forget_call (self, call);
    }
    g_clear_pointer (&self->active, g_hash_table_unref);
  }
  while ((call = g_queue_pop_head (&self->ended)) != NULL)
    forget_call (self, call);
  G_OBJECT_CLASS (copilot_call_table_parent_class)->dispose (object);
}

static void
copilot_call_table_class_init (CopilotCallTableClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = copilot_call_table_dispose;

  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
      COPILOT_TYPE_CALL, COPILOT_TYPE_EVENT);
  signals[SIGNAL_CALLS_CHANGED] = g_signal_new ("calls-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

static void
copilot_call_table_init (CopilotCallTable * self)
{
  self->active = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->ended);
}

CopilotCallTable *
copilot_call_table_new (guint max_events_per_call, guint max_ended_calls,
    CopilotMetrics * metrics)
{
  CopilotCallTable *self = g_object_new (COPILOT_TYPE_CALL_TABLE, NULL);

  self->max_events = max_events_per_call;
  self->max_ended = max_ended_calls;
  self->metrics = metrics;
  return self;
}

static void
call_event_cb (CopilotCall * call, CopilotEvent * event, gpointer user_data)
{
  CopilotCallTable *self = user_data;

  self->metrics->events++;
  if (g_str_equal (copilot_event_get_type_name (event), "transcript.final")) {
    JsonObject *obj = json_node_get_object (copilot_event_get_node (event));

    copilot_metrics_observe_latency (self->metrics,
        json_object_get_int_member_with_default (obj, "latency_ms", 0));
  }
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, call, event);
  /* A new leg shows up in the summaries with the call's start. */
  if (g_str_equal (copilot_event_get_type_name (event), "call.started"))
    g_signal_emit (self, signals[SIGNAL_CALLS_CHANGED], 0);
}

static void
call_ended_cb (CopilotCall * call, gpointer user_data)
{
  CopilotCallTable *self = user_data;
  const char *id = copilot_call_get_id (call);

  if (g_hash_table_lookup (self->active, id) != call)
    return;
  g_hash_table_steal (self->active, id);
  g_queue_push_head (&self->ended, call);
  while (self->ended.length > self->max_ended)
    forget_call (self, g_queue_pop_tail (&self->ended));
  g_signal_emit (self, signals[SIGNAL_CALLS_CHANGED], 0);
}

/**
 * copilot_call_table_lookup:
 *
 * Returns: (transfer none) (nullable): the active call @id, or else the most
 *   recent ended one
 */
CopilotCall *
copilot_call_table_lookup (CopilotCallTable * self, const char *id)
{
  CopilotCall *call = g_hash_table_lookup (self->active, id);

  if (call != NULL)
    return call;
  for (GList * l = self->ended.head; l != NULL; l = l->next) {
    if (g_str_equal (copilot_call_get_id (l->data), id))
      return l->data;
  }
  return NULL;
}

/**
 * copilot_call_table_lookup_active:
 *
 * Returns: (transfer none) (nullable): the active call @id
 */
CopilotCall *
copilot_call_table_lookup_active (CopilotCallTable * self, const char *id)
{
  return g_hash_table_lookup (self->active, id);
}

/**
 * copilot_call_table_create:
 * @self: a table
 * @id: an id no active call has
 *
 * Returns: (transfer none): a new active call
 */
CopilotCall *
copilot_call_table_create (CopilotCallTable * self, const char *id)
{
  CopilotCall *call;

  g_return_val_if_fail (!g_hash_table_contains (self->active, id), NULL);

  call = copilot_call_new (id, self->max_events);
  g_hash_table_insert (self->active, (gpointer) copilot_call_get_id (call),
      call);
  g_signal_connect (call, "event", G_CALLBACK (call_event_cb), self);
  g_signal_connect (call, "ended", G_CALLBACK (call_ended_cb), self);
  self->metrics->calls++;
  g_signal_emit (self, signals[SIGNAL_CALLS_CHANGED], 0);
  return call;
}

guint
copilot_call_table_get_n_active (CopilotCallTable * self)
{
  return g_hash_table_size (self->active);
}

/**
 * copilot_call_table_count_active:
 * @with_audio: count the calls with audio legs, or those without
 *
 * Audio calls and calls fed through the REST transcript API have separate
 * limits, so that one kind cannot lock the other out.
 *
 * Returns: the number of active calls of that kind
 */
guint
copilot_call_table_count_active (CopilotCallTable * self, gboolean with_audio)
{
  GHashTableIter iter;
  gpointer call;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->active);
  while (g_hash_table_iter_next (&iter, NULL, &call)) {
    if (!copilot_call_has_audio (call) == !with_audio)
      n++;
  }
  return n;
}

static gint
newest_first (gconstpointer a, gconstpointer b)
{
  CopilotCall *ca = *(CopilotCall **) a;
  CopilotCall *cb = *(CopilotCall **) b;
  gint64 sa = copilot_call_get_started_ms (ca);
  gint64 sb = copilot_call_get_started_ms (cb);

  if (sa != sb)
    return sa < sb ? 1 : -1;
  return g_strcmp0 (copilot_call_get_id (ca), copilot_call_get_id (cb));
}

/**
 * copilot_call_table_list:
 *
 * Returns: (transfer full) (element-type CopilotCall): active calls, newest
 *   first, then the ended ones, most recently ended first
 */
GPtrArray *
copilot_call_table_list (CopilotCallTable * self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer call;

  g_hash_table_iter_init (&iter, self->active);
  while (g_hash_table_iter_next (&iter, NULL, &call))
    g_ptr_array_add (out, g_object_ref (call));
  g_ptr_array_sort (out, newest_first);
  for (GList * l = self->ended.head; l != NULL; l = l->next)
    g_ptr_array_add (out, g_object_ref (l->data));
  return out;
}

/**
 * copilot_call_table_to_summaries:
 *
 * Returns: (transfer full): a JSON array of call summaries, in the order of
 *   copilot_call_table_list()
 */
JsonNode *
copilot_call_table_to_summaries (CopilotCallTable * self)
{
  g_autoptr (GPtrArray) calls = copilot_call_table_list (self);
  JsonArray *array = json_array_sized_new (calls->len);
  JsonNode *node;

  for (guint i = 0; i < calls->len; i++)
    json_array_add_element (array,
        copilot_call_to_summary (g_ptr_array_index (calls, i)));
  node = json_node_init_array (json_node_alloc (), array);
  json_array_unref (array);
  return node;
}

/**
 * copilot_call_table_end_all:
 * @self: a table
 * @reason: the end reason of every active call
 */
void
copilot_call_table_end_all (CopilotCallTable * self, const char *reason)
{
  g_autoptr (GPtrArray) calls = copilot_call_table_list (self);

  for (guint i = 0; i < calls->len; i++)
    copilot_call_end (g_ptr_array_index (calls, i), reason);
}
