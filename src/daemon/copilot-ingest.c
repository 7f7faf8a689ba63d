/* The Exotel ingest WebSocket endpoint: one stream per leg of a call, or
 * one stream carrying both legs as its inbound and outbound tracks.
 *
 * Main context only. A handler on the endpoint's path checks the client's
 * address and HTTP Basic credentials before the WebSocket handshake, so a
 * refused upgrade gets 401 and creates nothing. Frames before `start` are
 * looked at here; `start` names the call and the leg, which gets its
 * pipeline (CopilotLeg), and from then on every frame goes to exotelsrc.
 * A dual-track stream (`?tracks=both` or `custom_parameters.tracks` "both")
 * gets two legs, customer on exotelsrc track=inbound and agent on
 * track=outbound; every frame goes to both and each keeps its own track. */
#include "config.h"

#include "copilot-ingest.h"
#include "copilot-json-util.h"

#include <string.h>

#define CLOSE_NORMAL 1000
#define CLOSE_GOING_AWAY 1001
#define CLOSE_POLICY 1008
#define CLOSE_INTERNAL 1011

typedef struct
{
  CopilotIngest *ingest;        /* borrowed; the ingest outlives streams */
  SoupWebsocketConnection *conn;
  char *peer;
  char *query_track;
  gboolean query_both;          /* ?tracks=both */
  guint query_rate;
  CopilotCall *call;
  CopilotLeg *legs[2];          /* one, or agent and customer */
  guint n_legs;
  gint64 last_frame_us;
  guint idle_id;
  gint64 window_start_us;
  guint window_frames;
  char *stop_reason;            /* the peer sent stop: why */
} Stream;

struct _CopilotIngest
{
  GObject parent;

  SoupServer *server;           /* borrowed; the daemon owns it */
  const CopilotDaemonConfig *config;    /* borrowed */
  CopilotCallTable *table;
  CopilotMetrics *metrics;      /* borrowed */
  GHashTable *streams;          /* SoupWebsocketConnection -> Stream */
};

G_DEFINE_TYPE (CopilotIngest, copilot_ingest, G_TYPE_OBJECT);

static void
stream_free (Stream * stream)
{
  g_clear_handle_id (&stream->idle_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (stream->conn, stream);
  for (guint i = 0; i < stream->n_legs; i++) {
    g_signal_handlers_disconnect_by_data (stream->legs[i], stream);
    g_clear_object (&stream->legs[i]);
  }
  g_clear_object (&stream->call);
  g_object_unref (stream->conn);
  g_free (stream->peer);
  g_free (stream->query_track);
  g_free (stream->stop_reason);
  g_free (stream);
}

static const char *
stream_name (Stream * stream)
{
  return stream->call ? copilot_call_get_id (stream->call) : stream->peer;
}

static void
stream_close (Stream * stream, gushort code, const char *reason)
{
  if (soup_websocket_connection_get_state (stream->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (code != CLOSE_NORMAL)
    g_message ("call %s: closing ingest stream (%u %s)", stream_name (stream),
        code, reason);
  soup_websocket_connection_close (stream->conn, code, reason);
}

/* Lets the stream's legs drain what they received, then end. */
static void
stream_finish_legs (Stream * stream, const char *reason)
{
  guint drain_ms = (guint) (stream->ingest->config->drain_timeout * 1000);

  for (guint i = 0; i < stream->n_legs; i++)
    copilot_leg_finish (stream->legs[i], reason, drain_ms);
}

static void
drop_frame (Stream * stream, const char *why)
{
  stream->ingest->metrics->frames_dropped++;
  g_debug ("call %s: frame dropped: %s", stream_name (stream), why);
}

static void
refuse (Stream * stream, gushort code, const char *reason)
{
  stream->ingest->metrics->streams_refused++;
  stream_close (stream, code, reason);
}

/* ---- Authentication, before the handshake. ---- */

/* Compares without an early exit, so the time taken does not tell how much
 * of a secret was right. */
static gboolean
equal_const_time (const char *a, gsize a_len, const char *b)
{
  gsize b_len = strlen (b);
  gsize n = MAX (a_len, b_len);
  guint diff = a_len ^ b_len;

  for (gsize i = 0; i < n; i++) {
    guint8 x = i < a_len ? (guint8) a[i] : 0;
    guint8 y = i < b_len ? (guint8) b[i] : 0;

    diff |= x ^ y;
  }
  return diff == 0;
}

static gboolean
check_basic (const CopilotDaemonConfig * config, const char *header)
{
  g_autofree guchar *decoded = NULL;
  gsize len = 0;
  const char *colon;
  gboolean user_ok, pass_ok;

  if (header == NULL || g_ascii_strncasecmp (header, "Basic ", 6) != 0)
    return FALSE;
  decoded = g_base64_decode (header + 6, &len);
  if (decoded == NULL || len == 0)
    return FALSE;
  colon = memchr (decoded, ':', len);
  if (colon == NULL)
    return FALSE;
  user_ok = equal_const_time ((const char *) decoded,
      colon - (const char *) decoded, config->username);
  pass_ok = equal_const_time (colon + 1,
      len - (colon + 1 - (const char *) decoded), config->password);
  return user_ok & pass_ok;
}

static gboolean
check_address (const CopilotDaemonConfig * config, SoupServerMessage * msg)
{
  GSocketAddress *addr = soup_server_message_get_remote_address (msg);
  GInetAddress *inet;

  if (config->allow_ips->len == 0)
    return TRUE;
  if (!G_IS_INET_SOCKET_ADDRESS (addr))
    return FALSE;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr));
  for (guint i = 0; i < config->allow_ips->len; i++) {
    if (g_inet_address_mask_matches (g_ptr_array_index (config->allow_ips,
                i), inet))
      return TRUE;
  }
  return FALSE;
}

static void
set_json_error (SoupServerMessage * msg, guint status, const char *message)
{
  g_autofree char *body = copilot_json_error (message);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_COPY, body, strlen (body));
}

/* Runs before libsoup looks at the WebSocket handshake; a status set here
 * refuses the upgrade. */
static void
auth_handler_cb (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  CopilotIngest *self = user_data;
  const CopilotDaemonConfig *config = self->config;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *host = soup_server_message_get_remote_host (msg);

  if (!check_address (config, msg)) {
    g_message ("ingest: upgrade from %s refused: address not allowed",
        host ? host : "?");
    set_json_error (msg, SOUP_STATUS_UNAUTHORIZED, "address not allowed");
    return;
  }
  if (config->username != NULL && !check_basic (config,
          soup_message_headers_get_one (headers, "Authorization"))) {
    g_message ("ingest: upgrade from %s refused: bad or missing credentials",
        host ? host : "?");
    set_json_error (msg, SOUP_STATUS_UNAUTHORIZED, "authentication required");
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Basic realm=\"copilot\"");
    return;
  }
}

/* ---- Stream lifecycle. ---- */

static gboolean
idle_cb (gpointer user_data)
{
  Stream *stream = user_data;
  const CopilotDaemonConfig *config = stream->ingest->config;
  gint64 idle_us = (gint64) (config->idle_timeout * G_USEC_PER_SEC);
  gint64 quiet = g_get_monotonic_time () - stream->last_frame_us;

  if (quiet < idle_us) {
    stream->idle_id = g_timeout_add (MAX ((idle_us - quiet) / 1000, 1),
        idle_cb, stream);
    return G_SOURCE_REMOVE;
  }
  stream->idle_id = 0;
  g_message ("call %s: no frame for %.1f s, ending the stream",
      stream_name (stream), config->idle_timeout);
  stream_finish_legs (stream, "timeout");
  stream_close (stream, CLOSE_NORMAL, "idle timeout");
  return G_SOURCE_REMOVE;
}

static void
leg_ended_cb (CopilotLeg * leg, const char *reason, gpointer user_data)
{
  Stream *stream = user_data;

  /* A dual-track stream stays open until both of its legs have ended. */
  for (guint i = 0; i < stream->n_legs; i++) {
    if (!copilot_leg_is_ended (stream->legs[i]))
      return;
  }
  stream_close (stream, g_strcmp0 (reason, "disconnected") == 0 ?
      CLOSE_INTERNAL : CLOSE_NORMAL, "stream ended");
}

static gboolean
is_mulaw (const char *encoding)
{
  static const char *const names[] = { "audio/x-mulaw", "mulaw", "ulaw",
    "pcmu", "mu-law", "g711u",
  };

  for (guint i = 0; encoding != NULL && i < G_N_ELEMENTS (names); i++) {
    if (g_ascii_strcasecmp (encoding, names[i]) == 0)
      return TRUE;
  }
  return FALSE;
}

static guint
member_uint (JsonObject * obj, const char *name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;
  guint64 v = 0;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return CLAMP (json_node_get_int (node), 0, G_MAXUINT);
  if (json_node_get_value_type (node) == G_TYPE_STRING
      && g_ascii_string_to_unsigned (json_node_get_string (node), 10, 0,
          G_MAXUINT, &v, NULL))
    return (guint) v;
  return 0;
}

static void
discard_legs (CopilotLeg ** legs, guint n)
{
  for (guint i = 0; i < n; i++) {
    if (legs[i] != NULL)
      copilot_leg_stop (legs[i], "disconnected");
    g_clear_object (&legs[i]);
  }
}

static void
handle_start (Stream * stream, JsonObject * root, const char *text,
    gsize length)
{
  CopilotIngest *self = stream->ingest;
  const CopilotDaemonConfig *config = self->config;
  JsonObject *start = NULL, *format = NULL, *params = NULL;
  JsonNode *node;
  const char *call_sid, *speaker, *encoding;
  /* A dual-track stream: agent first, so call.started lists it first. */
  const char *speakers[2] = { NULL, "customer" };
  const char *tracks[2] = { NULL, "inbound" };
  CopilotLeg *legs[2] = { NULL, NULL };
  guint n_legs = 1;
  CopilotCall *call;
  g_autoptr (GError) error = NULL;
  guint rate;

  node = json_object_get_member (root, "start");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    start = json_node_get_object (node);
  node = start ? json_object_get_member (start, "media_format") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    format = json_node_get_object (node);
  node = start ? json_object_get_member (start, "custom_parameters") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    params = json_node_get_object (node);

  call_sid = copilot_json_get_string (start, "call_sid");
  /* The call_sid becomes the call id: same rule as REST and /live. */
  if (!copilot_json_valid_call_id (call_sid)) {
    drop_frame (stream, "start frame without a usable call_sid");
    refuse (stream, CLOSE_POLICY, "start frame without a usable call_sid");
    return;
  }
  if (stream->query_both
      || g_strcmp0 (copilot_json_get_string (params, "tracks"), "both") == 0) {
    n_legs = 2;
    speakers[0] = "agent";
    tracks[0] = "outbound";
  } else {
    speaker = stream->query_track;
    if (speaker == NULL)
      speaker = copilot_json_get_string (params, "leg");
    if (speaker == NULL)
      speaker = config->mono_leg;
    if (!g_str_equal (speaker, "agent") && !g_str_equal (speaker, "customer")) {
      drop_frame (stream, "unknown leg");
      refuse (stream, CLOSE_POLICY, "leg must be agent or customer");
      return;
    }
    speakers[0] = speaker;
  }

  call = copilot_call_table_lookup_active (self->table, call_sid);
  for (guint i = 0; call != NULL && i < n_legs; i++) {
    if (copilot_call_get_leg (call, speakers[i]) != NULL) {
      g_message ("call %s: second %s stream refused", call_sid, speakers[i]);
      refuse (stream, CLOSE_POLICY, "leg already connected");
      return;
    }
  }
  if (call == NULL && copilot_call_table_lookup (self->table, call_sid)) {
    g_message ("call %s: stream for an ended call refused", call_sid);
    refuse (stream, CLOSE_POLICY, "call already ended");
    return;
  }
  if (call == NULL && copilot_call_table_count_active (self->table, TRUE) >=
      config->max_calls) {
    g_message ("call %s: refused, %u calls in progress", call_sid,
        config->max_calls);
    self->metrics->streams_refused_busy++;
    /* Not 1013 (try again later): libsoup 3.2 cannot send it and turns it
     * into a protocol error (1002). */
    refuse (stream, CLOSE_POLICY, "too many calls");
    return;
  }

  encoding = copilot_json_get_string (format, "encoding");
  rate = member_uint (format, "sample_rate");
  if (rate == 0)
    rate = stream->query_rate ? stream->query_rate : config->sample_rate;
  if (rate != 8000 && rate != 16000 && rate != 24000) {
    drop_frame (stream, "unsupported sample rate");
    refuse (stream, CLOSE_POLICY, "sample_rate must be 8000, 16000 or 24000");
    return;
  }

  for (guint i = 0; i < n_legs; i++) {
    legs[i] = copilot_leg_new (call_sid, speakers[i], tracks[i],
        is_mulaw (encoding), rate, config->max_frame_size, config->asr, &error);
    if (legs[i] == NULL) {
      g_message ("call %s: cannot start the %s leg: %s", call_sid,
          speakers[i], error->message);
      discard_legs (legs, n_legs);
      refuse (stream, CLOSE_INTERNAL, "cannot start the pipeline");
      return;
    }
    if (!copilot_leg_push_frame (legs[i], text, length)) {
      /* exotelsrc validates the whole frame (format, rate). */
      discard_legs (legs, n_legs);
      drop_frame (stream, "start frame refused by exotelsrc");
      refuse (stream, CLOSE_POLICY, "unsupported start frame");
      return;
    }
  }

  if (call == NULL)
    call = copilot_call_table_create (self->table, call_sid);
  stream->call = g_object_ref (call);
  for (guint i = 0; i < n_legs; i++) {
    copilot_call_add_leg (call, legs[i]);
    stream->legs[i] = g_steal_pointer (&legs[i]);
    g_signal_connect (stream->legs[i], "ended", G_CALLBACK (leg_ended_cb),
        stream);
  }
  stream->n_legs = n_legs;
  g_message ("call %s: %s stream from %s (%s, %u Hz)", call_sid,
      n_legs == 2 ? "dual-track (agent and customer)" : speakers[0],
      stream->peer, encoding ? encoding : "default encoding", rate);
}

static void
handle_before_start (Stream * stream, const char *text, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = copilot_json_parse_object (text, length, &error);
  const char *event;

  if (root == NULL) {
    drop_frame (stream, error->message);
    return;
  }
  event = copilot_json_get_string (json_node_get_object (root), "event");
  if (g_strcmp0 (event, "connected") == 0)
    return;
  if (g_strcmp0 (event, "start") == 0) {
    handle_start (stream, json_node_get_object (root), text, length);
    return;
  }
  drop_frame (stream, "frame before start");
}

/* Remembers that the peer sent stop (and its reason), so that a close
 * right after it ends the leg as the call ending, not as a disconnection.
 * Media frames are large; only small frames are parsed for this. */
static void
note_stop (Stream * stream, const char *text, gsize length)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj, *stop;
  const char *reason;

  if (stream->stop_reason != NULL || length > 4096
      || g_strstr_len (text, length, "\"stop\"") == NULL)
    return;
  root = copilot_json_parse_object (text, length, NULL);
  if (root == NULL)
    return;
  obj = json_node_get_object (root);
  if (g_strcmp0 (copilot_json_get_string (obj, "event"), "stop") != 0)
    return;
  stop = json_object_has_member (obj, "stop")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, "stop")) ?
      json_object_get_object_member (obj, "stop") : NULL;
  reason = copilot_json_get_string (stop, "reason");
  stream->stop_reason = g_strdup (g_strcmp0 (reason, "stopped") == 0 ?
      "stopped" : "callended");
}

/* Main context: libsoup reads on the context the server belongs to. */
static void
message_cb (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  Stream *stream = user_data;
  const CopilotDaemonConfig *config = stream->ingest->config;
  gint64 now = g_get_monotonic_time ();
  gsize length;
  const char *text = g_bytes_get_data (message, &length);
  gboolean taken = FALSE;

  stream->ingest->metrics->frames_received++;
  /* Before start, frames (e.g. repeated "connected") do not keep a stream
   * alive: it must start within the idle timeout of connecting. */
  if (stream->n_legs > 0)
    stream->last_frame_us = now;
  if (soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_OPEN) {
    drop_frame (stream, "stream is closing");
    return;
  }

  if (now - stream->window_start_us >= G_USEC_PER_SEC) {
    stream->window_start_us = now;
    stream->window_frames = 0;
  }
  if (++stream->window_frames > config->max_frames_per_second) {
    drop_frame (stream, "over the frame rate limit");
    g_message ("call %s: more than %u frames per second", stream_name
        (stream), config->max_frames_per_second);
    stream_finish_legs (stream, "disconnected");
    stream_close (stream, CLOSE_POLICY, "frame rate limit exceeded");
    return;
  }
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    drop_frame (stream, "binary frame");
    return;
  }
  if (stream->n_legs == 0) {
    handle_before_start (stream, text, length);
    return;
  }
  note_stop (stream, text, length);
  /* Both legs of a dual-track stream get every frame; a frame is dropped
   * when no leg took it. */
  for (guint i = 0; i < stream->n_legs; i++)
    taken |= copilot_leg_push_frame (stream->legs[i], text, length);
  if (!taken)
    drop_frame (stream, "refused by exotelsrc");
}

static void
error_cb (SoupWebsocketConnection * conn, GError * error, gpointer user_data)
{
  Stream *stream = user_data;

  /* libsoup has already answered with a close frame (1009 for a frame over
   * max-incoming-payload-size); this only records it. */
  if (g_error_matches (error, SOUP_WEBSOCKET_ERROR,
          SOUP_WEBSOCKET_CLOSE_TOO_BIG)) {
    stream->ingest->metrics->frames_received++;
    stream->ingest->metrics->frames_dropped++;
    stream->ingest->metrics->frames_oversized++;
    g_message ("call %s: frame over %u bytes, closing the stream (1009)",
        stream_name (stream), stream->ingest->config->max_frame_size);
  } else {
    g_message ("call %s: ingest stream error: %s", stream_name (stream),
        error->message);
  }
}

static void
closed_cb (SoupWebsocketConnection * conn, gpointer user_data)
{
  Stream *stream = user_data;
  CopilotIngest *self = stream->ingest;

  g_debug ("call %s: ingest stream closed (%u)", stream_name (stream),
      soup_websocket_connection_get_close_code (conn));
  /* Without a stop frame the peer went away: what was received is still
   * recognised, then the leg ends. */
  stream_finish_legs (stream, stream->stop_reason ? stream->stop_reason :
      "disconnected");
  g_hash_table_remove (self->streams, conn);
}

static void
websocket_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  CopilotIngest *self = user_data;
  const CopilotDaemonConfig *config = self->config;
  Stream *stream = g_new0 (Stream, 1);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);
  const char *host = soup_server_message_get_remote_host (msg);

  stream->ingest = self;
  stream->conn = g_object_ref (conn);
  stream->peer = g_strdup (host ? host : "?");
  stream->last_frame_us = g_get_monotonic_time ();
  stream->window_start_us = stream->last_frame_us;

  if (query != NULL) {
    g_autoptr (GHashTable) params = g_uri_parse_params (query, -1, "&",
        G_URI_PARAMS_NONE, NULL);
    const char *track = params ? g_hash_table_lookup (params, "track") : NULL;
    const char *tracks = params ? g_hash_table_lookup (params,
        "tracks") : NULL;
    const char *rate = params ? g_hash_table_lookup (params,
        "sample-rate") : NULL;
    guint64 v;

    if (track != NULL)
      stream->query_track = g_strdup (track);
    stream->query_both = g_strcmp0 (tracks, "both") == 0;
    if (rate != NULL && g_ascii_string_to_unsigned (rate, 10, 8000, 24000,
            &v, NULL) && (v == 8000 || v == 16000 || v == 24000))
      stream->query_rate = (guint) v;
  }

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      config->max_frame_size);
  soup_websocket_connection_set_keepalive_interval (conn,
      config->keepalive_interval);
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), stream);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), stream);
  g_signal_connect (conn, "error", G_CALLBACK (error_cb), stream);
  stream->idle_id = g_timeout_add ((guint) (config->idle_timeout * 1000),
      idle_cb, stream);
  g_hash_table_insert (self->streams, conn, stream);
  g_debug ("ingest: stream from %s", stream->peer);
}

static void
copilot_ingest_dispose (GObject * object)
{
  CopilotIngest *self = COPILOT_INGEST (object);

  if (self->server != NULL) {
    soup_server_remove_handler (self->server, self->config->exotel_path);
    self->server = NULL;
  }
  g_clear_pointer (&self->streams, g_hash_table_unref);
  g_clear_object (&self->table);
  G_OBJECT_CLASS (copilot_ingest_parent_class)->dispose (object);
}

static void
copilot_ingest_class_init (CopilotIngestClass * klass)
{
  G_OBJECT_CLASS (klass)->dispose = copilot_ingest_dispose;
}

static void
copilot_ingest_init (CopilotIngest * self)
{
  self->streams = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) stream_free);
}

/**
 * copilot_ingest_new:
 * @server: the server to add the endpoint to
 * @config: (transfer none): settings, which must outlive the ingest
 * @table: the calls
 * @metrics: (transfer none): counters, which must outlive the ingest
 *
 * Returns: (transfer full): the ingest endpoint, serving at once
 */
CopilotIngest *
copilot_ingest_new (SoupServer * server, const CopilotDaemonConfig * config,
    CopilotCallTable * table, CopilotMetrics * metrics)
{
  CopilotIngest *self = g_object_new (COPILOT_TYPE_INGEST, NULL);

  self->server = server;
  self->config = config;
  self->table = g_object_ref (table);
  self->metrics = metrics;

  soup_server_add_handler (server, config->exotel_path, auth_handler_cb,
      self, NULL);
  soup_server_add_websocket_handler (server, config->exotel_path, NULL, NULL,
      websocket_cb, self, NULL);
  if (!copilot_daemon_config_has_auth (config))
    g_message ("ingest: %s accepts every client: no credentials or address "
        "list configured", config->exotel_path);
  return self;
}

guint
copilot_ingest_get_n_streams (CopilotIngest * self)
{
  return g_hash_table_size (self->streams);
}

/**
 * copilot_ingest_close_all:
 *
 * Closes every stream (1001); their legs are stopped by the caller.
 */
void
copilot_ingest_close_all (CopilotIngest * self)
{
  GHashTableIter iter;
  Stream *stream;

  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & stream))
    stream_close (stream, CLOSE_GOING_AWAY, "server stopping");
}
