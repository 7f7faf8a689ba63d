/* The /live/ws endpoint: clients following one call or every call.
 *
 * Main context only. Each client has its own queue of messages not yet
 * handed to libsoup: a message goes to the connection only while its socket
 * can take more, so libsoup's own buffer stays small, and a client whose
 * queue grows past max-queue is dropped (1008) instead of buffering without
 * bound.
 *
 * Replays are not queued. A client keeps a cursor per call it follows (the
 * highest seq sent), and a call with stored events still to send sits in the
 * client's backlog; the backlog is read from the call's own event log only
 * while the socket can take more. So a replay costs a cursor, not a copy of
 * the log, and a client that never reads holds at most max-queue messages
 * however often it subscribes. Because every event, replayed or live, is
 * sent only above its call's cursor, a client gets each (call_id, seq) at
 * most once and in order, whatever it subscribes to. */
#include "config.h"

#include "copilot-live-hub.h"
#include "copilot-json-util.h"

#include <string.h>

#define CLOSE_POLICY 1008
#define CLOSE_GOING_AWAY 1001
/* Call ids one client may follow by name ("*" is not counted). */
#define MAX_SUBSCRIPTIONS 64
#define DEFAULT_MAX_CLIENTS 200

typedef struct
{
  CopilotCall *call;            /* owned; NULL until the call exists */
  guint64 sent;                 /* highest seq of @call sent (or skipped) */
  gboolean in_backlog;          /* stored events above @sent still to send */
} Cursor;

typedef struct
{
  CopilotLiveHub *hub;          /* borrowed */
  SoupWebsocketConnection *conn;
  GPollableOutputStream *out;   /* NULL if the stream cannot be polled */
  GHashTable *calls;            /* call ids subscribed by name */
  gboolean all;
  GHashTable *cursors;          /* call id -> Cursor, for followed calls */
  GQueue backlog;               /* call ids (owned) with a replay to send */
  GQueue pending;               /* GBytes */
  GSource *flush_source;
  gboolean dropped;
} Client;

struct _CopilotLiveHub
{
  GObject parent;

  SoupServer *server;           /* borrowed */
  char *path;
  CopilotCallTable *table;
  guint max_queue;
  guint max_message_size;
  guint keepalive_interval;
  guint max_clients;
  GHashTable *clients;          /* SoupWebsocketConnection -> Client */
};

G_DEFINE_TYPE (CopilotLiveHub, copilot_live_hub, G_TYPE_OBJECT);

static void
cursor_free (Cursor * cursor)
{
  g_clear_object (&cursor->call);
  g_free (cursor);
}

static void
client_free (Client * client)
{
  g_signal_handlers_disconnect_by_data (client->conn, client);
  if (client->flush_source != NULL) {
    g_source_destroy (client->flush_source);
    g_source_unref (client->flush_source);
  }
  g_queue_clear_full (&client->pending, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&client->backlog, g_free);
  g_hash_table_unref (client->cursors);
  g_hash_table_unref (client->calls);
  g_object_unref (client->conn);
  g_free (client);
}

static gboolean
is_open (Client * client)
{
  return !client->dropped && soup_websocket_connection_get_state (client->conn)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

static gboolean
can_write (Client * client)
{
  return client->out == NULL
      || g_pollable_output_stream_is_writable (client->out);
}

static void
send_now (Client * client, GBytes * bytes)
{
  soup_websocket_connection_send_message (client->conn,
      SOUP_WEBSOCKET_DATA_TEXT, bytes);
}

static GBytes *
event_bytes (CopilotEvent * event)
{
  const char *json = copilot_event_get_json (event);

  return g_bytes_new_with_free_func (json, strlen (json),
      (GDestroyNotify) copilot_event_unref, copilot_event_ref (event));
}

static gboolean
follows (Client * client, const char *id)
{
  return client->all || g_hash_table_contains (client->calls, id);
}

/* Returns the cursor of @call, creating it. A cursor still waiting for its
 * call keeps the client's last_seq; one left by an earlier call of the same
 * id (ids may be reused once a call has ended) starts again from 0. */
static Cursor *
cursor_for (Client * client, CopilotCall * call)
{
  const char *id = copilot_call_get_id (call);
  Cursor *cursor = g_hash_table_lookup (client->cursors, id);

  if (cursor == NULL) {
    cursor = g_new0 (Cursor, 1);
    g_hash_table_insert (client->cursors, g_strdup (id), cursor);
  }
  if (cursor->call != call) {
    if (cursor->call != NULL)
      cursor->sent = 0;
    g_set_object (&cursor->call, call);
  }
  return cursor;
}

static void
backlog_remove (Client * client, const char *id)
{
  GList *l = g_queue_find_custom (&client->backlog, id,
      (GCompareFunc) g_strcmp0);

  if (l != NULL) {
    g_free (l->data);
    g_queue_delete_link (&client->backlog, l);
  }
}

/* Forgets @id's cursor unless the client still follows it. */
static void
forget_unfollowed (Client * client, const char *id)
{
  if (follows (client, id))
    return;
  backlog_remove (client, id);
  g_hash_table_remove (client->cursors, id);
}

static void
clear_backlog (Client * client)
{
  GHashTableIter iter;
  Cursor *cursor;

  g_queue_clear_full (&client->backlog, g_free);
  g_hash_table_iter_init (&iter, client->cursors);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & cursor))
    cursor->in_backlog = FALSE;
}

/* Sends the head of the backlog while the socket can take more. Returns
 * FALSE once the socket is full. */
static gboolean
send_backlog (Client * client)
{
  CopilotLiveHub *self = client->hub;

  while (!g_queue_is_empty (&client->backlog)) {
    const char *id = g_queue_peek_head (&client->backlog);
    CopilotCall *call = copilot_call_table_lookup (self->table, id);
    g_autoptr (GPtrArray) events = NULL;
    Cursor *cursor;
    GBytes *bytes;
    guint i;

    if (call == NULL) {
      /* Forgotten since the subscription: nothing left to replay. */
      Cursor *c = g_hash_table_lookup (client->cursors, id);

      if (c != NULL)
        c->in_backlog = FALSE;
      g_free (g_queue_pop_head (&client->backlog));
      continue;
    }
    cursor = cursor_for (client, call);
    events = copilot_call_dup_events (call, cursor->sent);
    for (i = 0; i < events->len; i++) {
      CopilotEvent *event = g_ptr_array_index (events, i);

      if (!is_open (client) || !can_write (client))
        return FALSE;
      bytes = event_bytes (event);
      send_now (client, bytes);
      g_bytes_unref (bytes);
      cursor->sent = copilot_event_get_seq (event);
    }
    cursor->in_backlog = FALSE;
    g_free (g_queue_pop_head (&client->backlog));
  }
  return TRUE;
}

/* Hands the queue, then the backlog, to libsoup while the socket can take
 * more. Returns whether anything is left to send. */
static gboolean
pump (Client * client)
{
  GBytes *bytes;

  if (!is_open (client)) {
    g_queue_clear_full (&client->pending, (GDestroyNotify) g_bytes_unref);
    clear_backlog (client);
    return FALSE;
  }
  while (!g_queue_is_empty (&client->pending) && can_write (client)) {
    bytes = g_queue_pop_head (&client->pending);
    send_now (client, bytes);
    g_bytes_unref (bytes);
  }
  if (g_queue_is_empty (&client->pending))
    send_backlog (client);
  return !g_queue_is_empty (&client->pending)
      || !g_queue_is_empty (&client->backlog);
}

static gboolean flush_cb (GObject * stream, gpointer user_data);

static void
ensure_flush_source (Client * client)
{
  if (client->flush_source != NULL || client->out == NULL)
    return;
  client->flush_source =
      g_pollable_output_stream_create_source (client->out, NULL);
  g_source_set_callback (client->flush_source, G_SOURCE_FUNC (flush_cb),
      client, NULL);
  g_source_attach (client->flush_source, g_main_context_get_thread_default ());
}

static gboolean
flush_cb (GObject * stream, gpointer user_data)
{
  Client *client = user_data;

  if (pump (client))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&client->flush_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
flush (Client * client)
{
  if (pump (client))
    ensure_flush_source (client);
}

static void
drop_client (Client * client)
{
  client->dropped = TRUE;
  g_queue_clear_full (&client->pending, (GDestroyNotify) g_bytes_unref);
  clear_backlog (client);
  g_message ("live: dropping a client that cannot keep up (%u messages "
      "waiting)", client->hub->max_queue);
  soup_websocket_connection_close (client->conn, CLOSE_POLICY,
      "client too slow");
}

/* Takes @bytes. Everything queued counts against max-queue: live events,
 * call lists, errors and pongs. Replays do not pass here (see
 * send_backlog). */
static void
client_send (Client * client, GBytes * bytes)
{
  if (!is_open (client)) {
    g_bytes_unref (bytes);
    return;
  }
  if (g_queue_is_empty (&client->pending) && can_write (client)) {
    send_now (client, bytes);
    g_bytes_unref (bytes);
    return;
  }
  if (client->pending.length >= client->hub->max_queue) {
    g_bytes_unref (bytes);
    drop_client (client);
    return;
  }
  g_queue_push_tail (&client->pending, bytes);
  ensure_flush_source (client);
}

static void
client_send_node (Client * client, JsonNode * node)
{
  char *json = json_to_string (node, FALSE);

  client_send (client, g_bytes_new_take (json, strlen (json)));
}

static void
client_send_error (Client * client, const char *message)
{
  char *json = copilot_json_error (message);
  g_autofree char *with_type = NULL;

  /* {"type":"error","error":...} */
  with_type = g_strdup_printf ("{\"type\":\"error\",%s", json + 1);
  g_free (json);
  g_debug ("live: client error: %s", message);
  client_send (client, g_bytes_new (with_type, strlen (with_type)));
}

static void
client_send_calls (Client * client)
{
  CopilotLiveHub *self = client->hub;
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), NULL);
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "type", "calls");
  json_object_set_member (obj, "calls",
      copilot_call_table_to_summaries (self->table));
  json_node_take_object (node, obj);
  client_send_node (client, node);
}

/* Puts @id in the backlog: its stored events above max (cursor, @last_seq)
 * go out as the socket drains. @call may be NULL (not created yet). */
static void
replay (Client * client, const char *id, CopilotCall * call, guint64 last_seq)
{
  Cursor *cursor;

  if (call != NULL) {
    cursor = cursor_for (client, call);
  } else {
    cursor = g_hash_table_lookup (client->cursors, id);
    if (cursor == NULL) {
      cursor = g_new0 (Cursor, 1);
      g_hash_table_insert (client->cursors, g_strdup (id), cursor);
    }
  }
  cursor->sent = MAX (cursor->sent, last_seq);
  if (call == NULL || cursor->in_backlog)
    return;
  cursor->in_backlog = TRUE;
  g_queue_push_tail (&client->backlog, g_strdup (id));
}

static gboolean
get_seq (JsonNode * node, guint64 * out)
{
  gint64 v;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    *out = 0;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

/* A subscribe to something the client already follows is ignored: what it
 * has been sent stays sent, and nothing is queued for it. */
static void
subscribe (Client * client, JsonObject * msg)
{
  CopilotLiveHub *self = client->hub;
  const char *call_id = copilot_json_get_string (msg, "call_id");
  JsonNode *last = json_object_get_member (msg, "last_seq");

  if (call_id == NULL || call_id[0] == '\0') {
    client_send_error (client, "subscribe needs a call_id (an id or \"*\")");
    return;
  }
  if (g_str_equal (call_id, "*")) {
    JsonObject *seqs = NULL;
    g_autoptr (GPtrArray) calls = NULL;

    if (client->all)
      return;
    if (last != NULL && !JSON_NODE_HOLDS_NULL (last)) {
      if (!JSON_NODE_HOLDS_OBJECT (last)) {
        client_send_error (client, "last_seq for \"*\" must be an object "
            "{\"<call id>\": N}");
        return;
      }
      seqs = json_node_get_object (last);
    }
    client->all = TRUE;
    client_send_calls (client);
    /* Every call kept, active and ended, oldest first. */
    calls = copilot_call_table_list (self->table);
    for (guint i = calls->len; i > 0; i--) {
      CopilotCall *call = g_ptr_array_index (calls, i - 1);
      const char *id = copilot_call_get_id (call);
      JsonNode *n = seqs ? json_object_get_member (seqs, id) : NULL;
      guint64 seq = 0;

      if (n != NULL && !get_seq (n, &seq)) {
        client_send_error (client, "last_seq values must be integers >= 0");
        continue;
      }
      replay (client, id, call, seq);
    }
  } else {
    guint64 seq = 0;

    if (!copilot_json_valid_call_id (call_id)) {
      client_send_error (client, "invalid call_id");
      return;
    }
    if (g_hash_table_contains (client->calls, call_id))
      return;
    if (g_hash_table_size (client->calls) >= MAX_SUBSCRIPTIONS) {
      client_send_error (client, "too many subscriptions (at most "
          G_STRINGIFY (MAX_SUBSCRIPTIONS) " call ids; use \"*\")");
      return;
    }
    if (!get_seq (last, &seq)) {
      client_send_error (client, "last_seq must be an integer >= 0");
      return;
    }
    g_hash_table_add (client->calls, g_strdup (call_id));
    replay (client, call_id, copilot_call_table_lookup (self->table, call_id),
        seq);
  }
  flush (client);
}

static void
unsubscribe (Client * client, const char *call_id)
{
  if (g_str_equal (call_id, "*")) {
    GHashTableIter iter;
    const char *id;

    client->all = FALSE;
    g_hash_table_iter_init (&iter, client->cursors);
    while (g_hash_table_iter_next (&iter, (gpointer *) & id, NULL)) {
      if (g_hash_table_contains (client->calls, id))
        continue;
      backlog_remove (client, id);
      g_hash_table_iter_remove (&iter);
    }
  } else if (g_hash_table_remove (client->calls, call_id)) {
    forget_unfollowed (client, call_id);
  }
}

static void
handle_client_message (Client * client, const char *text, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = copilot_json_parse_object (text, length, &error);
  JsonObject *msg;
  const char *type;

  if (root == NULL) {
    client_send_error (client, error->message);
    return;
  }
  msg = json_node_get_object (root);
  type = copilot_json_get_string (msg, "type");
  if (type == NULL) {
    client_send_error (client, "message without a \"type\"");
  } else if (g_str_equal (type, "subscribe")) {
    subscribe (client, msg);
  } else if (g_str_equal (type, "unsubscribe")) {
    const char *call_id = copilot_json_get_string (msg, "call_id");

    if (call_id == NULL)
      client_send_error (client, "unsubscribe needs a call_id");
    else
      unsubscribe (client, call_id);
  } else if (g_str_equal (type, "ping")) {
    const char *pong = "{\"type\":\"pong\"}";

    client_send (client, g_bytes_new_static (pong, strlen (pong)));
  } else {
    g_autofree char *m = g_strdup_printf ("unknown message type \"%s\"",
        type);

    client_send_error (client, m);
  }
}

static void
message_cb (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  Client *client = user_data;
  gsize length;
  const char *text = g_bytes_get_data (message, &length);

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    client_send_error (client, "binary messages are not supported");
    return;
  }
  handle_client_message (client, text, length);
}

static void
closed_cb (SoupWebsocketConnection * conn, gpointer user_data)
{
  Client *client = user_data;

  g_debug ("live: client closed (%u)",
      soup_websocket_connection_get_close_code (conn));
  g_hash_table_remove (client->hub->clients, conn);
}

static void
websocket_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  CopilotLiveHub *self = user_data;
  Client *client;
  GOutputStream *out =
      g_io_stream_get_output_stream (soup_websocket_connection_get_io_stream
      (conn));

  if (g_hash_table_size (self->clients) >= self->max_clients) {
    g_message ("live: refusing a client: %u clients already",
        self->max_clients);
    soup_websocket_connection_close (conn, CLOSE_POLICY, "too many clients");
    return;
  }
  client = g_new0 (Client, 1);
  client->hub = self;
  client->conn = g_object_ref (conn);
  client->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->cursors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) cursor_free);
  g_queue_init (&client->backlog);
  g_queue_init (&client->pending);
  if (G_IS_POLLABLE_OUTPUT_STREAM (out)
      && g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out)))
    client->out = G_POLLABLE_OUTPUT_STREAM (out);
  else
    g_debug ("live: output stream cannot be polled; queue unbounded");

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      self->max_message_size);
  soup_websocket_connection_set_keepalive_interval (conn,
      self->keepalive_interval);
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), client);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), client);
  g_hash_table_insert (self->clients, conn, client);
  g_debug ("live: client connected");
}

static void
table_event_cb (CopilotCallTable * table, CopilotCall * call,
    CopilotEvent * event, gpointer user_data)
{
  CopilotLiveHub *self = user_data;
  const char *id = copilot_call_get_id (call);
  guint64 seq = copilot_event_get_seq (event);
  GHashTableIter iter;
  Client *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & client)) {
    Cursor *cursor;

    if (!follows (client, id) || !is_open (client))
      continue;
    cursor = cursor_for (client, call);
    /* A call with a replay under way gets this event from its log, after
     * the older ones. */
    if (cursor->in_backlog || seq <= cursor->sent)
      continue;
    cursor->sent = seq;
    client_send (client, event_bytes (event));
  }
}

/* Lets go of calls the table has forgotten, so that a cursor does not keep
 * a call's event log alive, and a later call with the same id starts from
 * seq 1 again. @kept: the calls still in the table. */
static void
prune_cursors (Client * client, GHashTable * kept)
{
  GHashTableIter iter;
  const char *id;
  Cursor *cursor;

  g_hash_table_iter_init (&iter, client->cursors);
  while (g_hash_table_iter_next (&iter, (gpointer *) & id,
          (gpointer *) & cursor)) {
    if (cursor->call == NULL || g_hash_table_contains (kept, cursor->call))
      continue;
    if (cursor->in_backlog)
      backlog_remove (client, id);
    if (g_hash_table_contains (client->calls, id)) {
      g_clear_object (&cursor->call);
      cursor->sent = 0;
      cursor->in_backlog = FALSE;
    } else {
      g_hash_table_iter_remove (&iter);
    }
  }
}

static void
calls_changed_cb (CopilotCallTable * table, gpointer user_data)
{
  CopilotLiveHub *self = user_data;
  g_autoptr (GPtrArray) calls = copilot_call_table_list (self->table);
  g_autoptr (GHashTable) kept = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  Client *client;

  for (guint i = 0; i < calls->len; i++)
    g_hash_table_add (kept, g_ptr_array_index (calls, i));
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & client)) {
    prune_cursors (client, kept);
    if (client->all)
      client_send_calls (client);
  }
}

static void
copilot_live_hub_dispose (GObject * object)
{
  CopilotLiveHub *self = COPILOT_LIVE_HUB (object);

  if (self->server != NULL) {
    soup_server_remove_handler (self->server, self->path);
    self->server = NULL;
  }
  if (self->table != NULL) {
    g_signal_handlers_disconnect_by_data (self->table, self);
    g_clear_object (&self->table);
  }
  g_clear_pointer (&self->clients, g_hash_table_unref);
  G_OBJECT_CLASS (copilot_live_hub_parent_class)->dispose (object);
}

static void
copilot_live_hub_finalize (GObject * object)
{
  g_free (COPILOT_LIVE_HUB (object)->path);
  G_OBJECT_CLASS (copilot_live_hub_parent_class)->finalize (object);
}

static void
copilot_live_hub_class_init (CopilotLiveHubClass * klass)
{
  G_OBJECT_CLASS (klass)->dispose = copilot_live_hub_dispose;
  G_OBJECT_CLASS (klass)->finalize = copilot_live_hub_finalize;
}

static void
copilot_live_hub_init (CopilotLiveHub * self)
{
  self->clients = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) client_free);
}

/**
 * copilot_live_hub_new:
 * @server: the server to add the endpoint to
 * @path: the endpoint, e.g. "/live/ws"
 * @table: the calls to follow
 * @max_queue: messages that may wait per client before it is dropped
 * @max_message_size: largest client message in bytes
 * @keepalive_interval: seconds between pings, 0 for none
 *
 * Returns: (transfer full): the endpoint, serving at once
 */
CopilotLiveHub *
copilot_live_hub_new (SoupServer * server, const char *path,
    CopilotCallTable * table, guint max_queue, guint max_message_size,
    guint keepalive_interval)
{
  CopilotLiveHub *self = g_object_new (COPILOT_TYPE_LIVE_HUB, NULL);

  self->server = server;
  self->path = g_strdup (path);
  self->table = g_object_ref (table);
  self->max_queue = MAX (max_queue, 1);
  self->max_message_size = max_message_size;
  self->keepalive_interval = keepalive_interval;
  self->max_clients = DEFAULT_MAX_CLIENTS;
  g_signal_connect (table, "event", G_CALLBACK (table_event_cb), self);
  g_signal_connect (table, "calls-changed", G_CALLBACK (calls_changed_cb),
      self);
  soup_server_add_websocket_handler (server, path, NULL, NULL, websocket_cb,
      self, NULL);
  return self;
}

/**
 * copilot_live_hub_set_max_clients:
 * @self: a hub
 * @max_clients: sockets open at once (at least 1); one more is closed at
 *   once with 1008 "too many clients"
 *
 * The default is 200 (the [live] max-live-clients key of the daemon).
 */
void
copilot_live_hub_set_max_clients (CopilotLiveHub * self, guint max_clients)
{
  self->max_clients = MAX (max_clients, 1);
}

guint
copilot_live_hub_get_n_clients (CopilotLiveHub * self)
{
  return g_hash_table_size (self->clients);
}

void
copilot_live_hub_close_all (CopilotLiveHub * self)
{
  GHashTableIter iter;
  Client *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & client)) {
    GBytes *bytes;

    if (soup_websocket_connection_get_state (client->conn) !=
        SOUP_WEBSOCKET_STATE_OPEN)
      continue;
    /* What is queued (at most max-queue messages) goes before the close;
     * a replay still under way is cut short. */
    while ((bytes = g_queue_pop_head (&client->pending)) != NULL) {
      send_now (client, bytes);
      g_bytes_unref (bytes);
    }
    clear_backlog (client);
    soup_websocket_connection_close (client->conn, CLOSE_GOING_AWAY,
        "server stopping");
  }
}
