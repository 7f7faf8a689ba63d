/* copilot-replay: plays a recorded call (WAV) to copilotd exactly as Exotel
 * streams a live one, and records what the daemon makes of it.
 *
 * Each leg of the call is one Exotel Stream WebSocket to the ingest endpoint
 * (default ws://127.0.0.1:8080/exotel/media): text frames `connected`,
 * `start`, one `media` frame per --frame-ms of audio, `stop`, then a normal
 * close. A mono WAV is one leg ("customer" unless --leg says otherwise); a
 * stereo WAV is two streams with the same call_sid, the left channel being
 * the agent and the right one the customer. Each stream names its leg twice:
 * in the query (`?track=agent`) and in `start.custom_parameters.leg`.
 *
 * Media frames leave on a timer at the pace the audio was recorded (a frame
 * is sent when its last sample would have been captured), or --speed times
 * faster, or with --speed 0 as fast as the main loop gets to them.
 *
 * Meanwhile the tool subscribes to the daemon's /live/ws for the call and
 * writes every event of the call as one JSON line (stdout or --out). It exits
 * when call.ended has arrived for every call, or when --timeout passes; the
 * exit status is 0 only if every call ended that way. 1 means a runtime
 * failure (bad WAV, connection refused, timeout), 2 bad options.
 *
 * With --calls N it is the load bench: N concurrent calls (distinct call ids,
 * same audio) started --stagger-ms apart, and a summary at the end: calls
 * completed, transcript.final count and latency percentiles, events/s,
 * frames sent and dropped (from the daemon's /metrics when it has them), and
 * with --daemon-pid the daemon's CPU time and RSS over the run.
 *
 * Everything runs on the default main context; nothing blocks except writing
 * the small NDJSON lines and reading /proc files. */
#include "config.h"

#include "copilot-replay-wav.h"

#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_URL "ws://127.0.0.1:8080/exotel/media"
#define DEFAULT_FRAME_MS 100
#define DEFAULT_LEG "customer"
/* Added to the audio duration (at the chosen speed) for the default timeout. */
#define TIMEOUT_MARGIN_S 30.0
/* How long to wait before asking again when /live/ws refuses a subscription
 * (the daemon may not know the call until it has handled the start frame). */
#define RESUBSCRIBE_MS 200
/* Once everything is finished, how long close handshakes may take. */
#define CLOSE_GRACE_MS 2000
/* Nothing big should ever come back on the ingest socket; /live carries
 * whole events (knowledge base snippets, call lists). */
#define INGEST_MAX_PAYLOAD (64 * 1024)
#define LIVE_MAX_PAYLOAD (16 * 1024 * 1024)
#define KEEPALIVE_S 20

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

typedef struct _App App;
typedef struct _Call Call;

typedef enum
{
  LEG_IDLE,
  LEG_CONNECTING,
  LEG_STREAMING,
  LEG_STOPPED,                  /* stop sent, close handshake under way */
  LEG_CLOSED,
} LegState;

typedef struct
{
  Call *call;
  const char *name;             /* "agent" or "customer" */
  guint channel;
  char *stream_sid;
  SoupWebsocketConnection *conn;
  GSource *pacer;
  LegState state;
  gsize pos;                    /* samples per channel sent */
  gint64 seq;                   /* sequence_number of the last frame */
  gint64 chunk;                 /* chunk of the last media frame */
  gint64 t0_us;                 /* monotonic time streaming began */
  gint64 due_us;                /* when the pending frame is due */
} Leg;

struct _Call
{
  App *app;
  guint index;
  char *id;
  Leg legs[2];
  guint n_legs;
  SoupWebsocketConnection *live;
  gboolean live_requested;
  gboolean subscribed;          /* an event of the call has arrived */
  guint resubscribe_id;
  guint start_id;
  guint linger_id;
  guint n_events;
  gboolean ended;               /* call.ended received */
  gboolean failed;
  gboolean done;
};

typedef struct
{
  gboolean valid;
  double cpu_s;
  double rss_kib;
  double hwm_kib;
} ProcSample;

struct _App
{
  /* Options. */
  char *url;
  char *live_url;
  char *metrics_url;
  char *user;
  char *password;
  char *call_id;
  char *leg;
  char *encoding;
  char *out_path;
  char *from;
  char *to;
  char *account_sid;
  int frame_ms;
  double speed;
  double timeout_s;
  int n_calls;
  int stagger_ms;
  int linger_ms;
  int daemon_pid;
  gboolean summary;

  /* Run state; main context only. */
  CopilotReplayWav *wav;
  gboolean mulaw;
  GUri *ingest_uri;
  char *auth_header;
  SoupSession *session;
  GCancellable *cancellable;
  GMainLoop *loop;
  FILE *out;
  GPtrArray *calls;
  guint n_done;
  guint pending;                /* async operations not yet completed */
  guint n_open;                 /* WebSockets not yet closed */
  guint timeout_id;
  guint grace_id;
  gboolean finishing;
  gboolean shutting_down;

  /* Figures for the summary. */
  gint64 start_us;
  gint64 end_us;
  guint64 frames_sent;
  guint64 n_events;
  guint n_finals;
  gint64 max_lag_us;
  GArray *latencies;            /* double, ms */
  double dropped_before;
  double dropped_after;
  ProcSample proc_before;
  ProcSample proc_after;
};

static void call_check_done (Call * call);
static void maybe_quit (App * app);
static void call_fail (Call * call);
static void app_finish (App * app);
static void app_shutdown (App * app);

static gboolean
fail_usage (const char *message)
{
  g_printerr ("copilot-replay: %s\n", message);
  g_printerr ("Try 'copilot-replay --help'.\n");
  return FALSE;
}

static double
audio_seconds (App * app)
{
  return (double) app->wav->n_frames / app->wav->rate;
}

static void
close_conn (SoupWebsocketConnection * conn)
{
  if (conn != NULL
      && soup_websocket_connection_get_state (conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

static void
send_json (SoupWebsocketConnection * conn, JsonBuilder * b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);

  soup_websocket_connection_send_text (conn, text);
}

static void
add_string (JsonBuilder * b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

/* Exotel writes every number as a string. */
static void
add_number_string (JsonBuilder * b, const char *name, gint64 value)
{
  g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  add_string (b, name, s);
}

/* ---- Ingest legs ---- */

static void
leg_stop_pacer (Leg * leg)
{
  if (leg->pacer == NULL)
    return;
  g_source_destroy (leg->pacer);
  g_clear_pointer (&leg->pacer, g_source_unref);
}

static void
leg_send_start (Leg * leg)
{
  App *app = leg->call->app;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint bits = app->mulaw ? 8 : 16;
  g_autofree char *bit_rate = g_strdup_printf ("%ukbps",
      app->wav->rate * bits / 1000);

  json_builder_begin_object (b);
  add_string (b, "event", "connected");
  json_builder_end_object (b);
  send_json (leg->conn, b);

  json_builder_reset (b);
  json_builder_begin_object (b);
  add_string (b, "event", "start");
  add_number_string (b, "sequence_number", ++leg->seq);
  add_string (b, "stream_sid", leg->stream_sid);
  json_builder_set_member_name (b, "start");
  json_builder_begin_object (b);
  add_string (b, "stream_sid", leg->stream_sid);
  add_string (b, "call_sid", leg->call->id);
  add_string (b, "account_sid", app->account_sid);
  add_string (b, "from", app->from);
  add_string (b, "to", app->to);
  json_builder_set_member_name (b, "custom_parameters");
  json_builder_begin_object (b);
  add_string (b, "leg", leg->name);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "media_format");
  json_builder_begin_object (b);
  /* "base64" is what Exotel calls its raw 16-bit little-endian PCM. */
  add_string (b, "encoding", app->mulaw ? "audio/x-mulaw" : "base64");
  add_number_string (b, "sample_rate", app->wav->rate);
  add_string (b, "bit_rate", bit_rate);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  send_json (leg->conn, b);
}

static void
leg_send_stop (Leg * leg)
{
  App *app = leg->call->app;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "event", "stop");
  add_number_string (b, "sequence_number", ++leg->seq);
  add_string (b, "stream_sid", leg->stream_sid);
  json_builder_set_member_name (b, "stop");
  json_builder_begin_object (b);
  add_string (b, "call_sid", leg->call->id);
  add_string (b, "account_sid", app->account_sid);
  add_string (b, "reason", "callended");
  json_builder_end_object (b);
  json_builder_end_object (b);
  send_json (leg->conn, b);
}

/* Sends the samples [pos, pos + n) of the leg's channel as one media frame. */
static void
leg_send_media (Leg * leg, gsize n)
{
  App *app = leg->call->app;
  const CopilotReplayWav *wav = app->wav;
  gsize bytes = app->mulaw ? n : 2 * n;
  g_autofree guint8 *payload = g_malloc (bytes);
  g_autofree char *b64 = NULL;
  g_autofree char *text = NULL;
  gsize i;

  for (i = 0; i < n; i++) {
    gint16 s = wav->samples[(leg->pos + i) * wav->channels + leg->channel];

    if (app->mulaw) {
      payload[i] = copilot_replay_mulaw_encode (s);
    } else {
      payload[2 * i] = (guint8) (s & 0xff);
      payload[2 * i + 1] = (guint8) (((guint16) s) >> 8);
    }
  }
  b64 = g_base64_encode (payload, bytes);

  /* Every string here is ours (hex ids, digits, base64), so no escaping is
   * needed and the frame is formatted directly: this is the hot path. */
  text = g_strdup_printf ("{\"event\":\"media\",\"sequence_number\":\"%"
      G_GINT64_FORMAT "\",\"stream_sid\":\"%s\",\"media\":{\"chunk\":\"%"
      G_GINT64_FORMAT "\",\"timestamp\":\"%" G_GUINT64_FORMAT
      "\",\"payload\":\"%s\"}}", ++leg->seq, leg->stream_sid, ++leg->chunk,
      (guint64) leg->pos * 1000 / wav->rate, b64);
  soup_websocket_connection_send_text (leg->conn, text);
  app->frames_sent++;
}

/* Monotonic time at which the audio up to sample @pos has been "captured". */
static gint64
leg_due_time (Leg * leg, gsize pos)
{
  App *app = leg->call->app;

  if (app->speed <= 0)
    return 0;
  return leg->t0_us + (gint64) ((double) pos * G_USEC_PER_SEC /
      app->wav->rate / app->speed);
}

static gsize
frame_samples (App * app)
{
  return MAX ((gsize) 1, (gsize) app->wav->rate * app->frame_ms / 1000);
}

/* Main context (the leg's pacer source). */
static gboolean
leg_pace_cb (gpointer user_data)
{
  Leg *leg = user_data;
  App *app = leg->call->app;
  gsize n = MIN (frame_samples (app), app->wav->n_frames - leg->pos);

  g_assert (g_main_context_is_owner (g_main_context_default ()));
  if (leg->state != LEG_STREAMING
      || soup_websocket_connection_get_state (leg->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN) {
    g_clear_pointer (&leg->pacer, g_source_unref);
    return G_SOURCE_REMOVE;
  }

  if (app->speed > 0)
    app->max_lag_us = MAX (app->max_lag_us,
        g_get_monotonic_time () - leg->due_us);
  leg_send_media (leg, n);
  leg->pos += n;

  if (leg->pos >= app->wav->n_frames) {
    leg_send_stop (leg);
    leg->state = LEG_STOPPED;
    g_debug ("call %s: %s leg stopped after %" G_GINT64_FORMAT " chunks",
        leg->call->id, leg->name, leg->chunk);
    soup_websocket_connection_close (leg->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
    g_clear_pointer (&leg->pacer, g_source_unref);
    return G_SOURCE_REMOVE;
  }

  n = MIN (frame_samples (app), app->wav->n_frames - leg->pos);
  leg->due_us = leg_due_time (leg, leg->pos + n);
  g_source_set_ready_time (leg->pacer, leg->due_us);
  return G_SOURCE_CONTINUE;
}

static gboolean
pacer_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

/* A source that fires at its ready time only: frames are due at absolute
 * times derived from the audio position, so the pace does not drift. */
static GSourceFuncs pacer_funcs = {
  .dispatch = pacer_dispatch,
};

static void
leg_start_streaming (Leg * leg)
{
  App *app = leg->call->app;
  gsize n = MIN (frame_samples (app), app->wav->n_frames);

  leg->state = LEG_STREAMING;
  leg->t0_us = g_get_monotonic_time ();
  leg->due_us = leg_due_time (leg, n);

  leg->pacer = g_source_new (&pacer_funcs, sizeof (GSource));
  g_source_set_name (leg->pacer, "copilot-replay pacer");
  /* Unpaced frames yield to socket I/O and to the live events. */
  g_source_set_priority (leg->pacer,
      app->speed > 0 ? G_PRIORITY_DEFAULT : G_PRIORITY_LOW);
  g_source_set_callback (leg->pacer, leg_pace_cb, leg, NULL);
  g_source_set_ready_time (leg->pacer, leg->due_us);
  g_source_attach (leg->pacer, NULL);
}

static void
ingest_message_cb (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  Leg *leg = user_data;

  /* Exotel's bidirectional streams may get mark/clear frames back; a replay
   * has nothing to do with them. */
  g_debug ("call %s: %s leg: ignoring a message from the daemon",
      leg->call->id, leg->name);
}

static void
conn_error_cb (SoupWebsocketConnection * conn, GError * error,
    gpointer user_data)
{
  Call *call = user_data;

  g_debug ("call %s: WebSocket error: %s", call->id, error->message);
}

static void
ingest_closed_cb (SoupWebsocketConnection * conn, gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;
  App *app = call->app;
  LegState was = leg->state;

  g_assert (g_main_context_is_owner (g_main_context_default ()));
  leg_stop_pacer (leg);
  leg->state = LEG_CLOSED;
  app->n_open--;

  if (was != LEG_STOPPED && !app->shutting_down && !call->done) {
    const char *reason = soup_websocket_connection_get_close_data (conn);

    g_printerr ("copilot-replay: call %s: the daemon closed the %s stream "
        "after %" G_GINT64_FORMAT " media frames (close code %u%s%s)\n",
        call->id, leg->name, leg->chunk,
        soup_websocket_connection_get_close_code (conn),
        reason != NULL && *reason != '\0' ? ": " : "",
        reason != NULL ? reason : "");
    call_fail (call);
  }

  call_check_done (call);
  maybe_quit (app);
}

static void live_connect (Call * call);

static void
ingest_connected (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;
  App *app = call->app;
  g_autoptr (GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (app->session,
      result);
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (app->session, result, &error);
  if (conn == NULL) {
    guint status = msg != NULL ? soup_message_get_status (msg) : 0;
    g_autofree char *uri = msg != NULL ?
        g_uri_to_string (soup_message_get_uri (msg)) : g_strdup (app->url);

    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    if (status >= 100 && status != SOUP_STATUS_SWITCHING_PROTOCOLS)
      g_printerr ("copilot-replay: call %s: %s refused the %s stream: "
          "HTTP %u %s\n", call->id, uri, leg->name, status,
          soup_message_get_reason_phrase (msg));
    else
      g_printerr ("copilot-replay: call %s: cannot connect to %s: %s\n",
          call->id, uri, error->message);
    leg->state = LEG_CLOSED;
    call_fail (call);
    return;
  }

  leg->conn = conn;
  app->n_open++;
  soup_websocket_connection_set_keepalive_interval (conn, KEEPALIVE_S);
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      INGEST_MAX_PAYLOAD);
  g_signal_connect (conn, "message", G_CALLBACK (ingest_message_cb), leg);
  g_signal_connect (conn, "error", G_CALLBACK (conn_error_cb), call);
  g_signal_connect (conn, "closed", G_CALLBACK (ingest_closed_cb), leg);

  if (call->done || app->finishing) {
    /* The call was given up while this stream was connecting. */
    leg->state = LEG_STOPPED;
    close_conn (conn);
    return;
  }

  g_debug ("call %s: %s stream connected", call->id, leg->name);
  leg_send_start (leg);
  leg_start_streaming (leg);
  /* Subscribing only once a start frame is on its way gives the daemon the
   * best chance to know the call already. */
  live_connect (call);
}

static void
ingest_connected_cb (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  Leg *leg = user_data;
  App *app = leg->call->app;

  app->pending--;
  ingest_connected (source, result, user_data);
  maybe_quit (app);
}

static GUri *
leg_uri (App * app, Leg * leg)
{
  const char *query = g_uri_get_query (app->ingest_uri);
  g_autofree char *new_query = query != NULL && *query != '\0' ?
      g_strdup_printf ("%s&track=%s", query, leg->name) :
      g_strdup_printf ("track=%s", leg->name);

  return g_uri_build (G_URI_FLAGS_ENCODED,
      g_uri_get_scheme (app->ingest_uri), NULL,
      g_uri_get_host (app->ingest_uri), g_uri_get_port (app->ingest_uri),
      g_uri_get_path (app->ingest_uri), new_query, NULL);
}

static void
leg_connect (Leg * leg)
{
  App *app = leg->call->app;
  g_autoptr (GUri) uri = leg_uri (app, leg);
  g_autoptr (SoupMessage) msg = soup_message_new_from_uri ("GET", uri);

  if (app->auth_header != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", app->auth_header);
  leg->state = LEG_CONNECTING;
  app->pending++;
  soup_session_websocket_connect_async (app->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, app->cancellable, ingest_connected_cb, leg);
}

/* ---- The /live subscription ---- */

static void
write_event (App * app, const char *text, gsize len, JsonNode * node)
{
  /* Events arrive as one line each; anything pretty-printed is compacted so
   * that the output stays one JSON object per line. */
  if (memchr (text, '\n', len) != NULL || memchr (text, '\r', len) != NULL) {
    g_autofree char *line = json_to_string (node, FALSE);

    fputs (line, app->out);
  } else {
    fwrite (text, 1, len, app->out);
  }
  fputc ('\n', app->out);
  fflush (app->out);
}

static void
live_subscribe (Call * call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (call->live == NULL
      || soup_websocket_connection_get_state (call->live) !=
      SOUP_WEBSOCKET_STATE_OPEN)
    return;
  json_builder_begin_object (b);
  add_string (b, "type", "subscribe");
  add_string (b, "call_id", call->id);
  json_builder_end_object (b);
  send_json (call->live, b);
}

static gboolean
resubscribe_cb (gpointer user_data)
{
  Call *call = user_data;

  call->resubscribe_id = 0;
  live_subscribe (call);
  return G_SOURCE_REMOVE;
}

static gboolean
linger_done_cb (gpointer user_data)
{
  Call *call = user_data;

  call->linger_id = 0;
  call_check_done (call);
  return G_SOURCE_REMOVE;
}

static void
handle_event (Call * call, JsonObject * obj, const char *type)
{
  App *app = call->app;

  call->subscribed = TRUE;
  call->n_events++;
  app->n_events++;

  if (g_strcmp0 (type, "transcript.final") == 0) {
    JsonNode *lat = json_object_get_member (obj, "latency_ms");

    app->n_finals++;
    if (lat != NULL && JSON_NODE_HOLDS_VALUE (lat)
        && (json_node_get_value_type (lat) == G_TYPE_INT64
            || json_node_get_value_type (lat) == G_TYPE_DOUBLE)) {
      double ms = json_node_get_double (lat);

      g_array_append_val (app->latencies, ms);
    }
  } else if (g_strcmp0 (type, "call.ended") == 0 && !call->ended) {
    call->ended = TRUE;
    g_debug ("call %s: call.ended received", call->id);
    /* Events that follow the end (a disposition) may be waited for. */
    if (app->linger_ms > 0)
      call->linger_id = g_timeout_add (app->linger_ms, linger_done_cb, call);
    else
      call_check_done (call);
  }
}

static void
live_message_cb (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  Call *call = user_data;
  App *app = call->app;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  JsonNode *root;
  JsonObject *obj;
  const char *ev_type, *call_id;

  g_assert (g_main_context_is_owner (g_main_context_default ()));
  if (type != SOUP_WEBSOCKET_DATA_TEXT || call->done || len == 0)
    return;
  if (!json_parser_load_from_data (parser, text, (gssize) len, &error)) {
    g_debug ("call %s: ignoring a /live message that is not JSON: %s",
        call->id, error->message);
    return;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  obj = json_node_get_object (root);
  ev_type = json_object_get_string_member_with_default (obj, "type", NULL);
  call_id = json_object_get_string_member_with_default (obj, "call_id", NULL);

  if (g_strcmp0 (ev_type, "error") == 0) {
    /* Most likely the daemon does not know the call yet; ask again until
     * events flow (bounded by the overall timeout). */
    g_debug ("call %s: /live says: %s", call->id,
        json_object_get_string_member_with_default (obj, "error", "?"));
    if (!call->subscribed && !call->ended && call->resubscribe_id == 0)
      call->resubscribe_id = g_timeout_add (RESUBSCRIBE_MS, resubscribe_cb,
          call);
    return;
  }
  if (ev_type == NULL || g_strcmp0 (call_id, call->id) != 0)
    return;

  write_event (app, text, len, root);
  handle_event (call, obj, ev_type);
}

static void
live_closed_cb (SoupWebsocketConnection * conn, gpointer user_data)
{
  Call *call = user_data;
  App *app = call->app;

  app->n_open--;
  if (!app->shutting_down && !call->done && !call->ended) {
    g_printerr ("copilot-replay: call %s: /live/ws closed before call.ended "
        "(close code %u)\n", call->id,
        soup_websocket_connection_get_close_code (conn));
    call_fail (call);
  }
  maybe_quit (app);
}

static void
live_connected (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Call *call = user_data;
  App *app = call->app;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (app->session, result, &error);
  if (conn == NULL) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    g_printerr ("copilot-replay: call %s: cannot subscribe at %s: %s\n",
        call->id, app->live_url, error->message);
    call_fail (call);
    return;
  }

  call->live = conn;
  app->n_open++;
  soup_websocket_connection_set_keepalive_interval (conn, KEEPALIVE_S);
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      LIVE_MAX_PAYLOAD);
  g_signal_connect (conn, "message", G_CALLBACK (live_message_cb), call);
  g_signal_connect (conn, "error", G_CALLBACK (conn_error_cb), call);
  g_signal_connect (conn, "closed", G_CALLBACK (live_closed_cb), call);
  if (call->done || app->finishing) {
    close_conn (conn);
    return;
  }
  live_subscribe (call);
}

static void
live_connected_cb (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Call *call = user_data;
  App *app = call->app;

  app->pending--;
  live_connected (source, result, user_data);
  maybe_quit (app);
}

static void
live_connect (Call * call)
{
  App *app = call->app;
  g_autoptr (SoupMessage) msg = NULL;

  if (call->live_requested)
    return;
  call->live_requested = TRUE;
  msg = soup_message_new ("GET", app->live_url);
  app->pending++;
  soup_session_websocket_connect_async (app->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, app->cancellable, live_connected_cb, call);
}

/* ---- Calls ---- */

static Call *
call_new (App * app, guint index)
{
  Call *call = g_new0 (Call, 1);
  guint i;

  call->app = app;
  call->index = index;
  if (app->n_calls == 1)
    call->id = g_strdup (app->call_id);
  else
    call->id = g_strdup_printf ("%s-%u", app->call_id, index + 1);

  if (app->wav->channels == 2) {
    call->n_legs = 2;
    call->legs[0].name = "agent";
    call->legs[1].name = "customer";
    call->legs[1].channel = 1;
  } else {
    call->n_legs = 1;
    call->legs[0].name = app->leg;
  }
  for (i = 0; i < call->n_legs; i++) {
    g_autofree char *uuid = g_uuid_string_random ();
    g_auto (GStrv) parts = g_strsplit (uuid, "-", -1);

    call->legs[i].call = call;
    call->legs[i].stream_sid = g_strjoinv ("", parts);
  }
  return call;
}

static void
call_free (Call * call)
{
  guint i;

  for (i = 0; i < call->n_legs; i++) {
    Leg *leg = &call->legs[i];

    leg_stop_pacer (leg);
    if (leg->conn != NULL)
      g_signal_handlers_disconnect_by_data (leg->conn, leg);
    if (leg->conn != NULL)
      g_signal_handlers_disconnect_by_data (leg->conn, call);
    g_clear_object (&leg->conn);
    g_free (leg->stream_sid);
  }
  if (call->live != NULL)
    g_signal_handlers_disconnect_by_data (call->live, call);
  g_clear_object (&call->live);
  g_clear_handle_id (&call->resubscribe_id, g_source_remove);
  g_clear_handle_id (&call->start_id, g_source_remove);
  g_clear_handle_id (&call->linger_id, g_source_remove);
  g_free (call->id);
  g_free (call);
}

static void
call_set_done (Call * call)
{
  App *app = call->app;

  if (call->done)
    return;
  call->done = TRUE;
  g_clear_handle_id (&call->resubscribe_id, g_source_remove);
  g_clear_handle_id (&call->linger_id, g_source_remove);
  close_conn (call->live);
  app->n_done++;
  if (app->n_done == app->calls->len)
    app_finish (app);
}

/* Gives up a call: its streams are closed where they stand. */
static void
call_fail (Call * call)
{
  guint i;

  if (call->done)
    return;
  call->failed = TRUE;
  for (i = 0; i < call->n_legs; i++) {
    Leg *leg = &call->legs[i];

    leg_stop_pacer (leg);
    if (leg->state == LEG_STREAMING)
      leg->state = LEG_STOPPED;
    close_conn (leg->conn);
  }
  call_set_done (call);
}

/* A call is done once call.ended arrived (and any lingering is over) and
 * every stream has been closed cleanly. */
static void
call_check_done (Call * call)
{
  guint i;

  if (call->done || !call->ended || call->linger_id != 0)
    return;
  for (i = 0; i < call->n_legs; i++)
    if (call->legs[i].state != LEG_CLOSED)
      return;
  call_set_done (call);
}

static void
call_start (Call * call)
{
  guint i;

  for (i = 0; i < call->n_legs; i++)
    leg_connect (&call->legs[i]);
}

static gboolean
call_start_cb (gpointer user_data)
{
  Call *call = user_data;

  call->start_id = 0;
  if (!call->app->finishing)
    call_start (call);
  return G_SOURCE_REMOVE;
}

/* ---- Daemon figures: /metrics and /proc ---- */

/* Sums every sample of the metrics whose name speaks of dropped frames
 * (copilot_frames_dropped_total{reason=...} and the like); -1 when there
 * are none. */
static double
parse_dropped (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  double total = -1;
  guint i;

  for (i = 0; lines[i] != NULL; i++) {
    const char *line = g_strstrip (lines[i]);
    const char *value;
    gsize name_len = strcspn (line, "{ ");
    g_autofree char *name = g_strndup (line, name_len);
    char *end = NULL;
    double v;

    if (*line == '#' || *line == '\0' || strstr (name, "frame") == NULL
        || strstr (name, "dropped") == NULL
        || g_str_has_suffix (name, "_created"))
      continue;
    /* The value follows the labels; a timestamp may follow the value. */
    value = strrchr (line, '}');
    value = value != NULL ? value + 1 : line + name_len;
    v = g_ascii_strtod (value, &end);
    if (end == value)
      continue;
    total = MAX (total, 0) + v;
  }
  return total;
}

typedef void (*MetricsDone) (App * app, double dropped);

typedef struct
{
  App *app;
  MetricsDone done;
} MetricsRequest;

static void
metrics_read_cb (GObject * source, GAsyncResult * result, gpointer user_data)
{
  MetricsRequest *req = user_data;
  App *app = req->app;
  MetricsDone done = req->done;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (app->session,
      result);
  double dropped = -1;

  g_free (req);
  app->pending--;
  body = soup_session_send_and_read_finish (app->session, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (body != NULL && soup_message_get_status (msg) == SOUP_STATUS_OK) {
    g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL),
        g_bytes_get_size (body));

    dropped = parse_dropped (text);
  } else {
    g_debug ("no metrics from %s: %s", app->metrics_url,
        error != NULL ? error->message : soup_message_get_reason_phrase (msg));
  }
  done (app, dropped);
}

static void
fetch_metrics (App * app, MetricsDone done)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", app->metrics_url);
  MetricsRequest *req = g_new0 (MetricsRequest, 1);

  req->app = app;
  req->done = done;
  app->pending++;
  soup_session_send_and_read_async (app->session, msg, G_PRIORITY_DEFAULT,
      app->cancellable, metrics_read_cb, req);
}

static ProcSample
proc_sample (int pid)
{
  ProcSample s = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *stat = NULL;
  g_autofree char *status = NULL;
  g_auto (GStrv) fields = NULL;
  g_auto (GStrv) lines = NULL;
  const char *after;
  guint i;

  if (pid <= 0)
    return s;
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return s;
  g_free (path);
  path = g_strdup_printf ("/proc/%d/status", pid);
  if (!g_file_get_contents (path, &status, NULL, NULL))
    return s;

  /* The command name may hold spaces and parentheses: fields are counted
   * from the last ')'. utime and stime are fields 14 and 15, i.e. the 12th
   * and 13th after it. */
  after = strrchr (stat, ')');
  if (after == NULL)
    return s;
  fields = g_strsplit (g_strstrip ((char *) after + 1), " ", -1);
  if (g_strv_length (fields) < 13)
    return s;
  s.cpu_s = (g_ascii_strtod (fields[11], NULL) +
      g_ascii_strtod (fields[12], NULL)) / sysconf (_SC_CLK_TCK);

  lines = g_strsplit (status, "\n", -1);
  for (i = 0; lines[i] != NULL; i++) {
    if (g_str_has_prefix (lines[i], "VmRSS:"))
      s.rss_kib = g_ascii_strtod (lines[i] + 6, NULL);
    else if (g_str_has_prefix (lines[i], "VmHWM:"))
      s.hwm_kib = g_ascii_strtod (lines[i] + 6, NULL);
  }
  s.valid = TRUE;
  return s;
}

/* ---- Summary ---- */

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double
percentile (GArray * sorted, double p)
{
  gsize rank = (gsize) ceil (p / 100.0 * sorted->len);

  return g_array_index (sorted, double, rank > 0 ? rank - 1 : 0);
}

static void
print_summary (App * app)
{
  FILE *f = app->out == stdout ? stderr : stdout;
  double wall_s = (app->end_us - app->start_us) / (double) G_USEC_PER_SEC;
  guint completed = 0, failed = 0, i;
  g_autofree char *speed = app->speed > 0 ?
      g_strdup_printf ("%gx", app->speed) : g_strdup ("as fast as possible");

  for (i = 0; i < app->calls->len; i++) {
    Call *call = g_ptr_array_index (app->calls, i);

    completed += call->ended && !call->failed;
    failed += call->failed;
  }
  g_array_sort (app->latencies, compare_double);

  fprintf (f, "copilot-replay summary\n");
  fprintf (f, "  calls completed:     %u/%u (%u failed)\n", completed,
      app->calls->len, failed);
  fprintf (f, "  audio per call:      %.2f s, %u leg(s), %u Hz %s, %s\n",
      audio_seconds (app), app->wav->channels, app->wav->rate,
      app->mulaw ? "mu-law" : "PCM", speed);
  fprintf (f, "  wall time:           %.2f s\n", wall_s);
  fprintf (f, "  frames sent:         %" G_GUINT64_FORMAT
      " (max send lag %.1f ms)\n", app->frames_sent, app->max_lag_us / 1000.0);
  if (app->dropped_before >= 0 && app->dropped_after >= 0)
    fprintf (f, "  frames dropped:      %.0f (daemon /metrics)\n",
        app->dropped_after - app->dropped_before);
  else
    fprintf (f, "  frames dropped:      n/a (no dropped counter at %s)\n",
        app->metrics_url);
  fprintf (f, "  events:              %" G_GUINT64_FORMAT " (%.1f events/s)\n",
      app->n_events, wall_s > 0 ? app->n_events / wall_s : 0.0);
  fprintf (f, "  transcript.final:    %u\n", app->n_finals);
  if (app->latencies->len > 0)
    fprintf (f, "  latency_ms:          p50 %.0f  p95 %.0f  p99 %.0f  "
        "max %.0f (%u values)\n", percentile (app->latencies, 50),
        percentile (app->latencies, 95), percentile (app->latencies, 99),
        g_array_index (app->latencies, double, app->latencies->len - 1),
        app->latencies->len);
  else
    fprintf (f, "  latency_ms:          n/a (no latency_ms received)\n");

  if (app->daemon_pid > 0 && app->proc_before.valid && app->proc_after.valid) {
    double cpu = app->proc_after.cpu_s - app->proc_before.cpu_s;
    double rss_delta = app->proc_after.rss_kib - app->proc_before.rss_kib;

    fprintf (f, "  daemon CPU:          %.2f s (%.1f %% of one core, "
        "%.3f s per call)\n", cpu, wall_s > 0 ? 100.0 * cpu / wall_s : 0.0,
        cpu / app->calls->len);
    fprintf (f, "  daemon RSS:          %.1f MiB before, %.1f MiB after, "
        "%.1f MiB peak (%+.2f MiB per call)\n",
        app->proc_before.rss_kib / 1024, app->proc_after.rss_kib / 1024,
        app->proc_after.hwm_kib / 1024, rss_delta / 1024 / app->calls->len);
  } else if (app->daemon_pid > 0) {
    fprintf (f, "  daemon CPU/RSS:      n/a (cannot read /proc/%d)\n",
        app->daemon_pid);
  }
  fflush (f);
}

/* ---- Run control ---- */

static gboolean
grace_cb (gpointer user_data)
{
  App *app = user_data;

  app->grace_id = 0;
  g_debug ("%u WebSocket(s) still closing; quitting anyway", app->n_open);
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

/* Once shutting down, the loop ends when no handshake (opening or closing)
 * is left: cutting a connection in the middle of its opening handshake
 * makes the daemon log errors for nothing. */
static void
maybe_quit (App * app)
{
  if (app->shutting_down && app->n_open == 0 && app->pending == 0)
    g_main_loop_quit (app->loop);
}

/* Closes whatever is still open and quits once the close handshakes are
 * done (or took too long). */
static void
app_shutdown (App * app)
{
  guint i, j;

  if (app->shutting_down)
    return;
  app->shutting_down = TRUE;
  if (app->summary)
    print_summary (app);

  for (i = 0; i < app->calls->len; i++) {
    Call *call = g_ptr_array_index (app->calls, i);

    for (j = 0; j < call->n_legs; j++) {
      leg_stop_pacer (&call->legs[j]);
      close_conn (call->legs[j].conn);
    }
    close_conn (call->live);
  }
  app->grace_id = g_timeout_add (CLOSE_GRACE_MS, grace_cb, app);
  maybe_quit (app);
}

static void
metrics_after_cb (App * app, double dropped)
{
  app->dropped_after = dropped;
  app_shutdown (app);
}

/* Every call is done, or time is up. */
static void
app_finish (App * app)
{
  guint i;

  if (app->finishing)
    return;
  app->finishing = TRUE;
  app->end_us = g_get_monotonic_time ();
  g_clear_handle_id (&app->timeout_id, g_source_remove);
  for (i = 0; i < app->calls->len; i++) {
    Call *call = g_ptr_array_index (app->calls, i);

    g_clear_handle_id (&call->start_id, g_source_remove);
  }

  if (app->summary) {
    app->proc_after = proc_sample (app->daemon_pid);
    if (app->dropped_before >= 0) {
      fetch_metrics (app, metrics_after_cb);
      return;
    }
  }
  app_shutdown (app);
}

static gboolean
timeout_cb (gpointer user_data)
{
  App *app = user_data;
  guint i, ended = 0;

  app->timeout_id = 0;
  for (i = 0; i < app->calls->len; i++)
    ended += ((Call *) g_ptr_array_index (app->calls, i))->ended;
  g_printerr ("copilot-replay: timed out after %.1f s: call.ended arrived "
      "for %u of %u call(s)\n", app->timeout_s, ended, app->calls->len);
  app_finish (app);
  return G_SOURCE_REMOVE;
}

static gboolean
sigint_cb (gpointer user_data)
{
  App *app = user_data;

  /* A second Ctrl-C does not wait for the close handshakes. */
  if (app->finishing) {
    g_main_loop_quit (app->loop);
    return G_SOURCE_CONTINUE;
  }
  g_printerr ("copilot-replay: interrupted\n");
  app_finish (app);
  return G_SOURCE_CONTINUE;
}

static void
start_calls (App * app)
{
  guint i;

  app->start_us = g_get_monotonic_time ();
  app->timeout_id = g_timeout_add ((guint) (app->timeout_s * 1000),
      timeout_cb, app);
  for (i = 0; i < app->calls->len; i++) {
    Call *call = g_ptr_array_index (app->calls, i);

    if (i > 0 && app->stagger_ms > 0)
      call->start_id = g_timeout_add ((guint) app->stagger_ms * i,
          call_start_cb, call);
    else
      call_start (call);
  }
}

static void
metrics_before_cb (App * app, double dropped)
{
  app->dropped_before = dropped;
  start_calls (app);
}

/* ---- Options ---- */

static void
set_default (char **option, const char *value)
{
  if (*option == NULL)
    *option = g_strdup (value);
}

/* All diagnostics go to stderr: stdout may be the NDJSON stream, and GLib's
 * default writer sends debug and info lines there. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField * fields, gsize n_fields,
    gpointer user_data)
{
  g_autofree char *line = NULL;
  const char *domain = NULL;
  gsize i;

  for (i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  line = g_log_writer_format_fields (level, fields, n_fields,
      g_log_writer_supports_color (fileno (stderr)));
  fprintf (stderr, "%s\n", line);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

static gboolean
parse_options (App * app, int *argc, char ***argv)
{
  g_autofree char *speed = NULL;
  g_autofree char *timeout = NULL;
  GOptionEntry entries[] = {
    {"url", 'u', 0, G_OPTION_ARG_STRING, &app->url,
        "Ingest WebSocket (default " DEFAULT_URL ")", "URL"},
    {"live-url", 0, 0, G_OPTION_ARG_STRING, &app->live_url,
        "Live event WebSocket (default: /live/ws on the ingest host)", "URL"},
    {"metrics-url", 0, 0, G_OPTION_ARG_STRING, &app->metrics_url,
        "Prometheus metrics (default: /metrics on the ingest host)", "URL"},
    {"user", 0, 0, G_OPTION_ARG_STRING, &app->user,
        "HTTP Basic user name for the ingest endpoint", "NAME"},
    {"password", 0, 0, G_OPTION_ARG_STRING, &app->password,
        "HTTP Basic password for the ingest endpoint", "PASSWORD"},
    {"call-id", 'c', 0, G_OPTION_ARG_STRING, &app->call_id,
        "Call id sent as call_sid (default: generated; with --calls N, "
          "ID-1 ... ID-N)", "ID"},
    {"leg", 0, 0, G_OPTION_ARG_STRING, &app->leg,
        "Leg of a mono WAV: agent or customer (default customer)", "LEG"},
    {"encoding", 'e', 0, G_OPTION_ARG_STRING, &app->encoding,
        "Audio encoding on the wire: pcm or mulaw (default pcm)", "ENC"},
    {"frame-ms", 0, 0, G_OPTION_ARG_INT, &app->frame_ms,
        "Audio per media frame in milliseconds (10-1000, default 100)", "MS"},
    {"speed", 's', 0, G_OPTION_ARG_STRING, &speed,
        "Pace: 1 = real time (default), N = N times faster, 0 = as fast as "
          "possible", "N"},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &app->out_path,
        "Write the events as NDJSON to FILE instead of stdout", "FILE"},
    {"timeout", 't', 0, G_OPTION_ARG_STRING, &timeout,
        "Give up after this many seconds (default: audio duration at the "
          "chosen speed + 30)", "S"},
    {"calls", 'n', 0, G_OPTION_ARG_INT, &app->n_calls,
        "Number of concurrent calls (load bench; implies --summary)", "N"},
    {"stagger-ms", 0, 0, G_OPTION_ARG_INT, &app->stagger_ms,
        "Delay between the starts of successive calls (default 0)", "MS"},
    {"linger-ms", 0, 0, G_OPTION_ARG_INT, &app->linger_ms,
        "Keep recording events this long after call.ended (default 0)", "MS"},
    {"daemon-pid", 'p', 0, G_OPTION_ARG_INT, &app->daemon_pid,
        "Report this process's CPU time and RSS in the summary", "PID"},
    {"summary", 0, 0, G_OPTION_ARG_NONE, &app->summary,
        "Print the bench summary (stderr, or stdout with --out)", NULL},
    {"from", 0, 0, G_OPTION_ARG_STRING, &app->from,
        "Caller number in the start frame", "NUMBER"},
    {"to", 0, 0, G_OPTION_ARG_STRING, &app->to,
        "Called number in the start frame", "NUMBER"},
    {"account-sid", 0, 0, G_OPTION_ARG_STRING, &app->account_sid,
        "Account sid in the start and stop frames", "SID"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("CALL.wav - play a call to copilotd as Exotel");
  g_autoptr (GError) error = NULL;
  char *end = NULL;

  g_option_context_set_summary (ctx,
      "Streams a 16-bit PCM WAV (8 or 16 kHz; mono = one leg, stereo = "
      "agent left, customer right)\nto copilotd's Exotel ingest WebSocket and "
      "prints the call's /live events as NDJSON.\n"
      "Exit status: 0 call.ended arrived for every call, 1 failure or "
      "timeout, 2 bad options.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    return fail_usage (error->message);

  if (*argc != 2)
    return fail_usage ("exactly one WAV file is needed");

  /* GOption does not free a string it replaces, so defaults are filled in
   * only now. */
  set_default (&app->url, DEFAULT_URL);
  set_default (&app->leg, DEFAULT_LEG);
  set_default (&app->encoding, "pcm");
  set_default (&app->from, "09000000001");
  set_default (&app->to, "09000000002");
  set_default (&app->account_sid, "copilot-replay");
  if (speed != NULL) {
    app->speed = g_ascii_strtod (speed, &end);
    if (end == speed || *end != '\0' || !isfinite (app->speed)
        || app->speed < 0)
      return fail_usage ("--speed needs a number >= 0");
  }
  if (timeout != NULL) {
    app->timeout_s = g_ascii_strtod (timeout, &end);
    if (end == timeout || *end != '\0' || !isfinite (app->timeout_s)
        || app->timeout_s <= 0 || app->timeout_s > 86400 * 7)
      return fail_usage ("--timeout needs a number of seconds > 0");
  }
  if (app->frame_ms < 10 || app->frame_ms > 1000)
    return fail_usage ("--frame-ms must be between 10 and 1000");
  if (app->n_calls < 1 || app->n_calls > 100000)
    return fail_usage ("--calls must be between 1 and 100000");
  if (app->stagger_ms < 0 || app->linger_ms < 0)
    return fail_usage ("--stagger-ms and --linger-ms cannot be negative");
  if (app->daemon_pid < 0)
    return fail_usage ("--daemon-pid must be a process id");
  if (g_strcmp0 (app->leg, "agent") != 0
      && g_strcmp0 (app->leg, "customer") != 0)
    return fail_usage ("--leg must be agent or customer");
  if (g_strcmp0 (app->encoding, "pcm") == 0)
    app->mulaw = FALSE;
  else if (g_strcmp0 (app->encoding, "mulaw") == 0)
    app->mulaw = TRUE;
  else
    return fail_usage ("--encoding must be pcm or mulaw");
  if ((app->user == NULL) != (app->password == NULL))
    return fail_usage ("--user and --password go together");
  if (app->call_id != NULL && *app->call_id == '\0')
    return fail_usage ("--call-id cannot be empty");

  app->ingest_uri = g_uri_parse (app->url, G_URI_FLAGS_ENCODED, NULL);
  if (app->ingest_uri == NULL || g_uri_get_host (app->ingest_uri) == NULL
      || (g_strcmp0 (g_uri_get_scheme (app->ingest_uri), "ws") != 0
          && g_strcmp0 (g_uri_get_scheme (app->ingest_uri), "wss") != 0))
    return fail_usage ("--url must be a ws:// or wss:// URL");
  if (app->live_url == NULL)
    app->live_url = g_uri_join (G_URI_FLAGS_ENCODED,
        g_uri_get_scheme (app->ingest_uri), NULL,
        g_uri_get_host (app->ingest_uri), g_uri_get_port (app->ingest_uri),
        "/live/ws", NULL, NULL);
  else if (!g_uri_is_valid (app->live_url, G_URI_FLAGS_NONE, NULL))
    return fail_usage ("--live-url is not a valid URL");
  if (app->metrics_url == NULL)
    app->metrics_url = g_uri_join (G_URI_FLAGS_ENCODED,
        g_strcmp0 (g_uri_get_scheme (app->ingest_uri), "wss") == 0 ?
        "https" : "http", NULL, g_uri_get_host (app->ingest_uri),
        g_uri_get_port (app->ingest_uri), "/metrics", NULL, NULL);
  else if (!g_uri_is_valid (app->metrics_url, G_URI_FLAGS_NONE, NULL))
    return fail_usage ("--metrics-url is not a valid URL");

  if (app->n_calls > 1)
    app->summary = TRUE;
  return TRUE;
}

static void
app_free (App * app)
{
  g_clear_pointer (&app->calls, g_ptr_array_unref);
  g_clear_object (&app->session);
  g_clear_object (&app->cancellable);
  g_clear_pointer (&app->loop, g_main_loop_unref);
  g_clear_pointer (&app->wav, copilot_replay_wav_free);
  g_clear_pointer (&app->ingest_uri, g_uri_unref);
  g_clear_pointer (&app->latencies, g_array_unref);
  if (app->out != NULL && app->out != stdout)
    fclose (app->out);
  g_free (app->auth_header);
  g_free (app->url);
  g_free (app->live_url);
  g_free (app->metrics_url);
  g_free (app->user);
  g_free (app->password);
  g_free (app->call_id);
  g_free (app->leg);
  g_free (app->encoding);
  g_free (app->out_path);
  g_free (app->from);
  g_free (app->to);
  g_free (app->account_sid);
}

static int
run (App * app, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  guint sigint_id, i;

  if (!parse_options (app, &argc, &argv))
    return EXIT_USAGE;

  app->wav = copilot_replay_wav_load (argv[1], &error);
  if (app->wav == NULL) {
    g_printerr ("copilot-replay: %s\n", error->message);
    return EXIT_RUNTIME;
  }
  if (app->out_path != NULL) {
    app->out = fopen (app->out_path, "w");
    if (app->out == NULL) {
      g_printerr ("copilot-replay: cannot write %s: %s\n", app->out_path,
          g_strerror (errno));
      return EXIT_RUNTIME;
    }
  } else {
    app->out = stdout;
  }
  if (app->call_id == NULL) {
    g_autofree char *uuid = g_uuid_string_random ();

    app->call_id = g_strdup_printf ("replay-%.8s", uuid);
  }
  if (app->timeout_s <= 0)
    app->timeout_s = (app->speed > 0 ? audio_seconds (app) / app->speed : 0)
        + (app->n_calls - 1) * app->stagger_ms / 1000.0 + TIMEOUT_MARGIN_S;
  if (app->user != NULL) {
    g_autofree char *cred = g_strdup_printf ("%s:%s", app->user,
        app->password);
    g_autofree char *b64 = g_base64_encode ((const guchar *) cred,
        strlen (cred));

    app->auth_header = g_strdup_printf ("Basic %s", b64);
  }

  /* Every call holds up to three sockets at once; the default per-host
   * limit of 2 would serialise the handshakes of a bench. */
  app->session = soup_session_new_with_options ("max-conns", G_MAXINT,
      "max-conns-per-host", G_MAXINT, NULL);
  app->cancellable = g_cancellable_new ();
  app->loop = g_main_loop_new (NULL, FALSE);
  app->latencies = g_array_new (FALSE, FALSE, sizeof (double));
  app->dropped_before = app->dropped_after = -1;
  app->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  for (i = 0; i < (guint) app->n_calls; i++)
    g_ptr_array_add (app->calls, call_new (app, i));

  g_message ("playing %s (%.2f s, %s, %u Hz) as %d call(s) to %s",
      argv[1], audio_seconds (app),
      app->wav->channels == 2 ? "agent + customer" : app->leg,
      app->wav->rate, app->n_calls, app->url);

  if (app->summary) {
    app->proc_before = proc_sample (app->daemon_pid);
    fetch_metrics (app, metrics_before_cb);
  } else {
    start_calls (app);
  }

  sigint_id = g_unix_signal_add (SIGINT, sigint_cb, app);
  g_main_loop_run (app->loop);
  g_source_remove (sigint_id);

  /* Let every pending callback see the cancellation before the calls they
   * point at are freed. */
  g_cancellable_cancel (app->cancellable);
  while (app->pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_clear_handle_id (&app->grace_id, g_source_remove);
  g_clear_handle_id (&app->timeout_id, g_source_remove);

  for (i = 0; i < app->calls->len; i++) {
    Call *call = g_ptr_array_index (app->calls, i);

    if (!call->ended || call->failed)
      return EXIT_RUNTIME;
  }
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  App app = {
    .frame_ms = DEFAULT_FRAME_MS,
    .speed = 1.0,
    .n_calls = 1,
  };
  int status;

  setlocale (LC_ALL, "");
  g_log_set_writer_func (log_writer, NULL, NULL);
  status = run (&app, argc, argv);
  app_free (&app);
  return status;
}
