/* copilot-replay against a stand-in for copilotd: an in-process SoupServer
 * on 127.0.0.1 (ephemeral port) that records the Exotel frames it receives
 * on /exotel/media and answers /live/ws subscriptions with scripted events,
 * ending with call.ended once every expected leg has sent stop. The tool
 * is spawned from the build tree while this process iterates the main
 * context that serves it. */
#include "config.h"

#undef G_DISABLE_ASSERT

#include "copilot-replay-wav.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* ---- The audio ---- */

/* Sample @i of channel @ch of every test WAV: the first three samples of
 * the left channel are the mu-law extremes, then tones that differ between
 * channels, so a leg carrying the wrong channel shows. */
static gint16
test_sample (gsize i, guint ch, guint rate)
{
  static const gint16 head[] = { 0, 32767, -32768 };

  if (ch == 0 && i < G_N_ELEMENTS (head))
    return head[i];
  if (ch == 0)
    return (gint16) (8000 * sin (2 * G_PI * 440 * i / rate));
  return (gint16) (-1234 + 3000 * sin (2 * G_PI * 1000 * i / rate));
}

static void
put_u16 (GByteArray * a, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (a, b, 2);
}

static void
put_u32 (GByteArray * a, guint32 v)
{
  put_u16 (a, v & 0xffff);
  put_u16 (a, v >> 16);
}

/* A RIFF/WAVE file; @bits other than 16 only make a header for the
 * refusal tests. */
static char *
write_wav (const char *dir, const char *name, guint rate, guint channels,
    guint bits, gsize n_frames)
{
  g_autoptr (GByteArray) a = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);
  guint32 data_len = (guint32) (n_frames * channels * bits / 8);
  gsize i;
  guint ch;

  g_byte_array_append (a, (const guint8 *) "RIFF", 4);
  put_u32 (a, 36 + data_len);
  g_byte_array_append (a, (const guint8 *) "WAVEfmt ", 8);
  put_u32 (a, 16);
  put_u16 (a, 1);
  put_u16 (a, channels);
  put_u32 (a, rate);
  put_u32 (a, rate * channels * bits / 8);
  put_u16 (a, channels * bits / 8);
  put_u16 (a, bits);
  /* An unknown chunk before the data, as LIST/INFO chunks are. */
  g_byte_array_append (a, (const guint8 *) "LIST", 4);
  put_u32 (a, 3);
  g_byte_array_append (a, (const guint8 *) "abc\0", 4);
  g_byte_array_append (a, (const guint8 *) "data", 4);
  put_u32 (a, data_len);
  for (i = 0; i < n_frames; i++)
    for (ch = 0; ch < channels; ch++) {
      if (bits == 16)
        put_u16 (a, (guint16) test_sample (i, ch, rate));
      else
        g_byte_array_append (a, (const guint8 *) "\x80", 1);
    }

  g_file_set_contents (path, (const char *) a->data, a->len, &error);
  g_assert_no_error (error);
  return path;
}

/* ---- The stand-in daemon ---- */

typedef struct
{
  char *query;
  char *auth;
  char *call_sid;
  GPtrArray *frames;            /* JsonNode */
  gboolean stopped;
  gboolean closed;
  SoupWebsocketConnection *conn;
} Stream;

typedef struct _Fixture Fixture;

typedef struct
{
  Fixture *fx;
  SoupWebsocketConnection *conn;
  char *call_id;
  gboolean ended_sent;
  gboolean refused_once;
} LiveClient;

struct _Fixture
{
  SoupServer *server;
  char *base;                   /* ws://127.0.0.1:PORT */
  char *ingest_url;
  char *dir;
  GPtrArray *streams;
  GPtrArray *lives;
  guint expected_legs;
  gboolean never_end;
  gushort close_code;           /* close each stream after its start frame */
  guint metrics_requests;
  guint subscribe_errors;
};

static void
stream_free (Stream * s)
{
  g_signal_handlers_disconnect_by_data (s->conn, s);
  g_object_unref (s->conn);
  g_ptr_array_unref (s->frames);
  g_free (s->query);
  g_free (s->auth);
  g_free (s->call_sid);
  g_free (s);
}

static void
live_client_free (LiveClient * c)
{
  g_signal_handlers_disconnect_by_data (c->conn, c);
  g_object_unref (c->conn);
  g_free (c->call_id);
  g_free (c);
}

static void
send_call_ended_if_due (Fixture * fx, const char *call_id)
{
  guint i, stopped = 0;

  if (fx->never_end)
    return;
  for (i = 0; i < fx->streams->len; i++) {
    Stream *s = g_ptr_array_index (fx->streams, i);

    stopped += s->stopped && g_strcmp0 (s->call_sid, call_id) == 0;
  }
  if (stopped < fx->expected_legs)
    return;

  for (i = 0; i < fx->lives->len; i++) {
    LiveClient *c = g_ptr_array_index (fx->lives, i);
    g_autofree char *text = NULL;

    if (c->ended_sent || g_strcmp0 (c->call_id, call_id) != 0
        || soup_websocket_connection_get_state (c->conn) !=
        SOUP_WEBSOCKET_STATE_OPEN)
      continue;
    text = g_strdup_printf ("{\"type\":\"call.ended\",\"call_id\":\"%s\","
        "\"seq\":6,\"ts_ms\":1700000000500,\"reason\":\"callended\"}", call_id);
    soup_websocket_connection_send_text (c->conn, text);
    c->ended_sent = TRUE;
  }
}

static void
ingest_message_cb (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  Stream *s = user_data;
  Fixture *fx = g_object_get_data (G_OBJECT (conn), "fixture");
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL),
      g_bytes_get_size (message));
  JsonNode *node;
  JsonObject *obj;
  const char *event;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_ptr_array_add (s->frames, node);
  obj = json_node_get_object (node);
  event = json_object_get_string_member (obj, "event");

  if (g_strcmp0 (event, "start") == 0) {
    JsonObject *start = json_object_get_object_member (obj, "start");

    g_free (s->call_sid);
    s->call_sid = g_strdup (json_object_get_string_member (start, "call_sid"));
    if (fx->close_code != 0)
      soup_websocket_connection_close (conn, fx->close_code, "too many calls");
  } else if (g_strcmp0 (event, "stop") == 0) {
    s->stopped = TRUE;
    send_call_ended_if_due (fx, s->call_sid);
  }
}

static void
ingest_closed_cb (SoupWebsocketConnection * conn, gpointer user_data)
{
  Stream *s = user_data;

  s->closed = TRUE;
}

static void
ingest_ws_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  Fixture *fx = user_data;
  Stream *s = g_new0 (Stream, 1);
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  const char *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");

  s->query = g_strdup (query);
  s->auth = g_strdup (auth);
  s->frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  s->conn = g_object_ref (conn);
  g_object_set_data (G_OBJECT (conn), "fixture", fx);
  g_signal_connect (conn, "message", G_CALLBACK (ingest_message_cb), s);
  g_signal_connect (conn, "closed", G_CALLBACK (ingest_closed_cb), s);
  g_ptr_array_add (fx->streams, s);
}

static gboolean
call_started (Fixture * fx, const char *call_id)
{
  guint i;

  for (i = 0; i < fx->streams->len; i++) {
    Stream *s = g_ptr_array_index (fx->streams, i);

    if (g_strcmp0 (s->call_sid, call_id) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
live_message_cb (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  LiveClient *c = user_data;
  Fixture *fx = c->fx;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL),
      g_bytes_get_size (message));
  g_autoptr (JsonNode) node = json_from_string (text, &error);
  JsonObject *obj;
  const char *id;
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL;

  g_assert_no_error (error);
  obj = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (obj, "type"), ==,
      "subscribe");
  g_assert_false (json_object_has_member (obj, "last_seq"));
  id = json_object_get_string_member (obj, "call_id");

  /* As the daemon might, refuse a call it has not seen a start frame of
   * (and, to test the retry every time, the first subscription of each
   * client): the tool must ask again. */
  if (!c->refused_once || !call_started (fx, id)) {
    c->refused_once = TRUE;
    fx->subscribe_errors++;
    soup_websocket_connection_send_text (conn,
        "{\"type\":\"error\",\"error\":\"unknown call\"}");
    return;
  }

  g_free (c->call_id);
  c->call_id = g_strdup (id);
  e1 = g_strdup_printf ("{\"type\":\"call.started\",\"call_id\":\"%s\","
      "\"seq\":1,\"ts_ms\":1700000000000,\"from\":\"1\",\"to\":\"2\","
      "\"tracks\":[\"customer\"],\"sample_rate\":8000,\"encoding\":\"pcm\","
      "\"custom_parameters\":{}}", id);
  e2 = g_strdup_printf ("{\"type\":\"transcript.partial\",\"call_id\":"
      "\"%s\",\"seq\":2,\"ts_ms\":1700000000100,\"segment_id\":\"s1\","
      "\"speaker\":\"customer\",\"text\":\"hello\",\"start_ms\":0,"
      "\"end_ms\":400}", id);
  e3 = g_strdup_printf ("{\"type\":\"transcript.final\",\"call_id\":\"%s\","
      "\"seq\":3,\"ts_ms\":1700000000200,\"segment_id\":\"s1\","
      "\"speaker\":\"customer\",\"text\":\"hello there\",\"start_ms\":0,"
      "\"end_ms\":800,\"confidence\":0.9,\"latency_ms\":420}", id);
  /* Pretty-printed: the tool must still write it as one line. */
  e4 = g_strdup_printf ("{\n  \"type\": \"transcript.final\",\n"
      "  \"call_id\": \"%s\",\n  \"seq\": 4,\n  \"ts_ms\": 1700000000300,\n"
      "  \"segment_id\": \"s2\",\n  \"speaker\": \"agent\",\n"
      "  \"text\": \"how can I help\",\n  \"start_ms\": 900,\n"
      "  \"end_ms\": 1500,\n  \"confidence\": 0.8,\n  \"latency_ms\": 800\n}",
      id);
  e5 = g_strdup_printf ("{\"type\":\"intent\",\"call_id\":\"%s\",\"seq\":5,"
      "\"ts_ms\":1700000000400,\"intent\":\"unknown\",\"confidence\":0.1,"
      "\"segment_id\":\"s2\"}", id);

  soup_websocket_connection_send_text (conn, e1);
  /* Neither another call's events nor protocol messages belong in the
   * output. */
  soup_websocket_connection_send_text (conn, "{\"type\":\"transcript.final\","
      "\"call_id\":\"someone-else\",\"seq\":9,\"latency_ms\":5}");
  soup_websocket_connection_send_text (conn, "{\"type\":\"calls\","
      "\"calls\":[]}");
  soup_websocket_connection_send_text (conn, "not json");
  soup_websocket_connection_send_text (conn, e2);
  soup_websocket_connection_send_text (conn, e3);
  soup_websocket_connection_send_text (conn, e4);
  soup_websocket_connection_send_text (conn, e5);
  send_call_ended_if_due (fx, id);
}

static void
live_ws_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  Fixture *fx = user_data;
  LiveClient *c = g_new0 (LiveClient, 1);

  c->fx = fx;
  c->conn = g_object_ref (conn);
  g_signal_connect (conn, "message", G_CALLBACK (live_message_cb), c);
  g_ptr_array_add (fx->lives, c);
}

static void
metrics_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  Fixture *fx = user_data;
  g_autofree char *body = NULL;

  fx->metrics_requests++;
  body = g_strdup_printf ("# TYPE copilot_frames_dropped_total counter\n"
      "copilot_frames_dropped_total{reason=\"overflow\"} %u\n"
      "copilot_frames_dropped_total{reason=\"late\"} 1 1700000000000\n"
      "copilot_frames_in_total 99\n", 2 * fx->metrics_requests);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4",
      SOUP_MEMORY_COPY, body, strlen (body));
}

static gboolean
auth_cb (SoupAuthDomain * domain, SoupServerMessage * msg,
    const char *username, const char *password, gpointer user_data)
{
  return g_strcmp0 (username, "exotel") == 0
      && g_strcmp0 (password, "s3cret") == 0;
}

static void
fixture_set_up (Fixture * fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;

  fx->expected_legs = 1;
  fx->streams = g_ptr_array_new_with_free_func ((GDestroyNotify) stream_free);
  fx->lives = g_ptr_array_new_with_free_func ((GDestroyNotify)
      live_client_free);
  fx->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (fx->server, "/exotel/media", NULL, NULL,
      ingest_ws_cb, fx, NULL);
  soup_server_add_websocket_handler (fx->server, "/live/ws", NULL, NULL,
      live_ws_cb, fx, NULL);
  soup_server_add_handler (fx->server, "/metrics", metrics_cb, fx, NULL);
  if (GPOINTER_TO_INT (data)) {
    g_autoptr (SoupAuthDomain) domain = soup_auth_domain_basic_new ("realm",
        "copilot", NULL);

    soup_auth_domain_add_path (domain, "/exotel/media");
    soup_auth_domain_basic_set_auth_callback (domain, auth_cb, NULL, NULL);
    soup_server_add_auth_domain (fx->server, domain);
  }
  soup_server_listen_local (fx->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
      &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (fx->server);
  g_assert_nonnull (uris);
  fx->base = g_strdup_printf ("ws://127.0.0.1:%d", g_uri_get_port (uris->data));
  fx->ingest_url = g_strconcat (fx->base, "/exotel/media", NULL);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  fx->dir = g_dir_make_tmp ("test-replay-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture * fx, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (fx->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *path = g_build_filename (fx->dir, name, NULL);

    g_unlink (path);
  }
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_ptr_array_unref (fx->streams);
  g_ptr_array_unref (fx->lives);
  soup_server_disconnect (fx->server);
  g_object_unref (fx->server);
  g_free (fx->base);
  g_free (fx->ingest_url);
}

/* ---- Running the tool ---- */

typedef struct
{
  gboolean done;
  int status;
  char *out;
  char *err;
  double elapsed_s;
} Run;

static void
run_clear (Run * run)
{
  g_free (run->out);
  g_free (run->err);
}

static void
communicate_cb (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GSubprocess *proc = G_SUBPROCESS (source);
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8_finish (proc, result, &run->out, &run->err,
      &error);
  g_assert_no_error (error);
  /* A crash shows as a negative status, after the tool's stderr. */
  if (g_subprocess_get_if_exited (proc))
    run->status = g_subprocess_get_exit_status (proc);
  else
    run->status = -g_subprocess_get_term_sig (proc);
  run->done = TRUE;
}

/* The environment before G_TEST_OPTION_ISOLATE_DIRS: the tool's GIO proxy
 * module needs the system's GSettings schemas. */
static char *system_data_dirs;

/* Runs copilot-replay with @args (NULL-terminated) while serving it. */
static void
run_tool (Run * run, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  const char *bin = g_getenv ("COPILOT_REPLAY");
  gint64 t0;

  g_ptr_array_add (argv, (gpointer) (bin != NULL ? bin : "copilot-replay"));
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) * args);
  g_ptr_array_add (argv, NULL);
  line = g_strjoinv (" ", (char **) argv->pdata);
  g_test_message ("running %s", line);

  memset (run, 0, sizeof (*run));
  t0 = g_get_monotonic_time ();
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (system_data_dirs != NULL)
    g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS",
        system_data_dirs, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "XDG_DATA_DIRS");
  proc = g_subprocess_launcher_spawnv (launcher,
      (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, communicate_cb, run);
  while (!run->done)
    g_main_context_iteration (NULL, TRUE);
  run->elapsed_s = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
  g_test_message ("exit status %d after %.2f s; stderr:\n%s", run->status,
      run->elapsed_s, run->err);
}

/* Lets the server side see the last close handshakes. */
static void
wait_streams_closed (Fixture * fx)
{
  guint i;

  for (i = 0; i < fx->streams->len; i++) {
    Stream *s = g_ptr_array_index (fx->streams, i);

    while (!s->closed)
      g_main_context_iteration (NULL, TRUE);
  }
}

/* ---- Checks ---- */

static const char *
member (JsonObject * obj, const char *name)
{
  g_assert_true (json_object_has_member (obj, name));
  return json_object_get_string_member (obj, name);
}

static gint64
member_int (JsonObject * obj, const char *name)
{
  const char *s = member (obj, name);
  char *end = NULL;
  gint64 v = g_ascii_strtoll (s, &end, 10);

  g_assert_true (end != s && *end == '\0');
  return v;
}

static Stream *
find_stream (Fixture * fx, const char *call_id, const char *leg)
{
  g_autofree char *track = g_strdup_printf ("track=%s", leg);
  guint i;

  for (i = 0; i < fx->streams->len; i++) {
    Stream *s = g_ptr_array_index (fx->streams, i);

    if (g_strcmp0 (s->call_sid, call_id) == 0
        && g_strcmp0 (s->query, track) == 0)
      return s;
  }
  g_assert_not_reached ();
  return NULL;
}

/* The whole Exotel conversation of one leg. */
static void
check_stream (Stream * s, const char *call_id, const char *leg, guint rate,
    gboolean mulaw, guint channel, gsize n_frames, guint frame_ms)
{
  gsize per_frame = rate * frame_ms / 1000;
  gsize n_media = (n_frames + per_frame - 1) / per_frame;
  JsonObject *obj, *start, *format, *stop;
  const char *sid;
  gsize i, pos = 0;

  g_assert_true (s->stopped);
  g_assert_true (s->closed);
  g_assert_cmpuint (s->frames->len, ==, n_media + 3);

  obj = json_node_get_object (g_ptr_array_index (s->frames, 0));
  g_assert_cmpstr (member (obj, "event"), ==, "connected");

  obj = json_node_get_object (g_ptr_array_index (s->frames, 1));
  g_assert_cmpstr (member (obj, "event"), ==, "start");
  g_assert_cmpint (member_int (obj, "sequence_number"), ==, 1);
  sid = member (obj, "stream_sid");
  g_assert_cmpuint (strlen (sid), ==, 32);
  start = json_object_get_object_member (obj, "start");
  g_assert_cmpstr (member (start, "stream_sid"), ==, sid);
  g_assert_cmpstr (member (start, "call_sid"), ==, call_id);
  g_assert_nonnull (member (start, "account_sid"));
  g_assert_nonnull (member (start, "from"));
  g_assert_nonnull (member (start, "to"));
  g_assert_cmpstr (member (json_object_get_object_member (start,
              "custom_parameters"), "leg"), ==, leg);
  format = json_object_get_object_member (start, "media_format");
  g_assert_cmpstr (member (format, "encoding"), ==,
      mulaw ? "audio/x-mulaw" : "base64");
  g_assert_cmpint (member_int (format, "sample_rate"), ==, rate);
  g_assert_nonnull (member (format, "bit_rate"));

  for (i = 0; i < n_media; i++) {
    JsonObject *media;
    g_autofree guint8 *payload = NULL;
    gsize len = 0, n = MIN (per_frame, n_frames - pos), k;

    obj = json_node_get_object (g_ptr_array_index (s->frames, i + 2));
    g_assert_cmpstr (member (obj, "event"), ==, "media");
    g_assert_cmpint (member_int (obj, "sequence_number"), ==, i + 2);
    g_assert_cmpstr (member (obj, "stream_sid"), ==, sid);
    media = json_object_get_object_member (obj, "media");
    g_assert_cmpint (member_int (media, "chunk"), ==, i + 1);
    g_assert_cmpint (member_int (media, "timestamp"), ==, i * frame_ms);
    payload = g_base64_decode (member (media, "payload"), &len);
    g_assert_cmpuint (len, ==, mulaw ? n : 2 * n);
    for (k = 0; k < n; k++) {
      gint16 want = test_sample (pos + k, channel, rate);

      if (mulaw)
        g_assert_cmpuint (payload[k], ==, copilot_replay_mulaw_encode (want));
      else
        g_assert_cmpint ((gint16) (payload[2 * k] | (payload[2 * k + 1] << 8)),
            ==, want);
    }
    pos += n;
  }
  g_assert_cmpuint (pos, ==, n_frames);

  obj = json_node_get_object (g_ptr_array_index (s->frames, n_media + 2));
  g_assert_cmpstr (member (obj, "event"), ==, "stop");
  g_assert_cmpint (member_int (obj, "sequence_number"), ==, n_media + 2);
  g_assert_cmpstr (member (obj, "stream_sid"), ==, sid);
  stop = json_object_get_object_member (obj, "stop");
  g_assert_cmpstr (member (stop, "call_sid"), ==, call_id);
  g_assert_cmpstr (member (stop, "reason"), ==, "callended");
}

/* The NDJSON output for @call_id: every scripted event once, in order, one
 * line each, and nothing else of that call. */
static void
check_events (const char *ndjson, const char *call_id)
{
  static const char *const types[] = { "call.started", "transcript.partial",
    "transcript.final", "transcript.final", "intent", "call.ended",
  };
  g_auto (GStrv) lines = g_strsplit (ndjson, "\n", -1);
  guint i, n = 0;

  for (i = 0; lines[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) node = NULL;
    JsonObject *obj;

    if (*lines[i] == '\0')
      continue;
    node = json_from_string (lines[i], &error);
    g_assert_no_error (error);
    obj = json_node_get_object (node);
    g_assert_cmpstr (member (obj, "call_id"), !=, "someone-else");
    if (g_strcmp0 (member (obj, "call_id"), call_id) != 0)
      continue;
    g_assert_cmpuint (n, <, G_N_ELEMENTS (types));
    g_assert_cmpstr (member (obj, "type"), ==, types[n]);
    g_assert_cmpint (json_object_get_int_member (obj, "seq"), ==, n + 1);
    n++;
  }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (types));
}

/* ---- Tests ---- */

static void
test_wav_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-replay-XXXXXX", &error);
  g_autofree char *ok = NULL, *odd = NULL, *rate = NULL, *text = NULL;
  g_autoptr (CopilotReplayWav) wav = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_no_error (error);
  /* ITU G.711 reference values. */
  g_assert_cmpuint (copilot_replay_mulaw_encode (0), ==, 0xff);
  g_assert_cmpuint (copilot_replay_mulaw_encode (-1), ==, 0x7f);
  g_assert_cmpuint (copilot_replay_mulaw_encode (32767), ==, 0x80);
  g_assert_cmpuint (copilot_replay_mulaw_encode (-32768), ==, 0x00);
  g_assert_cmpuint (copilot_replay_mulaw_encode (1000), ==, 0xce);

  ok = write_wav (dir, "ok.wav", 16000, 2, 16, 100);
  wav = copilot_replay_wav_load (ok, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wav->rate, ==, 16000);
  g_assert_cmpuint (wav->channels, ==, 2);
  g_assert_cmpuint (wav->n_frames, ==, 100);
  g_assert_cmpint (wav->samples[2], ==, 32767);
  g_assert_cmpint (wav->samples[3], ==, test_sample (1, 1, 16000));
  g_clear_pointer (&wav, copilot_replay_wav_free);

  /* A data chunk cut short is read up to the end of the file. */
  g_assert_true (g_file_get_contents (ok, &contents, &len, NULL));
  wav = copilot_replay_wav_parse ((const guint8 *) contents, len - 41, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wav->n_frames, ==, 89);
  g_clear_pointer (&wav, copilot_replay_wav_free);

  wav = copilot_replay_wav_parse ((const guint8 *) "hello", 5, &error);
  g_assert_error (error, COPILOT_REPLAY_ERROR, COPILOT_REPLAY_ERROR_NOT_WAV);
  g_assert_null (wav);
  g_clear_error (&error);

  odd = write_wav (dir, "odd.wav", 8000, 1, 8, 100);
  wav = copilot_replay_wav_load (odd, &error);
  g_assert_error (error, COPILOT_REPLAY_ERROR,
      COPILOT_REPLAY_ERROR_UNSUPPORTED);
  g_assert_null (wav);
  g_clear_error (&error);

  rate = write_wav (dir, "rate.wav", 44100, 1, 16, 100);
  wav = copilot_replay_wav_load (rate, &error);
  g_assert_error (error, COPILOT_REPLAY_ERROR,
      COPILOT_REPLAY_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "44100"));
  g_clear_error (&error);

  g_unlink (ok);
  g_unlink (odd);
  g_unlink (rate);
  g_rmdir (dir);
}

static void
test_mono_pcm (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "mono.wav", 8000, 1, 16, 2800);
  const char *args[] = { "--url", fx->ingest_url, "--speed", "0",
    "--call-id", "call-pcm", wav, NULL
  };
  Run run;
  Stream *s;

  run_tool (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  wait_streams_closed (fx);
  g_assert_cmpuint (fx->streams->len, ==, 1);
  s = find_stream (fx, "call-pcm", "customer");
  g_assert_null (s->auth);
  /* 350 ms in 100 ms frames: 800, 800, 800, 400 samples. */
  check_stream (s, "call-pcm", "customer", 8000, FALSE, 0, 2800, 100);
  check_events (run.out, "call-pcm");
  g_assert_cmpuint (fx->lives->len, ==, 1);
  g_assert_cmpuint (fx->subscribe_errors, >=, 1);
  run_clear (&run);
}

static void
test_mono_mulaw (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "mono16.wav", 16000, 1, 16,
      4000);
  g_autofree char *out = g_build_filename (fx->dir, "events.ndjson", NULL);
  g_autofree char *events = NULL;
  const char *args[] = { "--url", fx->ingest_url, "--speed", "0",
    "--encoding", "mulaw", "--leg", "agent", "--frame-ms", "20",
    "--call-id", "call-mulaw", "--user", "exotel", "--password", "s3cret",
    "--out", out, wav, NULL
  };
  g_autofree char *b64 = g_base64_encode ((const guchar *) "exotel:s3cret",
      13);
  g_autofree char *auth = g_strdup_printf ("Basic %s", b64);
  Run run;
  Stream *s;

  run_tool (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  wait_streams_closed (fx);
  g_assert_cmpuint (fx->streams->len, ==, 1);
  s = find_stream (fx, "call-mulaw", "agent");
  g_assert_cmpstr (s->auth, ==, auth);
  /* 250 ms in 20 ms frames of 320 one-byte samples, the last one 160. */
  check_stream (s, "call-mulaw", "agent", 16000, TRUE, 0, 4000, 20);
  g_assert_cmpstr (run.out, ==, "");
  g_assert_true (g_file_get_contents (out, &events, NULL, NULL));
  check_events (events, "call-mulaw");
  run_clear (&run);
}

static void
test_stereo (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "stereo.wav", 8000, 2, 16,
      2400);
  const char *args[] = { "--url", fx->ingest_url, "--speed", "0",
    "--call-id", "call-two-legs", wav, NULL
  };
  Run run;

  fx->expected_legs = 2;
  run_tool (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  wait_streams_closed (fx);
  g_assert_cmpuint (fx->streams->len, ==, 2);
  check_stream (find_stream (fx, "call-two-legs", "agent"), "call-two-legs",
      "agent", 8000, FALSE, 0, 2400, 100);
  check_stream (find_stream (fx, "call-two-legs", "customer"),
      "call-two-legs", "customer", 8000, FALSE, 1, 2400, 100);
  check_events (run.out, "call-two-legs");
  run_clear (&run);
}

/* Real time takes at least the audio's duration; --speed 0 takes far less
 * than the audio's duration. */
static void
test_pacing (Fixture * fx, gconstpointer data)
{
  g_autofree char *short_wav = write_wav (fx->dir, "short.wav", 8000, 1, 16,
      4000);
  g_autofree char *long_wav = write_wav (fx->dir, "long.wav", 8000, 1, 16,
      8000 * 60);
  const char *realtime[] = { "--url", fx->ingest_url, "--call-id", "rt",
    short_wav, NULL
  };
  const char *faster[] = { "--url", fx->ingest_url, "--call-id", "x10",
    "--speed", "10", short_wav, NULL
  };
  const char *fast[] = { "--url", fx->ingest_url, "--call-id", "fast",
    "--speed", "0", long_wav, NULL
  };
  Run run;

  run_tool (&run, realtime);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpfloat (run.elapsed_s, >=, 0.45);
  run_clear (&run);

  run_tool (&run, faster);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpfloat (run.elapsed_s, >=, 0.045);
  run_clear (&run);

  /* A minute of audio (600 frames). */
  run_tool (&run, fast);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpfloat (run.elapsed_s, <, 20.0);
  wait_streams_closed (fx);
  check_stream (find_stream (fx, "fast", "customer"), "fast", "customer",
      8000, FALSE, 0, 8000 * 60, 100);
  run_clear (&run);
}

static void
test_bench (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "bench.wav", 8000, 2, 16, 1600);
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  const char *args[] = { "--url", fx->ingest_url, "--speed", "0",
    "--calls", "3", "--stagger-ms", "10", "--call-id", "bench",
    "--daemon-pid", pid, wav, NULL
  };
  const char *ids[] = { "bench-1", "bench-2", "bench-3" };
  Run run;
  guint i;

  fx->expected_legs = 2;
  run_tool (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  wait_streams_closed (fx);
  g_assert_cmpuint (fx->streams->len, ==, 6);
  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    check_stream (find_stream (fx, ids[i], "agent"), ids[i], "agent", 8000,
        FALSE, 0, 1600, 100);
    check_stream (find_stream (fx, ids[i], "customer"), ids[i], "customer",
        8000, FALSE, 1, 1600, 100);
    check_events (run.out, ids[i]);
  }

  /* The summary goes to stderr while the events take stdout. */
  g_assert_nonnull (strstr (run.err, "calls completed:     3/3 (0 failed)"));
  g_assert_nonnull (strstr (run.err, "frames sent:         12 "));
  g_assert_nonnull (strstr (run.err, "transcript.final:    6\n"));
  g_assert_nonnull (strstr (run.err, "events:              18 "));
  g_assert_nonnull (strstr (run.err, "p50 420  p95 800  p99 800"));
  /* Two /metrics reads; the counter moved by 2 in between. */
  g_assert_cmpuint (fx->metrics_requests, ==, 2);
  g_assert_nonnull (strstr (run.err, "frames dropped:      2 "));
  g_assert_nonnull (strstr (run.err, "daemon CPU:"));
  g_assert_nonnull (strstr (run.err, "daemon RSS:"));
  run_clear (&run);
}

static void
test_timeout (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "t.wav", 8000, 1, 16, 800);
  const char *args[] = { "--url", fx->ingest_url, "--speed", "0",
    "--timeout", "0.5", wav, NULL
  };
  Run run;

  fx->never_end = TRUE;
  run_tool (&run, args);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "timed out"));
  /* The call was still played completely. */
  wait_streams_closed (fx);
  g_assert_true (((Stream *) g_ptr_array_index (fx->streams, 0))->stopped);
  run_clear (&run);
}

/* The daemon refuses a stream (say, a limit reached) after its start. */
static void
test_daemon_closes (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "c.wav", 8000, 1, 16, 8000);
  const char *args[] = { "--url", fx->ingest_url, wav, NULL };
  Run run;

  /* Policy (1008), as for a rate limit. libsoup 3.2 clients turn a
   * received 1013 into 1002, so that code is not used here. */
  fx->close_code = SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION;
  run_tool (&run, args);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "the daemon closed the customer stream"));
  g_assert_nonnull (strstr (run.err, "close code 1008: too many calls"));
  /* Real-time pacing: the tool gave up long before the second of audio. */
  g_assert_cmpfloat (run.elapsed_s, <, 0.9);
  run_clear (&run);
}

static void
test_unauthorized (Fixture * fx, gconstpointer data)
{
  g_autofree char *wav = write_wav (fx->dir, "a.wav", 8000, 1, 16, 800);
  const char *none[] = { "--url", fx->ingest_url, wav, NULL };
  const char *wrong[] = { "--url", fx->ingest_url, "--user", "exotel",
    "--password", "nope", wav, NULL
  };
  Run run;

  run_tool (&run, none);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "HTTP 401"));
  run_clear (&run);

  run_tool (&run, wrong);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "HTTP 401"));
  run_clear (&run);
  g_assert_cmpuint (fx->streams->len, ==, 0);
}

static void
test_bad_input (Fixture * fx, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (fx->dir, "missing.wav", NULL);
  g_autofree char *text = g_build_filename (fx->dir, "text.wav", NULL);
  g_autofree char *rate = write_wav (fx->dir, "44k.wav", 44100, 1, 16, 800);
  g_autofree char *ok = write_wav (fx->dir, "ok.wav", 8000, 1, 16, 800);
  g_autofree char *refused_url = NULL;
  Run run;

  {
    const char *args[] = { "--url", fx->ingest_url, missing, NULL };

    run_tool (&run, args);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "missing.wav"));
    run_clear (&run);
  }
  {
    const char *args[] = { "--url", fx->ingest_url, text, NULL };

    g_assert_true (g_file_set_contents (text, "hello\n", -1, NULL));
    run_tool (&run, args);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "not a WAV file"));
    run_clear (&run);
  }
  {
    const char *args[] = { "--url", fx->ingest_url, rate, NULL };

    run_tool (&run, args);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "unsupported sample rate 44100"));
    run_clear (&run);
  }
  {
    /* A port that was just listening and no longer is. */
    g_autoptr (SoupServer) other = soup_server_new (NULL, NULL);
    g_autoptr (GError) error = NULL;
    GSList *uris;

    soup_server_listen_local (other, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
    g_assert_no_error (error);
    uris = soup_server_get_uris (other);
    refused_url = g_strdup_printf ("ws://127.0.0.1:%d/exotel/media",
        g_uri_get_port (uris->data));
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    soup_server_disconnect (other);
  }
  {
    const char *args[] = { "--url", refused_url, ok, NULL };

    run_tool (&run, args);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "cannot connect to"));
    run_clear (&run);
  }
  g_assert_cmpuint (fx->streams->len, ==, 0);
}

static void
test_bad_options (Fixture * fx, gconstpointer data)
{
  g_autofree char *ok = write_wav (fx->dir, "ok.wav", 8000, 1, 16, 800);
  const char *cases[][4] = {
    {NULL},
    {"--speed", "-1", ok, NULL},
    {"--speed", "fast", ok, NULL},
    {"--encoding", "opus", ok, NULL},
    {"--leg", "boss", ok, NULL},
    {"--frame-ms", "5", ok, NULL},
    {"--calls", "0", ok, NULL},
    {"--url", "http://x/", ok, NULL},
    {"--user", "u", ok, NULL},
    {"--no-such-option", ok, NULL},
    {ok, ok, NULL},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    Run run;

    run_tool (&run, cases[i]);
    g_assert_cmpint (run.status, ==, 2);
    g_assert_cmpstr (run.out, ==, "");
    run_clear (&run);
  }
  g_assert_cmpuint (fx->streams->len, ==, 0);
}

int
main (int argc, char **argv)
{
  int status;

  system_data_dirs = g_strdup (g_getenv ("XDG_DATA_DIRS"));
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/replay/wav-parse", test_wav_parse);
#define ADD(path, fn, auth) \
  g_test_add (path, Fixture, GINT_TO_POINTER (auth), fixture_set_up, fn, \
      fixture_tear_down)
  ADD ("/replay/mono-pcm", test_mono_pcm, FALSE);
  ADD ("/replay/mono-mulaw-auth", test_mono_mulaw, TRUE);
  ADD ("/replay/stereo-two-legs", test_stereo, FALSE);
  ADD ("/replay/pacing", test_pacing, FALSE);
  ADD ("/replay/bench-summary", test_bench, FALSE);
  ADD ("/replay/timeout", test_timeout, FALSE);
  ADD ("/replay/daemon-closes", test_daemon_closes, FALSE);
  ADD ("/replay/unauthorized", test_unauthorized, TRUE);
  ADD ("/replay/bad-input", test_bad_input, FALSE);
  ADD ("/replay/bad-options", test_bad_options, FALSE);
#undef ADD

  status = g_test_run ();
  g_free (system_data_dirs);
  return status;
}
