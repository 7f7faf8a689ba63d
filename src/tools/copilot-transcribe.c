/* copilot-transcribe: transcribe a recorded call (WAV) with the copilot
 * elements and print one JSON event per final segment (NDJSON), in the event
 * schema of the live system (type "transcript.final").
 *
 * A stereo file is a two-leg call: the left channel is the agent, the right
 * channel the customer. A mono file is one speaker ("customer" unless
 * --speaker says otherwise). */
#include "config.h"

#include <copilot.h>
#include <gst/gst.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  char *call_id;
  guint64 seq;
  gboolean partials;
  int status;
  GstClockTime first_wall;
} App;

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gint64
ns_to_ms (guint64 ns)
{
  return ns == COPILOT_SEGMENT_TIME_NONE ? -1 : (gint64) (ns / GST_MSECOND);
}

/* Main context only (bus watch). */
static void
print_segment (App * app, const GstStructure * s)
{
  g_autoptr (CopilotSegment) seg = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *line = NULL;
  guint64 latency = GST_CLOCK_TIME_NONE;
  gboolean is_final;

  if (!gst_structure_get (s, "segment", COPILOT_TYPE_SEGMENT, &seg, NULL))
    return;
  is_final = copilot_segment_is_final (seg);
  if (!is_final && !app->partials)
    return;
  gst_structure_get_uint64 (s, "latency", &latency);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, is_final ? "transcript.final" :
      "transcript.partial");
  json_builder_set_member_name (b, "call_id");
  json_builder_add_string_value (b, app->call_id);
  json_builder_set_member_name (b, "seq");
  json_builder_add_int_value (b, (gint64)++ app->seq);
  json_builder_set_member_name (b, "ts_ms");
  json_builder_add_int_value (b, now_ms ());
  json_builder_set_member_name (b, "segment_id");
  json_builder_add_string_value (b, copilot_segment_get_id (seg));
  json_builder_set_member_name (b, "speaker");
  json_builder_add_string_value (b, copilot_segment_get_speaker (seg));
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, copilot_segment_get_text (seg));
  json_builder_set_member_name (b, "start_ms");
  json_builder_add_int_value (b, ns_to_ms (copilot_segment_get_start (seg)));
  json_builder_set_member_name (b, "end_ms");
  json_builder_add_int_value (b, ns_to_ms (copilot_segment_get_end (seg)));
  if (is_final) {
    json_builder_set_member_name (b, "confidence");
    json_builder_add_double_value (b, copilot_segment_get_confidence (seg));
    json_builder_set_member_name (b, "latency_ms");
    json_builder_add_int_value (b, GST_CLOCK_TIME_IS_VALID (latency) ?
        (gint64) (latency / GST_MSECOND) : 0);
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  line = json_to_string (root, FALSE);
  fprintf (stdout, "%s\n", line);
  fflush (stdout);
}

/* Main context only (bus watch). */
static gboolean
bus_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (msg, "copilot-transcript"))
        print_segment (app, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;
      g_autofree char *dbg = NULL;

      gst_message_parse_warning (msg, &err, &dbg);
      g_printerr ("copilot-transcribe: warning from %s: %s\n",
          GST_OBJECT_NAME (msg->src), err->message);
      break;
    }
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;
      g_autofree char *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("copilot-transcribe: error from %s: %s\n%s\n",
          GST_OBJECT_NAME (msg->src), err->message, dbg ? dbg : "");
      app->status = 1;
      g_main_loop_quit (app->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Reads the channel count of a WAV file with a throwaway discoverer-free
 * pipeline: wavparse's caps are enough. */
static int
wav_channels (const char *path, GError ** error)
{
  g_autoptr (GstElement) pipe = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GstElement) src = NULL;
  int channels = 0;

  pipe = gst_parse_launch ("filesrc name=src ! wavparse ! fakesink name=sink",
      error);
  if (pipe == NULL)
    return 0;
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_object_set (src, "location", path, NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR);
  if (msg == NULL || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    if (msg != NULL)
      gst_message_parse_error (msg, &err, NULL);
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "%s is not a readable WAV file%s%s", path, err ? ": " : "",
        err ? err->message : "");
    gst_element_set_state (pipe, GST_STATE_NULL);
    return 0;
  }
  pad = gst_element_get_static_pad (sink, "sink");
  caps = gst_pad_get_current_caps (pad);
  if (caps != NULL)
    gst_structure_get_int (gst_caps_get_structure (caps, 0), "channels",
        &channels);
  gst_element_set_state (pipe, GST_STATE_NULL);
  if (channels < 1 || channels > 2) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "%s has %d channels; expected 1 (one speaker) or 2 (agent left, "
        "customer right)", path, channels);
    return 0;
  }
  return channels;
}

/* User-supplied strings (file name, speaker, call id, options) are set as
 * properties after parsing, never spliced into the launch description. */
static char *
leg_description (const char *src, guint leg)
{
  return g_strdup_printf ("%s ! queue max-size-time=0 max-size-buffers=0 "
      "max-size-bytes=0 ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,channels=1 ! vadsplit ! asrsink name=asr%u",
      src, leg);
}

static void
configure_leg (GstElement * pipeline, guint leg, const char *speaker,
    const char *prefix, double domain_weight, const char *decoder_options)
{
  g_autofree char *name = g_strdup_printf ("asr%u", leg);
  g_autoptr (GstElement) asr = gst_bin_get_by_name (GST_BIN (pipeline), name);

  g_object_set (asr, "speaker", speaker, "segment-prefix", prefix, NULL);
  if (domain_weight >= 0.0)
    g_object_set (asr, "domain-weight", domain_weight, NULL);
  if (decoder_options != NULL)
    g_object_set (asr, "decoder-options", decoder_options, NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autofree char *call_id = NULL;
  g_autofree char *speaker = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *desc = NULL;
  gboolean partials = FALSE;
  gboolean realtime = FALSE;
  gboolean generic_only = FALSE;
  double domain_weight = -1.0;
  g_autofree char *decoder_options = NULL;
  App app = { 0 };
  int channels;
  guint watch;
  const GOptionEntry entries[] = {
    {"call-id", 'c', 0, G_OPTION_ARG_STRING, &call_id,
        "Call id in the events (default: the file name)", "ID"},
    {"speaker", 's', 0, G_OPTION_ARG_STRING, &speaker,
        "Speaker of a mono file (default: customer)", "NAME"},
    {"partials", 'p', 0, G_OPTION_ARG_NONE, &partials,
        "Also print transcript.partial events", NULL},
    {"realtime", 'r', 0, G_OPTION_ARG_NONE, &realtime,
        "Play the file at its real pace, like a live call (latency_ms is "
          "then the real delay from end of speech to the final)", NULL},
    {"generic-lm", 0, 0, G_OPTION_ARG_NONE, &generic_only,
        "Use only the generic language model (no domain adaptation)", NULL},
    {"domain-weight", 0, 0, G_OPTION_ARG_DOUBLE, &domain_weight,
        "Interpolation weight of the domain language model (0..1)", "W"},
    {"decoder-options", 0, 0, G_OPTION_ARG_STRING, &decoder_options,
        "Extra decoder arguments, e.g. \"-maxhmmpf 3000\"", "OPTIONS"},
    {NULL}
  };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("CALL.wav - transcribe a recorded call");
  g_option_context_set_summary (ctx,
      "Prints one JSON line (transcript.final event) per final segment.\n"
      "Stereo: left channel = agent, right channel = customer.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("copilot-transcribe: %s\n", error->message);
    return 2;
  }
  if (argc != 2) {
    g_printerr ("Usage: copilot-transcribe [OPTION...] CALL.wav\n");
    return 2;
  }
  if (domain_weight != -1.0 && (domain_weight < 0.0 || domain_weight > 1.0)) {
    g_printerr ("copilot-transcribe: --domain-weight must be within 0..1\n");
    return 2;
  }
  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR)) {
    g_printerr ("copilot-transcribe: %s: no such file\n", argv[1]);
    return 1;
  }

  channels = wav_channels (argv[1], &error);
  if (channels == 0) {
    g_printerr ("copilot-transcribe: %s\n", error->message);
    return 1;
  }

  if (call_id == NULL) {
    g_autofree char *base = g_path_get_basename (argv[1]);
    char *dot = strrchr (base, '.');

    if (dot != NULL && dot != base)
      *dot = '\0';
    call_id = g_strdup (base);
  }
  prefix = g_strdup_printf ("%s-", call_id);
  if (generic_only)
    domain_weight = 0.0;

  if (channels == 2) {
    g_autofree char *agent = leg_description ("d.src_0", 0);
    g_autofree char *customer = leg_description ("d.src_1", 1);

    desc = g_strdup_printf ("filesrc name=src ! wavparse ! %s"
        "deinterleave name=d  %s  %s", realtime ? "clocksync ! " : "",
        agent, customer);
  } else {
    desc = leg_description (realtime ? "filesrc name=src ! wavparse ! "
        "clocksync" : "filesrc name=src ! wavparse", 0);
  }

  pipeline = gst_parse_launch (desc, &error);
  if (pipeline == NULL) {
    g_printerr ("copilot-transcribe: cannot build the pipeline: %s\n",
        error->message);
    return 1;
  }
  {
    g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipeline),
        "src");

    g_object_set (src, "location", argv[1], NULL);
  }
  if (channels == 2) {
    configure_leg (pipeline, 0, "agent", prefix, domain_weight,
        decoder_options);
    configure_leg (pipeline, 1, "customer", prefix, domain_weight,
        decoder_options);
  } else {
    configure_leg (pipeline, 0, speaker ? speaker : "customer", prefix,
        domain_weight, decoder_options);
  }

  app.loop = g_main_loop_new (NULL, FALSE);
  app.call_id = call_id;
  app.partials = partials;
  bus = gst_element_get_bus (pipeline);
  watch = gst_bus_add_watch (bus, bus_cb, &app);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* The error message on the bus says why. */
    app.status = 1;
  }
  g_main_loop_run (app.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_source_remove (watch);
  g_main_loop_unref (app.loop);
  return app.status;
}
