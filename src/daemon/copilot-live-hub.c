/* The /live/ws endpoint: clients following one call or every call.
 *
 * Main context only. Each client has its own queue of messages not yet
 * handed to libsoup: a message goes to the connection only while its socket
 * can take more, so libsoup's own buffer stays small, and a client whose
 * queue grows past max-queue is dropped (1008) instead of buffering without
 * bound. Replays and live events are queued in one order, so a client sees
 * every event of a call exactly once and in sequence. */
#include "config.h"

#include "copilot-live-hub.h"
#include "copilot-json-util.h"

#include <string.h>

#define CLOSE_POLICY 1008
#define CLOSE_GOING_AWAY 1001

typedef struct
{
  CopilotLiveHub *hub;          /* borrowed */
  SoupWebsocketConnection *conn;
  GPollableOutputStream *out;   /* NULL if the stream cannot be polled */
  GHashTable *calls;            /* subscribed call ids */
  gboolean all;
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
  GHashTable *clients;          /* SoupWebsocketConnection -> Client */
};

G_DEFINE_TYPE (CopilotLiveHub, copilot_live_hub, G_TYPE_OBJECT);

static void
client_free (Client * client)
{
  g_signal_handlers_disconnect_by_data (client->conn, client);
  if (client->flush_source != NULL) {
    g_source_destroy (client->flush_source);
    g_source_unref (client->flush_source);
  }
  g_queue_clear_full (&client->pending, (GDestroyNotify) g_bytes_unref);
  g_hash_table_unref (client->calls);
  g_object_unref (client->conn);
  g_free (client);
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
  GBytes *bytes;

  while (!g_queue_is_empty (&client->pending) && can_write (client)) {
    bytes = g_queue_pop_head (&client->pending);
    send_now (client, bytes);
    g_bytes_unref (bytes);
  }
  if (!g_queue_is_empty (&client->pending))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&client->flush_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
drop_client (Client * client)
{
  client->dropped = TRUE;
  g_queue_clear_full (&client->pending, (GDestroyNotify) g_bytes_unref);
  g_message ("live: dropping a client that cannot keep up (%u messages "
      "waiting)", client->hub->max_queue);
  soup_websocket_connection_close (client->conn, CLOSE_POLICY,
      "client too slow");
}

/* Takes @bytes. A replay may queue more than max-queue at once: the bound
 * is applied to live traffic, which is what grows without end. */
static void
client_send (Client * client, GBytes * bytes, gboolean live)
{
  if (client->dropped || soup_websocket_connection_get_state (client->conn)
      != SOUP_WEBSOCKET_STATE_OPEN) {
    g_bytes_unref (bytes);
    return;
  }
  if (g_queue_is_empty (&client->pending) && can_write (client)) {
    send_now (client, bytes);
    g_bytes_unref (bytes);
    return;
  }
  if (live && client->pending.length >= client->hub->max_queue) {
    g_bytes_unref (bytes);
    drop_client (client);
    return;
  }
  g_queue_push_tail (&client->pending, bytes);
  ensure_flush_source (client);
}

static void
client_send_event (Client * client, CopilotEvent * event, gboolean live)
{
  const char *json = copilot_event_get_json (event);

  client_send (client, g_bytes_new_with_free_func (json, strlen (json),
          (GDestroyNotify) copilot_event_unref, copilot_event_ref (event)),
      live);
}

static void
client_send_node (Client * client, JsonNode * node)
{
  char *json = json_to_string (node, FALSE);

  client_send (client, g_bytes_new_take (json, strlen (json)), TRUE);
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
  client_send (client, g_bytes_new (with_type, strlen (with_type)), TRUE);
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

static void
replay (Client * client, CopilotCall * call, guint64 last_seq)
{
  g_autoptr (GPtrArray) events = copilot_call_dup_events (call, last_seq);

  for (guint i = 0; i < events->len; i++)
    client_send_event (client, g_ptr_array_index (events, i), FALSE);
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
    /* Every active call, and the ended ones the client already knows. */
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
      if (copilot_call_is_ended (call) && n == NULL)
        continue;
      replay (client, call, seq);
    }
    return;
  } else {
    CopilotCall *call;
    guint64 seq = 0;

    if (!get_seq (last, &seq)) {
      client_send_error (client, "last_seq must be an integer >= 0");
      return;
    }
    g_hash_table_add (client->calls, g_strdup (call_id));
    call = copilot_call_table_lookup (self->table, call_id);
    if (call != NULL)
      replay (client, call, seq);
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
    else if (g_str_equal (call_id, "*"))
      client->all = FALSE;
    else
      g_hash_table_remove (client->calls, call_id);
  } else if (g_str_equal (type, "ping")) {
    const char *pong = "{\"type\":\"pong\"}";

    client_send (client, g_bytes_new_static (pong, strlen (pong)), TRUE);
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
  Client *client = g_new0 (Client, 1);
  GOutputStream *out =
      g_io_stream_get_output_stream (soup_websocket_connection_get_io_stream
      (conn));

  client->hub = self;
  client->conn = g_object_ref (conn);
  client->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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
  GHashTableIter iter;
  Client *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & client)) {
    if (client->all || g_hash_table_contains (client->calls, id))
      client_send_event (client, event, TRUE);
  }
}

static void
calls_changed_cb (CopilotCallTable * table, gpointer user_data)
{
  CopilotLiveHub *self = user_data;
  GHashTableIter iter;
  Client *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & client)) {
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
  g_signal_connect (table, "event", G_CALLBACK (table_event_cb), self);
  g_signal_connect (table, "calls-changed", G_CALLBACK (calls_changed_cb),
      self);
  soup_server_add_websocket_handler (server, path, NULL, NULL, websocket_cb,
      self, NULL);
  return self;
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
    /* What is queued (at most max-queue messages) goes before the close. */
    while ((bytes = g_queue_pop_head (&client->pending)) != NULL) {
      send_now (client, bytes);
      g_bytes_unref (bytes);
    }
    soup_websocket_connection_close (client->conn, CLOSE_GOING_AWAY,
        "server stopping");
  }
}
