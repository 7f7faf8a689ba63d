/* copilotd tests: the real server, WebSocket and HTTP clients in one
 * process on 127.0.0.1 with an ephemeral port. Waits iterate the main
 * context until a condition holds; nothing sleeps. */
#include "config.h"

#undef G_DISABLE_ASSERT
#include <string.h>
#include <gst/gst.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "copilot-daemon.h"
#include "copilot-live-hub.h"

#define USER "exotel"
#define PASS "s3cret"
#define WAIT_LIMIT_S 120

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default context until @cond holds; fails after a generous
 * limit instead of hanging (the wake-up timer makes the check run). */
#define WAIT_UNTIL(cond) G_STMT_START { \
    gint64 _deadline = g_get_monotonic_time () + \
        WAIT_LIMIT_S * G_USEC_PER_SEC; \
    guint _wake = g_timeout_add (50, wake_cb, NULL); \
    while (!(cond)) { \
      if (g_get_monotonic_time () > _deadline) \
        g_error ("timed out waiting for %s", #cond); \
      g_main_context_iteration (NULL, TRUE); \
    } \
    g_source_remove (_wake); \
  } G_STMT_END

/* ---- Fixture: a daemon and an HTTP session ---- */

typedef struct
{
  CopilotDaemon *daemon;
  SoupSession *session;
  guint port;
} Fixture;

static void
fixture_start (Fixture * f, const char *extra_config)
{
  g_autofree char *text = g_strdup_printf ("[server]\nport=0\n"
      "keepalive-interval=0\n[exotel]\nmax-frames-per-second=5000\n%s",
      extra_config ? extra_config : "");
  g_autoptr (GError) error = NULL;
  CopilotDaemonConfig *config = copilot_daemon_config_new_from_data (text,
      &error);

  g_assert_no_error (error);
  f->daemon = copilot_daemon_new (config);
  g_assert_true (copilot_daemon_start (f->daemon, &error));
  g_assert_no_error (error);
  f->port = copilot_daemon_get_port (f->daemon);
  g_assert_cmpuint (f->port, >, 0);
  f->session = soup_session_new ();
}

static void
fixture_stop (Fixture * f)
{
  copilot_daemon_stop (f->daemon);
  WAIT_UNTIL (copilot_daemon_is_quiet (f->daemon));
  soup_session_abort (f->session);
  g_clear_object (&f->session);
  g_clear_object (&f->daemon);
  /* Let the last close handshakes and idle callbacks run. */
  while (g_main_context_iteration (NULL, FALSE));
}

static CopilotCall *
lookup_call (Fixture * f, const char *id)
{
  return copilot_call_table_lookup (copilot_daemon_get_call_table
      (f->daemon), id);
}

/* ---- HTTP ---- */

typedef struct
{
  gboolean done;
  GBytes *body;
  GError *error;
} HttpResult;

static void
http_done_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  HttpResult *r = user_data;

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), res,
      &r->error);
  r->done = TRUE;
}

/* Returns the status; *json receives the parsed body if it is JSON. */
static guint
http (Fixture * f, const char *method, const char *path, const char *body,
    JsonNode ** json, char **text)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", f->port,
      path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  HttpResult r = { 0 };
  gsize len;
  const char *data;

  if (body != NULL) {
    g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));

    soup_message_set_request_body_from_bytes (msg, "application/json", b);
  }
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT,
      NULL, http_done_cb, &r);
  WAIT_UNTIL (r.done);
  g_assert_no_error (r.error);
  data = g_bytes_get_data (r.body, &len);
  if (json != NULL) {
    g_autoptr (JsonParser) parser = json_parser_new ();

    g_assert_true (json_parser_load_from_data (parser, data, len, NULL));
    *json = json_node_ref (json_parser_get_root (parser));
  }
  if (text != NULL)
    *text = g_strndup (data, len);
  g_bytes_unref (r.body);
  return soup_message_get_status (msg);
}

/* ---- WebSocket clients ---- */

typedef struct
{
  SoupWebsocketConnection *conn;
  GPtrArray *messages;          /* JsonNode of each text message */
  gboolean closed;
  gushort close_code;
  /* connect result */
  gboolean connect_done;
  GError *connect_error;
  guint http_status;
} Ws;

static void
ws_message_cb (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  Ws *ws = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_assert_true (json_parser_load_from_data (parser, data, len, NULL));
  g_ptr_array_add (ws->messages, json_node_ref (json_parser_get_root (parser)));
}

static void
ws_closed_cb (SoupWebsocketConnection * conn, gpointer user_data)
{
  Ws *ws = user_data;

  ws->closed = TRUE;
  ws->close_code = soup_websocket_connection_get_close_code (conn);
}

static void
ws_connected_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Ws *ws = user_data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      res, &ws->connect_error);
  if (ws->conn != NULL) {
    soup_websocket_connection_set_max_incoming_payload_size (ws->conn, 0);
    g_signal_connect (ws->conn, "message", G_CALLBACK (ws_message_cb), ws);
    g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_closed_cb), ws);
  }
  ws->connect_done = TRUE;
}

static Ws *
ws_connect (Fixture * f, const char *path, const char *user, const char *pass)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u%s", f->port,
      path);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  Ws *ws = g_new0 (Ws, 1);

  ws->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  if (user != NULL) {
    g_autofree char *plain = g_strdup_printf ("%s:%s", user, pass);
    g_autofree char *b64 = g_base64_encode ((const guchar *) plain,
        strlen (plain));
    g_autofree char *header = g_strdup_printf ("Basic %s", b64);

    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", header);
  }
  soup_session_websocket_connect_async (f->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, ws_connected_cb, ws);
  WAIT_UNTIL (ws->connect_done);
  ws->http_status = soup_message_get_status (msg);
  return ws;
}

static Ws *
ws_open (Fixture * f, const char *path)
{
  Ws *ws = ws_connect (f, path, USER, PASS);

  g_assert_no_error (ws->connect_error);
  g_assert_nonnull (ws->conn);
  return ws;
}

static void
ws_free (Ws * ws)
{
  if (ws->conn != NULL) {
    if (soup_websocket_connection_get_state (ws->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws->conn, 1000, NULL);
    WAIT_UNTIL (ws->closed);
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    g_object_unref (ws->conn);
  }
  g_clear_error (&ws->connect_error);
  g_ptr_array_unref (ws->messages);
  g_free (ws);
}

static void
ws_send (Ws * ws, const char *text)
{
  soup_websocket_connection_send_text (ws->conn, text);
}

static JsonObject *
msg_obj (Ws * ws, guint i)
{
  return json_node_get_object (g_ptr_array_index (ws->messages, i));
}

static const char *
msg_type (Ws * ws, guint i)
{
  return json_object_get_string_member_with_default (msg_obj (ws, i), "type",
      "");
}

/* Index of the first message of @type of call @call_id (NULL: any) at or
 * after @from, or -1. */
static gint
find_msg (Ws * ws, guint from, const char *type, const char *call_id)
{
  for (guint i = from; i < ws->messages->len; i++) {
    JsonObject *o = msg_obj (ws, i);

    if (g_str_equal (msg_type (ws, i), type) && (call_id == NULL
            || g_strcmp0 (json_object_get_string_member_with_default (o,
                    "call_id", NULL), call_id) == 0))
      return (gint) i;
  }
  return -1;
}

static guint
count_msgs (Ws * ws, const char *type)
{
  guint n = 0;

  for (guint i = 0; i < ws->messages->len; i++)
    n += g_str_equal (msg_type (ws, i), type);
  return n;
}

/* ---- Exotel frames ---- */

static char *
start_frame (const char *call_sid, const char *stream_sid, const char *leg)
{
  g_autofree char *params = leg ?
      g_strdup_printf ("{\"leg\":\"%s\",\"lang\":\"en\"}", leg) :
      g_strdup ("{\"lang\":\"en\"}");

  return g_strdup_printf ("{\"event\":\"start\",\"sequence_number\":\"2\","
      "\"stream_sid\":\"%s\",\"start\":{\"stream_sid\":\"%s\","
      "\"call_sid\":\"%s\",\"account_sid\":\"acct\",\"from\":\"0999\","
      "\"to\":\"0804\",\"custom_parameters\":%s,\"media_format\":"
      "{\"encoding\":\"base64\",\"sample_rate\":\"8000\","
      "\"bit_rate\":\"128kbps\"}}}", stream_sid, stream_sid, call_sid, params);
}

static char *
media_frame (const char *stream_sid, guint chunk, const gint16 * samples,
    guint n)
{
  g_autofree char *payload = g_base64_encode ((const guchar *) samples,
      n * sizeof (gint16));

  return g_strdup_printf ("{\"event\":\"media\",\"sequence_number\":\"%u\","
      "\"stream_sid\":\"%s\",\"media\":{\"chunk\":\"%u\",\"timestamp\":"
      "\"%u\",\"payload\":\"%s\"}}", chunk + 3, stream_sid, chunk + 1,
      chunk * 100, payload);
}

static char *
stop_frame (const char *call_sid, const char *stream_sid)
{
  return g_strdup_printf ("{\"event\":\"stop\",\"sequence_number\":\"999\","
      "\"stream_sid\":\"%s\",\"stop\":{\"call_sid\":\"%s\","
      "\"account_sid\":\"acct\",\"reason\":\"callended\"}}", stream_sid,
      call_sid);
}

/* Sends @n_chunks frames of 100 ms: the fixture's speech (if given) with
 * half a second of silence either side, then silence. */
static void
send_media (Ws * ws, const char *stream_sid, const char *fixture,
    guint n_chunks)
{
  g_autofree char *speech = NULL;
  gsize speech_len = 0;
  const guint per = 800, lead = 4000;

  if (fixture != NULL) {
    g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "data",
        fixture, NULL);
    g_autoptr (GError) error = NULL;

    g_assert_true (g_file_get_contents (path, &speech, &speech_len, &error));
    g_assert_no_error (error);
    n_chunks = MAX (n_chunks, (speech_len / 2 + 2 * lead) / per + 1);
  }
  for (guint c = 0; c < n_chunks; c++) {
    gint16 buf[800];
    g_autofree char *frame = NULL;

    for (guint i = 0; i < per; i++) {
      gsize s = (gsize) c * per + i;

      buf[i] = (speech != NULL && s >= lead && s - lead < speech_len / 2) ?
          ((gint16 *) speech)[s - lead] : (gint16) ((i * 7919) % 17 - 8);
    }
    frame = media_frame (stream_sid, c, buf, per);
    ws_send (ws, frame);
  }
}

static void
open_call (Ws * ws, const char *call_sid, const char *stream_sid,
    const char *leg)
{
  g_autofree char *start = start_frame (call_sid, stream_sid, leg);

  ws_send (ws, "{\"event\":\"connected\"}");
  ws_send (ws, start);
}

static void
stop_call (Ws * ws, const char *call_sid, const char *stream_sid)
{
  g_autofree char *stop = stop_frame (call_sid, stream_sid);

  ws_send (ws, stop);
}

/* ---- Tests ---- */

static void
test_config (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CopilotDaemonConfig) def = copilot_daemon_config_new ();
  g_autoptr (CopilotDaemonConfig) c = NULL;
  g_autofree char *example = g_test_build_filename (G_TEST_DIST, "..",
      "data", "copilot.conf", NULL);

  g_assert_cmpuint (def->port, ==, 8080);
  g_assert_cmpstr (def->address, ==, "127.0.0.1");
  g_assert_false (copilot_daemon_config_has_auth (def));

  c = copilot_daemon_config_new_from_data ("[exotel]\nmax-calls=abc\n", &error);
  g_assert_null (c);
  g_assert_nonnull (strstr (error->message, "max-calls"));
  g_clear_error (&error);

  c = copilot_daemon_config_new_from_data ("[exotel]\nidle-timeout=-1\n",
      &error);
  g_assert_null (c);
  g_assert_nonnull (strstr (error->message, "idle-timeout"));
  g_clear_error (&error);

  c = copilot_daemon_config_new_from_data ("[exotel]\nusername=x\n", &error);
  g_assert_null (c);
  g_assert_nonnull (strstr (error->message, "password"));
  g_clear_error (&error);

  c = copilot_daemon_config_new_from_data ("[exotel]\nallow-ips=10.0.0.0/8;"
      "nonsense\n", &error);
  g_assert_null (c);
  g_assert_nonnull (strstr (error->message, "allow-ips"));
  g_clear_error (&error);

  /* The shipped example documents the defaults and must load. */
  c = copilot_daemon_config_new_from_file (example, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->port, ==, def->port);
  g_assert_cmpuint (c->max_calls, ==, def->max_calls);
  g_assert_cmpfloat (c->idle_timeout, ==, def->idle_timeout);
  g_assert_cmpuint (c->max_frame_size, ==, def->max_frame_size);
  g_assert_cmpuint (c->max_events_per_call, ==, def->max_events_per_call);
  g_assert_null (c->decoder_options);

  /* [asr] decoder-options is checked when the daemon starts: a bad value
   * stops it with a message naming the key; a good one starts. */
  {
    g_autoptr (CopilotDaemonConfig) bad =
        copilot_daemon_config_new_from_data ("[server]\nport=0\n[asr]\n"
        "decoder-options=-nosuchoption 3\n", &error);
    g_autoptr (CopilotDaemonConfig) good =
        copilot_daemon_config_new_from_data ("[server]\nport=0\n[asr]\n"
        "decoder-options=-maxhmmpf 3000\n", &error);
    g_autoptr (CopilotDaemon) d1 = NULL;
    g_autoptr (CopilotDaemon) d2 = NULL;
    g_autoptr (GError) start_error = NULL;

    g_assert_no_error (error);
    g_assert_cmpstr (good->decoder_options, ==, "-maxhmmpf 3000");
    d1 = copilot_daemon_new (g_steal_pointer (&bad));
    g_assert_false (copilot_daemon_start (d1, &start_error));
    g_assert_nonnull (start_error);
    g_assert_nonnull (strstr (start_error->message, "decoder-options"));
    d2 = copilot_daemon_new (g_steal_pointer (&good));
    g_assert_true (copilot_daemon_start (d2, &error));
    g_assert_no_error (error);
    copilot_daemon_stop (d2);
    WAIT_UNTIL (copilot_daemon_is_quiet (d2));
  }
}

static void
test_auth (void)
{
  Fixture f = { 0 };
  Ws *ws;

  fixture_start (&f, "username=" USER "\npassword=" PASS "\n"
      "[asr]\nenabled=false\n");

  ws = ws_connect (&f, "/exotel/media", NULL, NULL);
  g_assert_null (ws->conn);
  g_assert_cmpuint (ws->http_status, ==, 401);
  ws_free (ws);
  ws = ws_connect (&f, "/exotel/media", USER, "wrong");
  g_assert_null (ws->conn);
  g_assert_cmpuint (ws->http_status, ==, 401);
  ws_free (ws);
  ws = ws_connect (&f, "/exotel/media", USER PASS, "");
  g_assert_null (ws->conn);
  g_assert_cmpuint (ws->http_status, ==, 401);
  ws_free (ws);
  g_assert_cmpuint (copilot_daemon_get_n_streams (f.daemon), ==, 0);
  g_assert_cmpuint (copilot_call_table_get_n_active
      (copilot_daemon_get_call_table (f.daemon)), ==, 0);

  ws = ws_open (&f, "/exotel/media");
  WAIT_UNTIL (copilot_daemon_get_n_streams (f.daemon) == 1);
  open_call (ws, "call-auth", "s1", NULL);
  WAIT_UNTIL (lookup_call (&f, "call-auth") != NULL);
  ws_free (ws);
  fixture_stop (&f);
}

static void
test_ip_allow_list (void)
{
  Fixture f = { 0 };
  Ws *ws;

  fixture_start (&f, "allow-ips=10.1.0.0/16\n[asr]\nenabled=false\n");
  ws = ws_connect (&f, "/exotel/media", NULL, NULL);
  g_assert_null (ws->conn);
  g_assert_cmpuint (ws->http_status, ==, 401);
  ws_free (ws);
  fixture_stop (&f);

  fixture_start (&f, "allow-ips=10.1.0.0/16;127.0.0.1\n[asr]\nenabled=false\n");
  ws = ws_connect (&f, "/exotel/media", NULL, NULL);
  g_assert_nonnull (ws->conn);
  ws_free (ws);
  fixture_stop (&f);
}

/* Checks the events a /live client got for @call_id: strictly increasing
 * seq from 1 without holes, call.started once, first, call.ended last. */
static void
check_call_events (Ws * live, const char *call_id, const char *reason)
{
  guint64 expect = 1;
  guint started = 0;
  JsonObject *last = NULL;

  for (guint i = 0; i < live->messages->len; i++) {
    JsonObject *o = msg_obj (live, i);

    if (g_strcmp0 (json_object_get_string_member_with_default (o, "call_id",
                NULL), call_id) != 0 || g_str_equal (msg_type (live, i),
            "calls"))
      continue;
    g_assert_cmpint (json_object_get_int_member (o, "seq"), ==, expect);
    g_assert_cmpint (json_object_get_int_member (o, "ts_ms"), >, 0);
    if (expect == 1)
      g_assert_cmpstr (msg_type (live, i), ==, "call.started");
    started += g_str_equal (msg_type (live, i), "call.started");
    expect++;
    last = o;
  }
  g_assert_cmpuint (started, ==, 1);
  g_assert_nonnull (last);
  g_assert_cmpstr (json_object_get_string_member (last, "type"), ==,
      "call.ended");
  g_assert_cmpstr (json_object_get_string_member (last, "reason"), ==, reason);
}

static void
test_full_call (void)
{
  Fixture f = { 0 };
  Ws *live, *ingest;
  gint i;
  JsonObject *final;
  const char *text;

  fixture_start (&f, NULL);
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"call-full\"}");
  ingest = ws_open (&f, "/exotel/media?track=customer");
  open_call (ingest, "call-full", "stream-full", NULL);
  send_media (ingest, "stream-full", "daemon-customer-8000.raw", 0);
  stop_call (ingest, "call-full", "stream-full");

  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-full") >= 0);
  /* The stop frame ends the stream normally. */
  WAIT_UNTIL (ingest->closed);
  g_assert_cmpuint (ingest->close_code, ==, 1000);

  i = find_msg (live, 0, "call.started", "call-full");
  g_assert_cmpint (i, >=, 0);
  g_assert_cmpstr (json_object_get_string_member (msg_obj (live, i), "from"),
      ==, "0999");
  g_assert_cmpint (json_object_get_int_member (msg_obj (live, i),
          "sample_rate"), ==, 8000);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member
          (msg_obj (live, i), "custom_parameters"), "lang"), ==, "en");

  i = find_msg (live, 0, "transcript.final", "call-full");
  g_assert_cmpint (i, >=, 0);
  final = msg_obj (live, i);
  g_assert_cmpstr (json_object_get_string_member (final, "speaker"), ==,
      "customer");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (final,
              "segment_id"), "call-full-customer-"));
  text = json_object_get_string_member (final, "text");
  g_test_message ("final: \"%s\" (latency %" G_GINT64_FORMAT " ms)", text,
      json_object_get_int_member (final, "latency_ms"));
  g_assert_cmpuint (strlen (text), >, 0);
  g_assert_true (json_object_has_member (final, "latency_ms"));
  g_assert_cmpint (json_object_get_int_member (final, "latency_ms"), >=, 0);
  g_assert_cmpint (json_object_get_int_member (final, "end_ms"), >,
      json_object_get_int_member (final, "start_ms"));
  check_call_events (live, "call-full", "callended");

  g_assert_true (copilot_call_is_ended (lookup_call (&f, "call-full")));
  g_assert_cmpuint (copilot_daemon_get_metrics (f.daemon)->frames_dropped,
      ==, 0);
  ws_free (ingest);
  ws_free (live);
  fixture_stop (&f);
}

static void
test_two_legs (void)
{
  Fixture f = { 0 };
  Ws *live, *customer, *agent;
  g_autoptr (JsonNode) json = NULL;
  JsonObject *call;
  gboolean saw[2] = { FALSE, FALSE };

  fixture_start (&f, NULL);
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  WAIT_UNTIL (find_msg (live, 0, "calls", NULL) >= 0);

  customer = ws_open (&f, "/exotel/media?track=customer");
  agent = ws_open (&f, "/exotel/media");
  open_call (customer, "call-two", "stream-c", NULL);
  open_call (agent, "call-two", "stream-a", "agent");
  send_media (customer, "stream-c", "daemon-customer-8000.raw", 0);
  send_media (agent, "stream-a", "daemon-agent-8000.raw", 0);
  stop_call (agent, "call-two", "stream-a");
  stop_call (customer, "call-two", "stream-c");
  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-two") >= 0);

  for (guint i = 0; i < live->messages->len; i++) {
    JsonObject *o = msg_obj (live, i);

    if (!g_str_equal (msg_type (live, i), "transcript.final"))
      continue;
    g_assert_cmpstr (json_object_get_string_member (o, "call_id"), ==,
        "call-two");
    if (g_str_equal (json_object_get_string_member (o, "speaker"), "agent"))
      saw[0] = TRUE;
    else if (g_str_equal (json_object_get_string_member (o, "speaker"),
            "customer"))
      saw[1] = TRUE;
  }
  g_assert_true (saw[0]);
  g_assert_true (saw[1]);
  check_call_events (live, "call-two", "callended");

  g_assert_cmpuint (http (&f, "GET", "/api/calls/call-two", NULL, &json,
          NULL), ==, 200);
  call = json_object_get_object_member (json_node_get_object (json), "call");
  g_assert_cmpstr (json_object_get_string_member (call, "state"), ==, "ended");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (call,
              "legs")), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (call, "end_reason"), ==,
      "callended");

  ws_free (customer);
  ws_free (agent);
  ws_free (live);
  fixture_stop (&f);
}

static void
test_idle_timeout (void)
{
  Fixture f = { 0 };
  Ws *live, *ingest, *quiet;
  CopilotCall *call;

  fixture_start (&f, "idle-timeout=0.5\n[asr]\nenabled=false\n");
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"call-idle\"}");
  ingest = ws_open (&f, "/exotel/media");
  open_call (ingest, "call-idle", "stream-idle", NULL);
  send_media (ingest, "stream-idle", NULL, 3);
  /* A stream that never starts is closed too, and creates nothing. */
  quiet = ws_open (&f, "/exotel/media");

  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-idle") >= 0);
  WAIT_UNTIL (ingest->closed && quiet->closed);
  g_assert_cmpuint (ingest->close_code, ==, 1000);
  g_assert_cmpuint (quiet->close_code, ==, 1000);
  check_call_events (live, "call-idle", "timeout");
  call = lookup_call (&f, "call-idle");
  g_assert_true (copilot_call_is_ended (call));
  g_assert_cmpuint (copilot_call_table_get_n_active
      (copilot_daemon_get_call_table (f.daemon)), ==, 0);

  ws_free (quiet);
  ws_free (ingest);
  ws_free (live);
  fixture_stop (&f);
}

static void
test_max_calls (void)
{
  Fixture f = { 0 };
  Ws *a, *b, *second_leg;

  fixture_start (&f, "max-calls=1\n[asr]\nenabled=false\n");
  a = ws_open (&f, "/exotel/media");
  open_call (a, "call-a", "sa", NULL);
  WAIT_UNTIL (lookup_call (&f, "call-a") != NULL);

  b = ws_open (&f, "/exotel/media");
  open_call (b, "call-b", "sb", NULL);
  WAIT_UNTIL (b->closed);
  /* Refused with 1008 (libsoup 3.2 cannot send 1013). */
  g_assert_cmpuint (b->close_code, ==, 1008);
  g_assert_cmpuint (copilot_daemon_get_metrics (f.daemon)->streams_refused_busy,
      ==, 1);
  g_assert_null (lookup_call (&f, "call-b"));

  /* The second leg of the running call is not a new call. */
  second_leg = ws_open (&f, "/exotel/media?track=agent");
  open_call (second_leg, "call-a", "sa2", NULL);
  /* A duplicate leg is refused, the call is untouched. */
  {
    Ws *dup = ws_open (&f, "/exotel/media?track=agent");

    open_call (dup, "call-a", "sa3", NULL);
    WAIT_UNTIL (dup->closed);
    g_assert_cmpuint (dup->close_code, ==, 1008);
    ws_free (dup);
  }

  send_media (a, "sa", NULL, 3);
  stop_call (a, "call-a", "sa");
  stop_call (second_leg, "call-a", "sa2");
  WAIT_UNTIL (copilot_call_is_ended (lookup_call (&f, "call-a")));
  g_assert_false (second_leg->closed && second_leg->close_code != 1000);
  g_assert_cmpuint (copilot_daemon_get_metrics (f.daemon)->streams_refused,
      ==, 2);

  ws_free (a);
  ws_free (b);
  ws_free (second_leg);
  fixture_stop (&f);
}

static void
test_bad_input (void)
{
  Fixture f = { 0 };
  Ws *live, *bad, *good, *huge, *fast;
  g_autofree char *big = NULL;
  const CopilotMetrics *m;
  guint64 dropped;

  fixture_start (&f, "max-frame-size=4096\nmax-frames-per-second=60\n"
      "[asr]\nenabled=false\n");
  m = copilot_daemon_get_metrics (f.daemon);
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  good = ws_open (&f, "/exotel/media");
  open_call (good, "call-good", "sg", NULL);
  send_media (good, "sg", NULL, 2);

  /* Binary, not JSON, media before start: counted, the stream stays open
   * and can still start a call. */
  bad = ws_open (&f, "/exotel/media");
  soup_websocket_connection_send_binary (bad->conn, "\x01\x02\x03", 3);
  ws_send (bad, "this is not json");
  ws_send (bad, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  send_media (bad, "sbad", NULL, 1);
  WAIT_UNTIL (m->frames_dropped == 4);
  g_assert_false (bad->closed);
  g_assert_null (lookup_call (&f, "call-bad"));
  open_call (bad, "call-bad", "sbad", NULL);
  /* After start, a frame exotelsrc refuses at once (bad base64); a second
   * start is only counted in exotelsrc's own stats. */
  open_call (bad, "call-bad", "sbad", NULL);
  ws_send (bad, "{\"event\":\"media\",\"stream_sid\":\"sbad\",\"media\":"
      "{\"chunk\":\"9\",\"timestamp\":\"900\",\"payload\":\"!!!\"}}");
  WAIT_UNTIL (m->frames_dropped == 5);
  g_assert_false (bad->closed);
  send_media (bad, "sbad", NULL, 2);

  /* A frame over max-frame-size closes that stream with 1009. */
  huge = ws_open (&f, "/exotel/media");
  open_call (huge, "call-huge", "sh", NULL);
  big = g_strnfill (8000, 'x');
  ws_send (huge, big);
  WAIT_UNTIL (huge->closed);
  /* The server sends 1009 and drops the connection at once; with the big
   * frame still unread the kernel may reset it before the client reads the
   * close frame, so the count tells. */
  g_assert_true (huge->close_code == 1009 || huge->close_code == 0);
  g_assert_cmpuint (m->frames_oversized, ==, 1);
  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-huge") >= 0);
  g_assert_cmpstr (json_object_get_string_member (msg_obj (live, find_msg
              (live, 0, "call.ended", "call-huge")), "reason"), ==,
      "disconnected");

  /* Over the frame rate: 1008. */
  fast = ws_open (&f, "/exotel/media");
  open_call (fast, "call-fast", "sf", NULL);
  send_media (fast, "sf", NULL, 300);
  WAIT_UNTIL (fast->closed);
  g_assert_cmpuint (fast->close_code, ==, 1008);
  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-fast") >= 0);

  /* The other calls were not disturbed. */
  g_assert_false (good->closed);
  g_assert_false (bad->closed);
  dropped = m->frames_dropped;
  stop_call (good, "call-good", "sg");
  stop_call (bad, "call-bad", "sbad");
  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-good") >= 0
      && find_msg (live, 0, "call.ended", "call-bad") >= 0);
  check_call_events (live, "call-good", "callended");
  check_call_events (live, "call-bad", "callended");
  g_assert_cmpuint (m->frames_dropped, ==, dropped);

  ws_free (fast);
  ws_free (huge);
  ws_free (bad);
  ws_free (good);
  ws_free (live);
  fixture_stop (&f);
}

static void
post_text (Fixture * f, const char *id, const char *speaker, const char *text)
{
  g_autofree char *path = g_strdup_printf ("/api/calls/%s/transcript", id);
  g_autofree char *body = g_strdup_printf ("{\"speaker\":\"%s\","
      "\"text\":\"%s\"}", speaker, text);
  g_autoptr (JsonNode) json = NULL;
  JsonObject *event;

  g_assert_cmpuint (http (f, "POST", path, body, &json, NULL), ==, 201);
  event = json_object_get_object_member (json_node_get_object (json), "event");
  g_assert_cmpstr (json_object_get_string_member (event, "type"), ==,
      "transcript.final");
  g_assert_cmpstr (json_object_get_string_member (event, "text"), ==, text);
}

static void
assert_seqs (Ws * ws, guint from, const char *call_id, guint64 first,
    guint64 last)
{
  guint64 expect = first;

  for (guint i = from; i < ws->messages->len; i++) {
    JsonObject *o = msg_obj (ws, i);

    if (g_strcmp0 (json_object_get_string_member_with_default (o, "call_id",
                NULL), call_id) != 0 || g_str_equal (msg_type (ws, i), "calls"))
      continue;
    g_assert_cmpint (json_object_get_int_member (o, "seq"), ==, expect);
    expect++;
  }
  g_assert_cmpint (expect, ==, last + 1);
}

static void
test_reconnect (void)
{
  Fixture f = { 0 };
  Ws *a, *b, *all;

  fixture_start (&f, "[asr]\nenabled=false\n");
  a = ws_open (&f, "/live/ws");
  ws_send (a, "{\"type\":\"subscribe\",\"call_id\":\"r1\"}");
  post_text (&f, "r1", "agent", "one");
  post_text (&f, "r1", "customer", "two");
  post_text (&f, "r1", "agent", "three");
  WAIT_UNTIL (a->messages->len == 3);
  assert_seqs (a, 0, "r1", 1, 3);
  ws_free (a);

  /* Missed while away. */
  post_text (&f, "r1", "customer", "four");
  post_text (&f, "r1", "agent", "five");
  post_text (&f, "r2", "agent", "other call");

  b = ws_open (&f, "/live/ws");
  ws_send (b, "{\"type\":\"subscribe\",\"call_id\":\"r1\",\"last_seq\":3}");
  WAIT_UNTIL (b->messages->len == 2);
  post_text (&f, "r1", "customer", "six");
  WAIT_UNTIL (b->messages->len == 3);
  assert_seqs (b, 0, "r1", 4, 6);
  g_assert_cmpstr (json_object_get_string_member (msg_obj (b, 0), "text"), ==,
      "four");

  /* "*" with a last_seq per call: calls snapshot, then what was missed. */
  all = ws_open (&f, "/live/ws");
  ws_send (all, "{\"type\":\"subscribe\",\"call_id\":\"*\","
      "\"last_seq\":{\"r1\":5,\"r2\":0}}");
  WAIT_UNTIL (all->messages->len == 3);
  g_assert_cmpstr (msg_type (all, 0), ==, "calls");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (msg_obj (all, 0), "calls")), ==, 2);
  assert_seqs (all, 1, "r1", 6, 6);
  assert_seqs (all, 1, "r2", 1, 1);

  /* Ending a call: its event, then a new snapshot for "*" clients. */
  g_assert_cmpuint (http (&f, "POST", "/api/calls/r2/end", NULL, NULL, NULL),
      ==, 200);
  WAIT_UNTIL (find_msg (all, 3, "calls", NULL) >= 0);
  g_assert_cmpint (find_msg (all, 0, "call.ended", "r2"), >=, 0);
  g_assert_cmpint (find_msg (b, 0, "call.ended", "r2"), <, 0);

  ws_free (all);
  ws_free (b);
  fixture_stop (&f);
}

static void
test_live_bad_messages (void)
{
  Fixture f = { 0 };
  Ws *live;

  fixture_start (&f, "[asr]\nenabled=false\n");
  live = ws_open (&f, "/live/ws");
  ws_send (live, "not json");
  ws_send (live, "{\"type\":\"dance\"}");
  ws_send (live, "{\"call_id\":\"x\"}");
  ws_send (live, "{\"type\":\"subscribe\"}");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"x\",\"last_seq\":"
      "\"many\"}");
  soup_websocket_connection_send_binary (live->conn, "\0\1", 2);
  ws_send (live, "{\"type\":\"ping\"}");
  WAIT_UNTIL (live->messages->len == 7);
  g_assert_cmpuint (count_msgs (live, "error"), ==, 6);
  g_assert_cmpstr (msg_type (live, 6), ==, "pong");
  for (guint i = 0; i < 6; i++)
    g_assert_nonnull (json_object_get_string_member (msg_obj (live, i),
            "error"));
  g_assert_false (live->closed);
  ws_free (live);
  fixture_stop (&f);
}

static void
test_rest (void)
{
  Fixture f = { 0 };
  g_autoptr (JsonNode) json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *big = NULL;
  g_autofree char *big_body = NULL;
  JsonObject *o;
  JsonArray *calls, *events;

  fixture_start (&f, "[asr]\nenabled=false\n[api]\nmax-body-size=1024\n");

  g_assert_cmpuint (http (&f, "GET", "/healthz", NULL, &json, NULL), ==, 200);
  o = json_node_get_object (json);
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "ok");
  g_assert_cmpint (json_object_get_int_member (o, "active_calls"), ==, 0);
  g_clear_pointer (&json, json_node_unref);

  post_text (&f, "rest-1", "agent", "hello there");
  post_text (&f, "rest-2", "customer", "hi");

  g_assert_cmpuint (http (&f, "GET", "/api/calls", NULL, &json, NULL), ==, 200);
  calls = json_object_get_array_member (json_node_get_object (json), "calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 2);
  g_clear_pointer (&json, json_node_unref);

  g_assert_cmpuint (http (&f, "POST", "/api/calls/rest-1/end", NULL, &json,
          NULL), ==, 200);
  o = json_object_get_object_member (json_node_get_object (json), "call");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "ended");
  g_assert_cmpstr (json_object_get_string_member (o, "end_reason"), ==,
      "stopped");
  g_clear_pointer (&json, json_node_unref);

  /* Active first, then ended. */
  g_assert_cmpuint (http (&f, "GET", "/api/calls", NULL, &json, NULL), ==, 200);
  calls = json_object_get_array_member (json_node_get_object (json), "calls");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (calls, 0), "call_id"), ==, "rest-2");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (calls, 1), "state"), ==, "ended");
  g_clear_pointer (&json, json_node_unref);

  g_assert_cmpuint (http (&f, "GET", "/api/calls/rest-1", NULL, &json, NULL),
      ==, 200);
  events = json_object_get_array_member (json_node_get_object (json), "events");
  g_assert_cmpuint (json_array_get_length (events), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (events, 0), "text"), ==, "hello there");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (events, 1), "type"), ==, "call.ended");
  g_clear_pointer (&json, json_node_unref);

  /* Errors, each with a JSON body. */
  g_assert_cmpuint (http (&f, "GET", "/api/calls/nope", NULL, &json, NULL),
      ==, 404);
  g_assert_true (json_object_has_member (json_node_get_object (json), "error"));
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/nope/end", NULL, &json,
          NULL), ==, 404);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/x/transcript", "{oops",
          &json, NULL), ==, 400);
  g_assert_true (json_object_has_member (json_node_get_object (json), "error"));
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/x/transcript",
          "{\"speaker\":\"robot\",\"text\":\"hi\"}", &json, NULL), ==, 400);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/x/transcript",
          "{\"speaker\":\"agent\"}", &json, NULL), ==, 400);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/rest-1/transcript",
          "{\"speaker\":\"agent\",\"text\":\"late\"}", &json, NULL), ==, 409);
  g_clear_pointer (&json, json_node_unref);
  big = g_strnfill (4000, 'a');
  big_body = g_strdup_printf ("{\"speaker\":\"agent\",\"text\":\"%s\"}", big);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/x/transcript", big_body,
          &json, NULL), ==, 413);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "GET", "/api/calls/bad%20id", NULL, &json,
          NULL), ==, 400);
  g_clear_pointer (&json, json_node_unref);
  g_assert_cmpuint (http (&f, "GET", "/nowhere", NULL, &json, NULL), ==, 404);
  g_clear_pointer (&json, json_node_unref);
  g_assert_null (lookup_call (&f, "x"));

  g_assert_cmpuint (http (&f, "GET", "/metrics", NULL, NULL, &text), ==, 200);
  g_assert_nonnull (strstr (text, "\ncopilot_active_calls 1\n"));
  g_assert_nonnull (strstr (text, "\ncopilot_events_total 3\n"));
  g_assert_nonnull (strstr (text, "copilot_frames_received_total 0\n"));
  g_assert_nonnull (strstr (text, "copilot_frames_dropped_total 0\n"));
  g_assert_nonnull (strstr (text,
          "copilot_transcript_final_latency_seconds_count 2\n"));
  g_assert_nonnull (strstr (text,
          "copilot_transcript_final_latency_seconds_bucket{le=\"+Inf\"} 2\n"));

  fixture_stop (&f);
}

/* Stopping the daemon ends every call ("stopped") and closes every socket. */
static void
test_shutdown (void)
{
  Fixture f = { 0 };
  Ws *live, *ingest;

  fixture_start (&f, "[asr]\nenabled=false\n");
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  ingest = ws_open (&f, "/exotel/media");
  open_call (ingest, "call-stop", "sx", NULL);
  send_media (ingest, "sx", NULL, 2);
  WAIT_UNTIL (find_msg (live, 0, "call.started", "call-stop") >= 0);

  copilot_daemon_stop (f.daemon);
  WAIT_UNTIL (live->closed && ingest->closed);
  g_assert_cmpuint (live->close_code, ==, 1001);
  g_assert_cmpuint (ingest->close_code, ==, 1001);
  check_call_events (live, "call-stop", "stopped");
  ws_free (ingest);
  ws_free (live);
  fixture_stop (&f);
}

/* ---- /live subscriptions and limits ---- */

static void
test_live_resubscribe (void)
{
  Fixture f = { 0 };
  Ws *a, *all, *late;
  CopilotCall *call;

  fixture_start (&f, "[asr]\nenabled=false\n");
  post_text (&f, "rs1", "agent", "one");
  post_text (&f, "rs1", "customer", "two");

  /* Subscribing again to a followed call replays nothing. */
  a = ws_open (&f, "/live/ws");
  ws_send (a, "{\"type\":\"subscribe\",\"call_id\":\"rs1\"}");
  WAIT_UNTIL (a->messages->len == 2);
  for (guint i = 0; i < 5; i++)
    ws_send (a, "{\"type\":\"subscribe\",\"call_id\":\"rs1\"}");
  ws_send (a, "{\"type\":\"subscribe\",\"call_id\":\"rs1\",\"last_seq\":0}");
  ws_send (a, "{\"type\":\"ping\"}");
  WAIT_UNTIL (a->messages->len == 3);
  g_assert_cmpstr (msg_type (a, 2), ==, "pong");
  post_text (&f, "rs1", "agent", "three");
  WAIT_UNTIL (a->messages->len == 4);
  assert_seqs (a, 0, "rs1", 1, 3);

  /* A second "*", and "*" plus an id, send nothing twice. */
  all = ws_open (&f, "/live/ws");
  ws_send (all, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  ws_send (all, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  ws_send (all, "{\"type\":\"subscribe\",\"call_id\":\"rs1\"}");
  ws_send (all, "{\"type\":\"ping\"}");
  WAIT_UNTIL (find_msg (all, 0, "pong", NULL) >= 0);
  g_assert_cmpuint (count_msgs (all, "calls"), ==, 1);
  post_text (&f, "rs1", "customer", "four");
  WAIT_UNTIL (find_msg (all, 0, "transcript.final", NULL) >= 0
      && json_object_get_int_member (msg_obj (all, all->messages->len - 1),
          "seq") == 4);
  assert_seqs (all, 0, "rs1", 1, 4);

  /* Ended calls are replayed to a new "*" subscriber, whole. */
  g_assert_cmpuint (http (&f, "POST", "/api/calls/rs1/end", NULL, NULL,
          NULL), ==, 200);
  call = lookup_call (&f, "rs1");
  g_assert_true (copilot_call_is_ended (call));
  WAIT_UNTIL (find_msg (all, 0, "call.ended", "rs1") >= 0);
  late = ws_open (&f, "/live/ws");
  ws_send (late, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  WAIT_UNTIL (find_msg (late, 0, "call.ended", "rs1") >= 0);
  g_assert_cmpstr (msg_type (late, 0), ==, "calls");
  assert_seqs (late, 0, "rs1", 1, copilot_call_get_last_seq (call));
  assert_seqs (all, 0, "rs1", 1, copilot_call_get_last_seq (call));

  ws_free (late);
  ws_free (all);
  ws_free (a);
  fixture_stop (&f);
}

static void
test_live_subscription_limits (void)
{
  Fixture f = { 0 };
  Ws *live;
  g_autofree char *long_id = g_strnfill (200, 'a');
  g_autofree char *msg = NULL;
  guint n;

  fixture_start (&f, "[asr]\nenabled=false\n");
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"bad id!\"}");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"../x\"}");
  msg = g_strdup_printf ("{\"type\":\"subscribe\",\"call_id\":\"%s\"}",
      long_id);
  ws_send (live, msg);
  WAIT_UNTIL (live->messages->len == 3);
  g_assert_cmpuint (count_msgs (live, "error"), ==, 3);

  /* 64 ids are fine, re-subscribing to one is a no-op, the 65th fails. */
  for (guint i = 0; i < 64; i++) {
    g_autofree char *sub = g_strdup_printf ("{\"type\":\"subscribe\","
        "\"call_id\":\"sub-%u\"}", i);

    ws_send (live, sub);
  }
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"sub-7\"}");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"sub-64\"}");
  ws_send (live, "{\"type\":\"ping\"}");
  WAIT_UNTIL (live->messages->len == 5);
  g_assert_cmpstr (msg_type (live, 3), ==, "error");
  g_assert_nonnull (strstr (json_object_get_string_member (msg_obj (live, 3),
              "error"), "too many subscriptions"));
  g_assert_cmpstr (msg_type (live, 4), ==, "pong");

  /* Unsubscribing makes room again. */
  ws_send (live, "{\"type\":\"unsubscribe\",\"call_id\":\"sub-0\"}");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"sub-64\"}");
  post_text (&f, "sub-64", "agent", "hello");
  WAIT_UNTIL (find_msg (live, 0, "transcript.final", "sub-64") >= 0);
  n = count_msgs (live, "error");
  g_assert_cmpuint (n, ==, 4);
  g_assert_false (live->closed);
  ws_free (live);
  fixture_stop (&f);
}

static void
test_live_max_clients (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CopilotDaemonConfig) config = NULL;
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GInetAddress) inet = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (inet, 0);
  CopilotMetrics metrics = { 0 };
  g_autoptr (CopilotCallTable) table = copilot_call_table_new (100, 10,
      &metrics);
  g_autoptr (CopilotLiveHub) hub = NULL;
  GSList *uris;
  Fixture f = { 0 };
  Ws *a, *b, *c, *d;

  config = copilot_daemon_config_new_from_data ("[live]\n"
      "max-live-clients=2\n", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->live_max_clients, ==, 2);
  g_clear_pointer (&config, copilot_daemon_config_free);
  config = copilot_daemon_config_new_from_data ("[live]\n"
      "max-live-clients=0\n", &error);
  g_assert_null (config);
  g_assert_nonnull (strstr (error->message, "max-live-clients"));
  g_clear_error (&error);

  hub = copilot_live_hub_new (server, "/live/ws", table, 100, 65536, 0);
  copilot_live_hub_set_max_clients (hub, 2);
  g_assert_true (soup_server_listen (server, addr, 0, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  f.port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  f.session = soup_session_new ();

  a = ws_open (&f, "/live/ws");
  b = ws_open (&f, "/live/ws");
  WAIT_UNTIL (copilot_live_hub_get_n_clients (hub) == 2);
  c = ws_open (&f, "/live/ws");
  WAIT_UNTIL (c->closed);
  g_assert_cmpuint (c->close_code, ==, 1008);
  g_assert_cmpstr (soup_websocket_connection_get_close_data (c->conn), ==,
      "too many clients");
  g_assert_cmpuint (copilot_live_hub_get_n_clients (hub), ==, 2);
  g_assert_false (a->closed || b->closed);

  /* A place freed is a place taken. */
  ws_free (a);
  WAIT_UNTIL (copilot_live_hub_get_n_clients (hub) == 1);
  d = ws_open (&f, "/live/ws");
  ws_send (d, "{\"type\":\"ping\"}");
  WAIT_UNTIL (d->messages->len == 1);
  g_assert_false (d->closed);

  ws_free (d);
  ws_free (c);
  ws_free (b);
  WAIT_UNTIL (copilot_live_hub_get_n_clients (hub) == 0);
  soup_session_abort (f.session);
  g_clear_object (&f.session);
  soup_server_disconnect (server);
  while (g_main_context_iteration (NULL, FALSE));
}

/* A client that subscribes without ever reading: a raw socket, so that
 * nothing reads for it while the test iterates the main context. */
typedef struct
{
  GSocketConnection *conn;
  GByteArray *in;
} RawWs;

static gboolean
raw_read_some (RawWs * raw)
{
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM
      (g_io_stream_get_input_stream (G_IO_STREAM (raw->conn)));
  guint8 buf[65536];
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (in, buf, sizeof buf, NULL,
      NULL);
  if (n > 0)
    g_byte_array_append (raw->in, buf, n);
  return n == 0;                /* end of stream */
}

static void
raw_send (RawWs * raw, const char *text)
{
  gsize len = strlen (text);
  GByteArray *frame = g_byte_array_new ();
  guint8 head[4] = { 0x81, 0, 0, 0 };
  guint8 mask[4] = { 0, 0, 0, 0 };      /* a zero mask leaves the text as is */
  g_autoptr (GError) error = NULL;

  if (len < 126) {
    head[1] = 0x80 | len;
    g_byte_array_append (frame, head, 2);
  } else {
    g_assert_cmpuint (len, <, 65536);
    head[1] = 0x80 | 126;
    head[2] = len >> 8;
    head[3] = len & 0xff;
    g_byte_array_append (frame, head, 4);
  }
  g_byte_array_append (frame, mask, 4);
  g_byte_array_append (frame, (const guint8 *) text, len);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream
          (G_IO_STREAM (raw->conn)), frame->data, frame->len, NULL, NULL,
          &error));
  g_assert_no_error (error);
  g_byte_array_unref (frame);
}

/* Parses the next whole server frame at the head of raw->in: returns its
 * opcode and payload, or -1 if it is not all there yet. */
static gint
raw_next_frame (RawWs * raw, GBytes ** payload)
{
  const guint8 *d = raw->in->data;
  guint64 len;
  guint hdr = 2;
  gint opcode;

  if (raw->in->len < 2)
    return -1;
  len = d[1] & 0x7f;
  if (len == 126) {
    if (raw->in->len < 4)
      return -1;
    len = (d[2] << 8) | d[3];
    hdr = 4;
  } else if (len == 127) {
    if (raw->in->len < 10)
      return -1;
    len = 0;
    for (guint i = 0; i < 8; i++)
      len = (len << 8) | d[2 + i];
    hdr = 10;
  }
  if (raw->in->len < hdr + len)
    return -1;
  opcode = d[0] & 0x0f;
  *payload = g_bytes_new (d + hdr, len);
  g_byte_array_remove_range (raw->in, 0, hdr + len);
  return opcode;
}

static void
test_live_slow_subscriber (void)
{
  Fixture f = { 0 };
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strnfill (4000, 'x');
  g_autofree char *request = NULL;
  CopilotCall *call;
  RawWs raw = { 0 };
  GBytes *payload = NULL;
  guint64 last_seq = 0;
  guint n_events = 0, n_pongs = 0, n_errors = 0;
  gint opcode;
  gboolean eos = FALSE;
  gint64 deadline;

  fixture_start (&f, "[asr]\nenabled=false\n[live]\nmax-queue=50\n"
      "[events]\nmax-events-per-call=6000\n");
  /* One ended call whose log (20 MB) is more than the sockets can hold. */
  call = copilot_call_table_create (copilot_daemon_get_call_table (f.daemon),
      "big");
  for (guint i = 0; i < 5000; i++)
    copilot_call_add_transcript (call, "agent", text);
  copilot_call_end (call, "callended");

  raw.in = g_byte_array_new ();
  raw.conn = g_socket_client_connect_to_host (sc, "127.0.0.1", f.port, NULL,
      &error);
  g_assert_no_error (error);
  request = g_strdup_printf ("GET /live/ws HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", f.port);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream
          (G_IO_STREAM (raw.conn)), request, strlen (request), NULL, NULL,
          &error));
  g_assert_no_error (error);
  WAIT_UNTIL (raw_read_some (&raw) || (raw.in->len > 0
          && g_strstr_len ((char *) raw.in->data,
              raw.in->len, "\r\n\r\n") != NULL));
  g_assert_true (g_str_has_prefix ((char *) raw.in->data, "HTTP/1.1 101"));
  g_byte_array_set_size (raw.in, 0);
  WAIT_UNTIL (copilot_daemon_get_n_live_clients (f.daemon) == 1);

  /* Subscribe over and over without reading, then ping: the replay is sent
   * once as the socket allows, and what waits is bounded by max-queue. */
  for (guint i = 0; i < 2000; i++)
    raw_send (&raw, "{\"type\":\"subscribe\",\"call_id\":\"big\"}");
  for (guint i = 0; i < 2000; i++)
    raw_send (&raw, "{\"type\":\"subscribe\",\"call_id\":\"*\"}");
  for (guint i = 0; i < 2000; i++)
    raw_send (&raw, "{\"type\":\"ping\"}");

  /* Read everything now: the events of "big" at most once each, then the
   * 1008 close. */
  deadline = g_get_monotonic_time () + WAIT_LIMIT_S * G_USEC_PER_SEC;
  while (TRUE) {
    while ((opcode = raw_next_frame (&raw, &payload)) < 0 && !eos) {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out reading from /live/ws");
      g_main_context_iteration (NULL, FALSE);
      eos = raw_read_some (&raw);
    }
    if (opcode < 0)
      break;
    if (opcode == 0x8) {
      gsize len;
      const guint8 *d = g_bytes_get_data (payload, &len);

      g_assert_cmpuint (len, >=, 2);
      g_assert_cmpuint ((d[0] << 8) | d[1], ==, 1008);
      g_bytes_unref (payload);
      break;
    }
    g_assert_cmpint (opcode, ==, 0x1);
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      gsize len;
      const char *data = g_bytes_get_data (payload, &len);
      JsonObject *o;
      const char *type;

      g_assert_true (json_parser_load_from_data (parser, data, len, NULL));
      o = json_node_get_object (json_parser_get_root (parser));
      type = json_object_get_string_member (o, "type");
      if (g_str_equal (type, "pong")) {
        n_pongs++;
      } else if (g_str_equal (type, "error")) {
        n_errors++;
      } else if (!g_str_equal (type, "calls")) {
        g_assert_cmpstr (json_object_get_string_member (o, "call_id"), ==,
            "big");
        g_assert_cmpint (json_object_get_int_member (o, "seq"), ==,
            last_seq + 1);
        last_seq++;
        n_events++;
      }
    }
    g_bytes_unref (payload);
  }
  g_assert_false (eos);
  g_assert_cmpuint (n_events, <=, copilot_call_get_last_seq (call));
  g_assert_cmpuint (n_pongs, <, 2000);
  g_assert_cmpuint (n_errors, ==, 0);

  g_io_stream_close (G_IO_STREAM (raw.conn), NULL, NULL);
  g_clear_object (&raw.conn);
  g_byte_array_unref (raw.in);
  WAIT_UNTIL (copilot_daemon_get_n_live_clients (f.daemon) == 0);
  fixture_stop (&f);
}

/* What the second review found, each as a peer would do it. */
static const char *
summary_string (Fixture * f, const char *id, const char *member)
{
  static char value[64];
  g_autofree char *path = g_strdup_printf ("/api/calls/%s", id);
  g_autoptr (JsonNode) json = NULL;
  JsonObject *call;

  g_assert_cmpuint (http (f, "GET", path, NULL, &json, NULL), ==, 200);
  call = json_object_get_object_member (json_node_get_object (json), "call");
  if (json_object_get_null_member (call, member))
    return NULL;
  g_strlcpy (value, json_object_get_string_member (call, member),
      sizeof (value));
  return value;
}

static gboolean
send_connected_cb (gpointer user_data)
{
  Ws *ws = user_data;

  /* Removed by the test; sends only while the socket is open. */
  if (!ws->closed && soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    ws_send (ws, "{\"event\":\"connected\"}");
  return G_SOURCE_CONTINUE;
}

static void
test_peer_abuse (void)
{
  Fixture f = { 0 };
  Ws *a, *b, *rate, *idle, *agent;
  guint ticker;

  /* The idle timeout must outlast the slowest step (ASan), not race it; the
   * start deadline is checked with a short one at the end. */
  fixture_start (&f, "max-calls=1\nidle-timeout=60\n[asr]\nenabled=false\n");

  /* A chunked body has no declared length: refused before it is read. */
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/calls/"
        "x/transcript", f.port);
    g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
    g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data
        ("{\"speaker\":\"agent\",\"text\":\"hi\"}", -1, NULL);
    HttpResult r = { 0 };

    soup_message_set_request_body (msg, "application/json", in, -1);
    soup_session_send_and_read_async (f.session, msg, G_PRIORITY_DEFAULT,
        NULL, http_done_cb, &r);
    WAIT_UNTIL (r.done);
    g_assert_no_error (r.error);
    g_assert_cmpuint (soup_message_get_status (msg), ==, 411);
    g_bytes_unref (r.body);
    g_assert_null (lookup_call (&f, "x"));
  }

  /* Calls fed through REST have their own limit and cannot lock Exotel
   * streams out. */
  g_assert_cmpuint (http (&f, "POST", "/api/calls/r1/transcript",
          "{\"speaker\":\"agent\",\"text\":\"hello\"}", NULL, NULL), ==, 201);
  g_assert_cmpuint (http (&f, "POST", "/api/calls/r2/transcript",
          "{\"speaker\":\"agent\",\"text\":\"hello\"}", NULL, NULL), ==, 503);
  a = ws_open (&f, "/exotel/media");
  open_call (a, "call-a", "sa", "customer");
  WAIT_UNTIL (lookup_call (&f, "call-a") != NULL);

  /* An unsupported sample rate is refused cleanly (no GLib warning: the
   * test runs with fatal warnings). */
  rate = ws_open (&f, "/exotel/media");
  {
    g_autofree char *start = start_frame ("call-a", "s44", "agent");
    g_autofree char *bad = NULL;
    char *at = strstr (start, "\"8000\"");

    g_assert_nonnull (at);
    at[0] = '\0';
    bad = g_strconcat (start, "\"44100\"", at + 6, NULL);
    ws_send (rate, bad);
  }
  WAIT_UNTIL (rate->closed);
  g_assert_cmpuint (rate->close_code, ==, 1008);

  /* A speaker reconnecting to a live call replaces its ended leg, and the
   * call shows no end reason while it is active. */
  agent = ws_open (&f, "/exotel/media");
  open_call (agent, "call-a", "sg", "agent");
  send_media (agent, "sg", NULL, 2);
  stop_call (agent, "call-a", "sg");
  WAIT_UNTIL (agent->closed);
  for (guint i = 0; i < 3; i++) {
    g_autofree char *sid = g_strdup_printf ("sg%u", i);
    Ws *again = ws_open (&f, "/exotel/media");

    open_call (again, "call-a", sid, "agent");
    stop_call (again, "call-a", sid);
    WAIT_UNTIL (again->closed);
    ws_free (again);
  }
  g_assert_cmpstr (summary_string (&f, "call-a", "state"), ==, "active");
  g_assert_null (summary_string (&f, "call-a", "end_reason"));

  /* stop followed at once by a close ends the call as "callended". */
  send_media (a, "sa", NULL, 2);
  stop_call (a, "call-a", "sa");
  soup_websocket_connection_close (a->conn, 1000, NULL);
  WAIT_UNTIL (copilot_call_is_ended (lookup_call (&f, "call-a")));
  g_assert_cmpstr (summary_string (&f, "call-a", "end_reason"), ==,
      "callended");

  ws_free (a);
  ws_free (rate);
  ws_free (agent);
  fixture_stop (&f);

  /* A stream must start within the idle timeout of connecting: repeated
   * "connected" frames do not keep it open. */
  fixture_start (&f, "idle-timeout=0.5\n[asr]\nenabled=false\n");
  idle = ws_open (&f, "/exotel/media");
  ticker = g_timeout_add (50, send_connected_cb, idle);
  WAIT_UNTIL (idle->closed);
  g_source_remove (ticker);
  g_assert_cmpuint (copilot_call_table_get_n_active
      (copilot_daemon_get_call_table (f.daemon)), ==, 0);

  b = NULL;
  ws_free (idle);
  g_clear_pointer (&b, ws_free);
  fixture_stop (&f);
}

/* One stream carrying both legs (?tracks=both): inbound frames are the
 * customer, outbound frames the agent, each recognised on its own leg. */
static void
test_dual_track (void)
{
  Fixture f = { 0 };
  Ws *live, *ingest;
  const char *fixtures[2] = { "daemon-customer-8000.raw",
    "daemon-agent-8000.raw"
  };
  const char *tracks[2] = { "inbound", "outbound" };
  char *speech[2] = { NULL, NULL };
  gsize speech_len[2] = { 0, 0 };
  const guint per = 800, lead = 4000;
  guint n_chunks = 0;
  gboolean saw[2] = { FALSE, FALSE };
  g_autoptr (JsonNode) json = NULL;
  JsonObject *call;
  JsonArray *legs;
  gint i;

  for (guint t = 0; t < 2; t++) {
    g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "data",
        fixtures[t], NULL);
    g_autoptr (GError) error = NULL;

    g_assert_true (g_file_get_contents (path, &speech[t], &speech_len[t],
            &error));
    g_assert_no_error (error);
    n_chunks = MAX (n_chunks, (speech_len[t] / 2 + 2 * lead) / per + 1);
  }

  fixture_start (&f, NULL);
  live = ws_open (&f, "/live/ws");
  ws_send (live, "{\"type\":\"subscribe\",\"call_id\":\"call-dual\"}");
  ingest = ws_open (&f, "/exotel/media?tracks=both");
  open_call (ingest, "call-dual", "stream-dual", NULL);
  /* Frames alternate between the tracks, as Exotel interleaves them. */
  for (guint c = 0; c < n_chunks; c++) {
    for (guint t = 0; t < 2; t++) {
      const gint16 *samples = (const gint16 *) speech[t];
      gint16 buf[800];
      g_autofree char *frame = NULL;
      g_autoptr (GString) tagged = NULL;
      g_autofree char *tag = g_strdup_printf ("\"media\":{\"track\":\"%s\",",
          tracks[t]);

      for (guint k = 0; k < per; k++) {
        gsize s = (gsize) c * per + k;

        buf[k] = (s >= lead && s - lead < speech_len[t] / 2) ?
            samples[s - lead] : (gint16) ((k * 7919) % 17 - 8);
      }
      frame = media_frame ("stream-dual", c, buf, per);
      tagged = g_string_new (frame);
      g_assert_cmpuint (g_string_replace (tagged, "\"media\":{", tag, 1), ==,
          1);
      ws_send (ingest, tagged->str);
    }
  }
  stop_call (ingest, "call-dual", "stream-dual");
  g_free (speech[0]);
  g_free (speech[1]);

  WAIT_UNTIL (find_msg (live, 0, "call.ended", "call-dual") >= 0);
  /* The stream closes normally once both of its legs have ended. */
  WAIT_UNTIL (ingest->closed);
  g_assert_cmpuint (ingest->close_code, ==, 1000);
  check_call_events (live, "call-dual", "callended");

  i = find_msg (live, 0, "call.started", "call-dual");
  g_assert_cmpint (i, >=, 0);
  legs = json_object_get_array_member (msg_obj (live, i), "tracks");
  g_assert_cmpuint (json_array_get_length (legs), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (legs, 0), ==, "agent");
  g_assert_cmpstr (json_array_get_string_element (legs, 1), ==, "customer");

  for (guint k = 0; k < live->messages->len; k++) {
    JsonObject *o = msg_obj (live, k);
    const char *speaker;

    if (!g_str_equal (msg_type (live, k), "transcript.final"))
      continue;
    speaker = json_object_get_string_member (o, "speaker");
    if (g_str_equal (speaker, "agent"))
      saw[0] = TRUE;
    else if (g_str_equal (speaker, "customer"))
      saw[1] = TRUE;
  }
  g_assert_true (saw[0]);
  g_assert_true (saw[1]);

  g_assert_cmpuint (http (&f, "GET", "/api/calls/call-dual", NULL, &json,
          NULL), ==, 200);
  call = json_object_get_object_member (json_node_get_object (json), "call");
  g_assert_cmpstr (json_object_get_string_member (call, "state"), ==, "ended");
  g_assert_cmpstr (json_object_get_string_member (call, "end_reason"), ==,
      "callended");
  legs = json_object_get_array_member (call, "legs");
  g_assert_cmpuint (json_array_get_length (legs), ==, 2);

  ws_free (ingest);
  ws_free (live);
  fixture_stop (&f);
}

int
main (int argc, char **argv)
{
  /* GIO's GNOME proxy module needs GSettings schemas, which tests do not
   * have; the connections are local anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  gst_init (&argc, &argv);

  g_test_add_func ("/daemon/config", test_config);
  g_test_add_func ("/daemon/auth", test_auth);
  g_test_add_func ("/daemon/ip-allow-list", test_ip_allow_list);
  g_test_add_func ("/daemon/rest", test_rest);
  g_test_add_func ("/daemon/live-bad-messages", test_live_bad_messages);
  g_test_add_func ("/daemon/reconnect", test_reconnect);
  g_test_add_func ("/daemon/live-resubscribe", test_live_resubscribe);
  g_test_add_func ("/daemon/live-subscription-limits",
      test_live_subscription_limits);
  g_test_add_func ("/daemon/live-max-clients", test_live_max_clients);
  g_test_add_func ("/daemon/live-slow-subscriber", test_live_slow_subscriber);
  g_test_add_func ("/daemon/idle-timeout", test_idle_timeout);
  g_test_add_func ("/daemon/max-calls", test_max_calls);
  g_test_add_func ("/daemon/peer-abuse", test_peer_abuse);
  g_test_add_func ("/daemon/bad-input", test_bad_input);
  g_test_add_func ("/daemon/shutdown", test_shutdown);
  g_test_add_func ("/daemon/full-call", test_full_call);
  g_test_add_func ("/daemon/two-legs", test_two_legs);
  g_test_add_func ("/daemon/dual-track", test_dual_track);

  return g_test_run ();
}
