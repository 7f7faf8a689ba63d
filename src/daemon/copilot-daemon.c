/* copilotd: the server, the calls and the endpoints, on one main context.
 *
 * The daemon belongs to the thread-default main context it is started on:
 * the SoupServer, every WebSocket and every pipeline bus watch are attached
 * there. It serves the Exotel ingest (CopilotIngest), /live/ws
 * (CopilotLiveHub), the /live page (copilot-live-ui.c) and the REST API of
 * docs/protocol.md, below. */
#include "config.h"

#include "copilot-daemon.h"
#include "copilot-error.h"
#include "copilot-ingest.h"
#include "copilot-json-util.h"
#include "copilot-live-hub.h"
#include "copilot-live-ui.h"
#include "copilot-leg.h"

#include <gst/gst.h>

#include <string.h>

#define LIVE_PATH "/live/ws"
#define LIVE_UI_PATH "/live"
#define MAX_SPEAKER_TEXT (16 * 1024)

struct _CopilotDaemon
{
  GObject parent;

  CopilotDaemonConfig *config;
  CopilotMetrics metrics;
  SoupServer *server;
  CopilotCallTable *table;
  CopilotIngest *ingest;
  CopilotLiveHub *hub;
  gint64 started_us;
  guint port;
  gboolean stopped;
};

G_DEFINE_TYPE (CopilotDaemon, copilot_daemon, G_TYPE_OBJECT);

static void
copilot_daemon_dispose (GObject * object)
{
  CopilotDaemon *self = COPILOT_DAEMON (object);

  copilot_daemon_stop (self);
  g_clear_object (&self->ingest);
  g_clear_object (&self->hub);
  g_clear_object (&self->table);
  g_clear_object (&self->server);
  G_OBJECT_CLASS (copilot_daemon_parent_class)->dispose (object);
}

static void
copilot_daemon_finalize (GObject * object)
{
  CopilotDaemon *self = COPILOT_DAEMON (object);

  copilot_daemon_config_free (self->config);
  G_OBJECT_CLASS (copilot_daemon_parent_class)->finalize (object);
}

static void
copilot_daemon_class_init (CopilotDaemonClass * klass)
{
  G_OBJECT_CLASS (klass)->dispose = copilot_daemon_dispose;
  G_OBJECT_CLASS (klass)->finalize = copilot_daemon_finalize;
}

static void
copilot_daemon_init (CopilotDaemon * self)
{
}

/**
 * copilot_daemon_new:
 * @config: (transfer full): the settings
 *
 * Returns: (transfer full): a daemon, not serving yet
 */
CopilotDaemon *
copilot_daemon_new (CopilotDaemonConfig * config)
{
  CopilotDaemon *self = g_object_new (COPILOT_TYPE_DAEMON, NULL);

  self->config = config;
  return self;
}

/* ---- REST ---- */

static void
respond_node (SoupServerMessage * msg, guint status, JsonNode * node)
{
  char *body = json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
respond_error (SoupServerMessage * msg, guint status, const char *message)
{
  char *body = copilot_json_error (message);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, strlen (body));
}

static JsonNode *
object_node (JsonObject * obj)
{
  JsonNode *node = json_node_init_object (json_node_alloc (), obj);

  json_object_unref (obj);
  return node;
}

static void
healthz_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  CopilotDaemon *self = user_data;
  JsonObject *obj;
  g_autoptr (JsonNode) node = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  obj = json_object_new ();
  json_object_set_string_member (obj, "status", "ok");
  json_object_set_int_member (obj, "active_calls",
      copilot_call_table_get_n_active (self->table));
  json_object_set_int_member (obj, "uptime_s",
      (g_get_monotonic_time () - self->started_us) / G_USEC_PER_SEC);
  node = object_node (obj);
  respond_node (msg, SOUP_STATUS_OK, node);
}

static void
metrics_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  CopilotDaemon *self = user_data;
  char *text;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  text = copilot_metrics_to_prometheus (&self->metrics,
      copilot_call_table_get_n_active (self->table));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4",
      SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
call_summary_response (SoupServerMessage * msg, guint status,
    CopilotCall * call)
{
  JsonObject *obj = json_object_new ();
  g_autoptr (JsonNode) node = NULL;

  json_object_set_member (obj, "call", copilot_call_to_summary (call));
  node = object_node (obj);
  respond_node (msg, status, node);
}

static void
post_transcript (CopilotDaemon * self, SoupServerMessage * msg, const char *id)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) reply = NULL;
  JsonObject *obj;
  const char *speaker, *text;
  CopilotCall *call;
  CopilotEvent *event;
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  if (length > self->config->max_body_size) {
    respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "request body too large");
    return;
  }
  root = copilot_json_parse_object (data ? data : "", length, &error);
  if (root == NULL) {
    respond_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  obj = json_node_get_object (root);
  speaker = copilot_json_get_string (obj, "speaker");
  text = copilot_json_get_string (obj, "text");
  if (speaker == NULL || (!g_str_equal (speaker, "agent")
          && !g_str_equal (speaker, "customer"))) {
    respond_error (msg, SOUP_STATUS_BAD_REQUEST,
        "\"speaker\" must be \"agent\" or \"customer\"");
    return;
  }
  if (text == NULL || strlen (text) > MAX_SPEAKER_TEXT) {
    respond_error (msg, SOUP_STATUS_BAD_REQUEST,
        "\"text\" must be a string of at most 16 KiB");
    return;
  }
  call = copilot_call_table_lookup (self->table, id);
  if (call != NULL && copilot_call_is_ended (call)) {
    respond_error (msg, SOUP_STATUS_CONFLICT, "the call has ended");
    return;
  }
  if (call == NULL) {
    /* Calls fed through this API have their own limit: they cannot lock
     * Exotel streams out. */
    if (copilot_call_table_count_active (self->table, FALSE) >=
        self->config->max_calls) {
      respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many calls");
      return;
    }
    call = copilot_call_table_create (self->table, id);
  }
  event = copilot_call_add_transcript (call, speaker, text);
  obj = json_object_new ();
  json_object_set_member (obj, "event",
      json_node_copy (copilot_event_get_node (event)));
  reply = object_node (obj);
  respond_node (msg, SOUP_STATUS_CREATED, reply);
}

/* /api/calls, /api/calls/{id}, /api/calls/{id}/transcript,
 * /api/calls/{id}/end */
static void
calls_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  CopilotDaemon *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = NULL;
  g_autofree char *id = NULL;
  const char *action;
  CopilotCall *call;
  guint n;

  g_assert (g_str_has_prefix (path, "/api/calls"));
  parts = g_strsplit (path + strlen ("/api/calls"), "/", -1);
  n = g_strv_length (parts);
  /* "" -> /api/calls; "", id -> /api/calls/{id}; "", id, action */
  if (n <= 1 || (n == 2 && parts[1][0] == '\0')) {
    if (n == 1 && parts[0][0] != '\0') {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
      return;
    }
    if (method != SOUP_METHOD_GET) {
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    } else {
      JsonObject *obj = json_object_new ();
      g_autoptr (JsonNode) node = NULL;

      json_object_set_member (obj, "calls",
          copilot_call_table_to_summaries (self->table));
      node = object_node (obj);
      respond_node (msg, SOUP_STATUS_OK, node);
    }
    return;
  }
  if (n > 3 || parts[0][0] != '\0') {
    respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
    return;
  }
  id = g_uri_unescape_string (parts[1], NULL);
  if (!copilot_json_valid_call_id (id)) {
    respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid call id");
    return;
  }
  action = n == 3 ? parts[2] : NULL;
  call = copilot_call_table_lookup (self->table, id);

  if (action == NULL) {
    JsonObject *obj;
    JsonArray *array;
    g_autoptr (GPtrArray) events = NULL;
    g_autoptr (JsonNode) node = NULL;

    if (method != SOUP_METHOD_GET) {
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    if (call == NULL) {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such call");
      return;
    }
    events = copilot_call_dup_events (call, 0);
    array = json_array_sized_new (events->len);
    for (guint i = 0; i < events->len; i++)
      json_array_add_element (array,
          json_node_copy (copilot_event_get_node (g_ptr_array_index (events,
                      i))));
    obj = json_object_new ();
    json_object_set_member (obj, "call", copilot_call_to_summary (call));
    json_object_set_array_member (obj, "events", array);
    node = object_node (obj);
    respond_node (msg, SOUP_STATUS_OK, node);
  } else if (g_str_equal (action, "transcript")) {
    if (method != SOUP_METHOD_POST)
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    else
      post_transcript (self, msg, id);
  } else if (g_str_equal (action, "end")) {
    if (method != SOUP_METHOD_POST) {
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    } else if (call == NULL) {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such call");
    } else {
      g_autoptr (CopilotCall) keep = g_object_ref (call);

      copilot_call_end (call, "stopped");
      call_summary_response (msg, SOUP_STATUS_OK, call);
    }
  } else {
    respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
  }
}

static void
not_found_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
}

/* Refuses a body over the limit before it is read.  A chunked body has no
 * declared length and libsoup would store all of it before a handler could
 * look (300 MB took the daemon to 629 MB): bodies must declare their
 * length. */
static void
got_headers_cb (SoupServerMessage * msg, gpointer user_data)
{
  CopilotDaemon *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF) {
    respond_error (msg, SOUP_STATUS_LENGTH_REQUIRED,
        "request body without Content-Length");
    return;
  }
  if (encoding == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) >
      (goffset) self->config->max_body_size)
    respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "request body too large");
}

static void
request_started_cb (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (got_headers_cb),
      user_data, 0);
}

/**
 * copilot_daemon_start:
 * @self: a daemon
 * @error: return location for an error
 *
 * Listens on the configured address and port (0: any free port) and serves
 * on the thread-default main context.
 *
 * Returns: %TRUE if listening
 */
/* Checks, before accepting calls, that an asrsink can start with the
 * configured models and decoder options (cheap: the files and options are
 * checked, and the pool starts loading a decoder in the background, which
 * the first call then finds ready). */
static gboolean
check_recogniser (const CopilotDaemonConfig * config, GError ** error)
{
  g_autoptr (GstElement) probe = gst_element_factory_make ("asrsink", NULL);
  g_autoptr (GstBus) bus = gst_bus_new ();
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *dbg = NULL;
  GstStateChangeReturn ret;

  if (probe == NULL) {
    g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_FAILED,
        "The copilot GStreamer plugin (asrsink) is not installed or not on "
        "GST_PLUGIN_PATH");
    return FALSE;
  }
  gst_element_set_bus (probe, bus);
  if (config->decoder_options != NULL)
    g_object_set (probe, "decoder-options", config->decoder_options, NULL);
  g_object_set (probe, "async", FALSE, NULL);
  ret = gst_element_set_state (probe, GST_STATE_PAUSED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gst_element_set_state (probe, GST_STATE_NULL);
  gst_element_set_bus (probe, NULL);
  if (ret != GST_STATE_CHANGE_FAILURE)
    return TRUE;
  if (msg != NULL)
    gst_message_parse_error (msg, &err, &dbg);
  g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
      "[asr] speech recognition cannot start%s: %s%s%s",
      config->decoder_options ? " (check decoder-options)" : "",
      err ? err->message : "unknown error", dbg ? " " : "", dbg ? dbg : "");
  return FALSE;
}

gboolean
copilot_daemon_start (CopilotDaemon * self, GError ** error)
{
  const CopilotDaemonConfig *config = self->config;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  GSList *uris;

  g_return_val_if_fail (self->server == NULL, FALSE);

  if (config->asr) {
    if (!check_recogniser (config, error))
      return FALSE;
    copilot_leg_set_default_decoder_options (config->decoder_options);
  }
  self->server = soup_server_new ("server-header", "copilotd/" VERSION, NULL);
  self->table = copilot_call_table_new (config->max_events_per_call,
      config->max_ended_calls, &self->metrics);
  self->ingest = copilot_ingest_new (self->server, config, self->table,
      &self->metrics);
  self->hub = copilot_live_hub_new (self->server, LIVE_PATH, self->table,
      config->live_max_queue, config->live_max_message_size,
      config->keepalive_interval);
  copilot_live_hub_set_max_clients (self->hub, config->live_max_clients);
  copilot_live_ui_add_handler (self->server, LIVE_UI_PATH);
  soup_server_add_handler (self->server, "/api/calls", calls_cb, self, NULL);
  soup_server_add_handler (self->server, "/healthz", healthz_cb, self, NULL);
  soup_server_add_handler (self->server, "/metrics", metrics_cb, self, NULL);
  soup_server_add_handler (self->server, NULL, not_found_cb, self, NULL);
  g_signal_connect_object (self->server, "request-started",
      G_CALLBACK (request_started_cb), self, 0);

  if (g_str_equal (config->address, "localhost"))
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (config->address);
  addr = g_inet_socket_address_new (inet, config->port);
  if (!soup_server_listen (self->server, addr, 0, error)) {
    g_prefix_error (error, "Cannot listen on %s:%u: ", config->address,
        config->port);
    return FALSE;
  }
  uris = soup_server_get_uris (self->server);
  if (uris != NULL)
    self->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  self->started_us = g_get_monotonic_time ();
  g_message ("listening on http://%s:%u (ingest %s, live %s)",
      config->address, self->port, config->exotel_path, LIVE_PATH);
  return TRUE;
}

guint
copilot_daemon_get_port (CopilotDaemon * self)
{
  return self->port;
}

/**
 * copilot_daemon_stop:
 *
 * Ends every call ("stopped"), stopping its pipelines, starts closing every
 * WebSocket and stops listening. Iterate the main context until
 * copilot_daemon_is_quiet() for the close frames to go out.
 */
void
copilot_daemon_stop (CopilotDaemon * self)
{
  if (self->stopped || self->server == NULL)
    return;
  self->stopped = TRUE;
  g_message ("stopping: %u active calls",
      copilot_call_table_get_n_active (self->table));
  /* Streams first, so that they close with 1001 rather than with the 1000
   * of an ended leg; the calls' last events still reach /live. */
  copilot_ingest_close_all (self->ingest);
  copilot_call_table_end_all (self->table, "stopped");
  copilot_live_hub_close_all (self->hub);
  soup_server_disconnect (self->server);
}

/**
 * copilot_daemon_is_quiet:
 *
 * Returns: whether no WebSocket is open any more
 */
gboolean
copilot_daemon_is_quiet (CopilotDaemon * self)
{
  return self->server == NULL
      || (copilot_ingest_get_n_streams (self->ingest) == 0
      && copilot_live_hub_get_n_clients (self->hub) == 0);
}

/**
 * copilot_daemon_get_call_table:
 *
 * Returns: (transfer none): the calls
 */
CopilotCallTable *
copilot_daemon_get_call_table (CopilotDaemon * self)
{
  return self->table;
}

const CopilotMetrics *
copilot_daemon_get_metrics (CopilotDaemon * self)
{
  return &self->metrics;
}

guint
copilot_daemon_get_n_streams (CopilotDaemon * self)
{
  return self->ingest ? copilot_ingest_get_n_streams (self->ingest) : 0;
}

guint
copilot_daemon_get_n_live_clients (CopilotDaemon * self)
{
  return self->hub ? copilot_live_hub_get_n_clients (self->hub) : 0;
}
