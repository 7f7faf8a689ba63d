/* asrsink: speech recognition on short flite sentences, with and without
 * utterance events, at 8 and 16 kHz, with a shared decoder pool. */
#include "config.h"

#undef G_DISABLE_ASSERT
#include <string.h>
#include <gst/gst.h>
#include <gst/check/gstharness.h>

#include "gstcopilotutterance.h"
#include "copilot-segment.h"

typedef struct
{
  GMutex lock;
  GPtrArray *finals;            /* CopilotSegment */
  GPtrArray *partials;          /* CopilotSegment */
  guint partials_before_first_final;
} Results;

static void
results_init (Results * r)
{
  g_mutex_init (&r->lock);
  r->finals = g_ptr_array_new_with_free_func ((GDestroyNotify)
      copilot_segment_unref);
  r->partials = g_ptr_array_new_with_free_func ((GDestroyNotify)
      copilot_segment_unref);
}

static void
results_clear (Results * r)
{
  g_ptr_array_unref (r->finals);
  g_ptr_array_unref (r->partials);
  g_mutex_clear (&r->lock);
}

/* Emitted from a decoding worker thread. */
static void
final_cb (GstElement * sink, CopilotSegment * seg, Results * r)
{
  g_mutex_lock (&r->lock);
  g_ptr_array_add (r->finals, copilot_segment_ref (seg));
  g_mutex_unlock (&r->lock);
}

static void
partial_cb (GstElement * sink, CopilotSegment * seg, Results * r)
{
  g_assert_false (copilot_segment_is_final (seg));
  g_mutex_lock (&r->lock);
  g_ptr_array_add (r->partials, copilot_segment_ref (seg));
  if (r->finals->len == 0)
    r->partials_before_first_final++;
  g_mutex_unlock (&r->lock);
}

static void
connect_results (GstElement * sink, Results * r)
{
  g_signal_connect (sink, "final", G_CALLBACK (final_cb), r);
  g_signal_connect (sink, "partial", G_CALLBACK (partial_cb), r);
}

/* How many of @words (space separated) the text contains as words. */
static guint
count_words (const char *text, const char *words)
{
  g_auto (GStrv) have = g_strsplit (text, " ", -1);
  g_auto (GStrv) want = g_strsplit (words, " ", -1);
  guint n = 0;

  for (guint i = 0; want[i]; i++)
    if (g_strv_contains ((const char *const *) have, want[i]))
      n++;
  return n;
}

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_BUILT, "data", name, NULL);
}

/* The samples of a 16-bit mono WAV fixture. */
static GBytes *
read_wav (const char *name, guint * rate)
{
  g_autofree char *path = fixture (name);
  g_autofree char *data = NULL;
  gsize len, pos = 12;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpmem (data, 4, "RIFF", 4);
  while (pos + 8 <= len) {
    guint32 size = GUINT32_FROM_LE (*(guint32 *) (data + pos + 4));

    if (memcmp (data + pos, "fmt ", 4) == 0)
      *rate = GUINT32_FROM_LE (*(guint32 *) (data + pos + 12));
    if (memcmp (data + pos, "data", 4) == 0)
      return g_bytes_new (data + pos + 8, MIN (size, len - pos - 8));
    pos += 8 + size + (size & 1);
  }
  g_assert_not_reached ();
}

/* Pushes @audio in 100 ms buffers from running time @start.  Returns the
 * running time after it. */
static GstClockTime
push_audio (GstHarness * h, GBytes * audio, guint rate, GstClockTime start)
{
  gsize size, chunk = rate / 10 * 2;
  const guint8 *data = g_bytes_get_data (audio, &size);
  GstClockTime t = start;

  for (gsize off = 0; off < size; off += chunk) {
    gsize n = MIN (chunk, size - off);
    GstBuffer *buf = gst_buffer_new_memdup (data + off, n);

    GST_BUFFER_PTS (buf) = t;
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (n / 2, GST_SECOND,
        rate);
    t += GST_BUFFER_DURATION (buf);
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  }
  return t;
}

/* Properties are read when the element starts, which the harness does
 * at once: set them on @sink first. */
static GstHarness *
new_harness (GstElement * sink, guint rate, Results * r, GstBus * bus)
{
  GstHarness *h = gst_harness_new_with_element (sink, "sink", NULL);
  g_autofree char *caps = g_strdup_printf ("audio/x-raw, format=S16LE, "
      "layout=interleaved, channels=1, rate=%u", rate);

  connect_results (h->element, r);
  if (bus)
    gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Explicit utterance events: two utterances, partials then exactly one
 * final each, ids, times and the bus messages; EOS returns only after the
 * finals. */
static void
test_events (void)
{
  Results r;
  g_autoptr (GstBus) bus = gst_bus_new ();
  g_autofree char *domain = g_build_filename (g_getenv ("COPILOT_DATA_DIR"),
      "domain.lm", NULL);
  g_autoptr (GBytes) block = NULL, balance = NULL;
  GstElement *sink;
  GstHarness *h;
  GstClockTime end1, start2, end2;
  guint rate;
  guint n_final_msgs = 0;
  GstMessage *msg;
  CopilotSegment *seg;

  results_init (&r);
  g_assert_true (g_file_test (domain, G_FILE_TEST_IS_REGULAR));
  block = read_wav ("asr-block.wav", &rate);
  g_assert_cmpuint (rate, ==, 16000);
  balance = read_wav ("asr-balance.wav", &rate);

  sink = gst_element_factory_make ("asrsink", NULL);
  g_object_set (sink, "speaker", "agent", "segment-prefix", "call1-",
      "partial-interval", (guint64) GST_MSECOND, "domain-lm", domain, NULL);
  h = new_harness (sink, 16000, &r, bus);
  gst_harness_play (h);

  g_assert_true (gst_harness_push_event (h,
          copilot_utterance_start_event_new (0, 0)));
  end1 = push_audio (h, block, 16000, 0);
  g_assert_true (gst_harness_push_event (h,
          copilot_utterance_end_event_new (0, end1, end1,
              COPILOT_UTTERANCE_END_SILENCE)));
  /* Audio between utterances is not part of either. */
  start2 = end1 + 500 * GST_MSECOND;
  g_assert_true (gst_harness_push_event (h,
          copilot_utterance_start_event_new (1, start2)));
  end2 = push_audio (h, balance, 16000, start2);
  g_assert_true (gst_harness_push_event (h,
          copilot_utterance_end_event_new (1, end2, end2 - start2,
              COPILOT_UTTERANCE_END_SILENCE)));
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));

  /* EOS has returned: both finals are already there. */
  g_mutex_lock (&r.lock);
  g_assert_cmpuint (r.finals->len, ==, 2);
  g_assert_cmpuint (r.partials_before_first_final, >=, 1);
  seg = g_ptr_array_index (r.finals, 0);
  g_test_message ("final 0: %s (%.2f)", copilot_segment_get_text (seg),
      copilot_segment_get_confidence (seg));
  g_assert_cmpstr (copilot_segment_get_id (seg), ==, "call1-agent-0");
  g_assert_cmpstr (copilot_segment_get_speaker (seg), ==, "agent");
  g_assert_true (copilot_segment_is_final (seg));
  g_assert_cmpuint (copilot_segment_get_start (seg), ==, 0);
  g_assert_cmpuint (copilot_segment_get_end (seg), ==, end1);
  g_assert_cmpfloat (copilot_segment_get_confidence (seg), >, 0.0);
  g_assert_cmpfloat (copilot_segment_get_confidence (seg), <=, 1.0);
  g_assert_cmpuint (count_words (copilot_segment_get_text (seg),
          "please block my credit card"), >=, 3);
  seg = g_ptr_array_index (r.finals, 1);
  g_test_message ("final 1: %s (%.2f)", copilot_segment_get_text (seg),
      copilot_segment_get_confidence (seg));
  g_assert_cmpstr (copilot_segment_get_id (seg), ==, "call1-agent-1");
  g_assert_cmpuint (copilot_segment_get_start (seg), ==, start2);
  g_assert_cmpuint (copilot_segment_get_end (seg), ==, end2);
  g_assert_cmpuint (count_words (copilot_segment_get_text (seg),
          "want check account balance"), >=, 2);
  for (guint i = 0; i < r.partials->len; i++) {
    seg = g_ptr_array_index (r.partials, i);
    g_assert_true (g_str_has_prefix (copilot_segment_get_id (seg),
            "call1-agent-"));
  }
  g_mutex_unlock (&r.lock);

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) != NULL) {
    const GstStructure *s = gst_message_get_structure (msg);
    gboolean is_final;
    guint64 start, end, latency;
    double confidence;

    if (gst_structure_has_name (s, "copilot-transcript")) {
      g_assert_true (gst_structure_get_boolean (s, "is-final", &is_final));
      g_assert_true (gst_structure_has_field_typed (s, "segment",
              COPILOT_TYPE_SEGMENT));
      g_assert_nonnull (gst_structure_get_string (s, "text"));
      g_assert_cmpstr (gst_structure_get_string (s, "speaker"), ==, "agent");
      g_assert_true (gst_structure_get_uint64 (s, "start", &start));
      g_assert_true (gst_structure_get_uint64 (s, "end", &end));
      g_assert_true (gst_structure_get_uint64 (s, "latency", &latency));
      g_assert_true (gst_structure_get_double (s, "confidence", &confidence));
      if (is_final) {
        g_assert_cmpstr (gst_structure_get_string (s, "segment-id"), ==,
            n_final_msgs == 0 ? "call1-agent-0" : "call1-agent-1");
        g_assert_cmpuint (end, ==, n_final_msgs == 0 ? end1 : end2);
        g_assert_cmpuint (latency, <, 60 * GST_SECOND);
        n_final_msgs++;
      }
    }
    gst_message_unref (msg);
  }
  g_assert_cmpuint (n_final_msgs, ==, 2);

  {
    g_autoptr (GstStructure) stats = NULL;
    guint64 finals, utterances, delay;
    double audio, rtf;

    g_object_get (h->element, "stats", &stats, "max-observed-delay", &delay,
        NULL);
    g_assert_true (gst_structure_get_uint64 (stats, "finals", &finals));
    g_assert_true (gst_structure_get_uint64 (stats, "utterances", &utterances));
    g_assert_true (gst_structure_get_double (stats, "audio-seconds", &audio));
    g_assert_true (gst_structure_get_double (stats, "real-time-factor", &rtf));
    {
      g_autofree char *str = gst_structure_to_string (stats);

      g_test_message ("stats: %s", str);
    }
    g_assert_cmpuint (finals, ==, 2);
    g_assert_cmpuint (utterances, ==, 2);
    g_assert_cmpfloat (audio, >, 4.0);
    g_assert_cmpfloat (rtf, >, 0.0);
    g_assert_cmpuint (delay, <, 60 * GST_SECOND);
  }
  gst_harness_teardown (h);
  results_clear (&r);
}

/* No utterance events, 8 kHz file input: one implicit utterance closed at
 * EOS, upsampled for the 16 kHz model. */
static void
test_implicit_8k (void)
{
  Results r;
  g_autofree char *path = fixture ("asr-block-8k.wav");
  g_autofree char *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "wavparse ! asrsink name=asr speaker=customer", path);
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  CopilotSegment *seg;

  results_init (&r);
  pipeline = gst_parse_launch (desc, NULL);
  g_assert_nonnull (pipeline);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "asr");
  connect_results (sink, &r);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);

  g_mutex_lock (&r.lock);
  g_assert_cmpuint (r.finals->len, ==, 1);
  seg = g_ptr_array_index (r.finals, 0);
  g_test_message ("8 kHz final: %s", copilot_segment_get_text (seg));
  g_assert_cmpstr (copilot_segment_get_id (seg), ==, "customer-0");
  g_assert_cmpuint (copilot_segment_get_start (seg), ==, 0);
  /* flite's sentence is 2.15 s long. */
  g_assert_cmpuint (copilot_segment_get_end (seg), >, 2 * GST_SECOND);
  g_assert_cmpuint (copilot_segment_get_end (seg), <, 3 * GST_SECOND);
  g_assert_cmpuint (count_words (copilot_segment_get_text (seg),
          "please block my credit card"), >=, 2);
  g_mutex_unlock (&r.lock);

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  results_clear (&r);
}

/* Two sinks, one decoder for the whole process: both get their finals. */
static void
test_shared_pool (void)
{
  Results r1, r2;
  g_autofree char *p1 = fixture ("asr-block.wav");
  g_autofree char *p2 = fixture ("asr-balance.wav");
  g_autofree char *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "wavparse ! asrsink name=a speaker=agent max-decoders=1 "
      "filesrc location=\"%s\" ! wavparse ! asrsink name=b speaker=customer",
      p1, p2);
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) a = NULL, b = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GstStructure) stats = NULL;
  guint decoders, max_decoders;
  guint default_max;

  results_init (&r1);
  results_init (&r2);
  pipeline = gst_parse_launch (desc, NULL);
  g_assert_nonnull (pipeline);
  a = gst_bin_get_by_name (GST_BIN (pipeline), "a");
  b = gst_bin_get_by_name (GST_BIN (pipeline), "b");
  g_object_get (b, "max-decoders", &default_max, NULL);
  g_assert_cmpuint (default_max, ==, 1);        /* process-wide */
  connect_results (a, &r1);
  connect_results (b, &r2);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);

  g_object_get (a, "stats", &stats, NULL);
  g_assert_true (gst_structure_get_uint (stats, "decoders", &decoders));
  g_assert_true (gst_structure_get_uint (stats, "max-decoders", &max_decoders));
  g_assert_cmpuint (max_decoders, ==, 1);
  g_assert_cmpuint (decoders, <=, 1);

  g_assert_cmpuint (r1.finals->len, ==, 1);
  g_assert_cmpuint (r2.finals->len, ==, 1);
  g_assert_cmpstr (copilot_segment_get_id (g_ptr_array_index (r1.finals,
              0)), ==, "agent-0");
  g_assert_cmpstr (copilot_segment_get_id (g_ptr_array_index (r2.finals,
              0)), ==, "customer-0");
  g_assert_cmpuint (count_words (copilot_segment_get_text
          (g_ptr_array_index (r1.finals, 0)), "block credit card"), >=, 2);
  g_assert_cmpuint (count_words (copilot_segment_get_text
          (g_ptr_array_index (r2.finals, 0)), "check account balance"), >=, 2);

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (a, "max-decoders", g_get_num_processors (), NULL);
  results_clear (&r1);
  results_clear (&r2);
}

/* Runs one utterance through a sink with @domain_weight; returns the
 * number of finals. */
static guint
decode_once (double domain_weight)
{
  Results r;
  g_autoptr (GBytes) block = NULL;
  GstElement *sink;
  GstHarness *h;
  guint rate, n;

  results_init (&r);
  block = read_wav ("asr-block.wav", &rate);
  sink = gst_element_factory_make ("asrsink", NULL);
  g_object_set (sink, "domain-weight", domain_weight, NULL);
  h = new_harness (sink, 16000, &r, NULL);
  gst_harness_play (h);
  push_audio (h, block, 16000, 0);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  g_mutex_lock (&r.lock);
  n = r.finals->len;
  g_mutex_unlock (&r.lock);
  gst_harness_teardown (h);
  results_clear (&r);
  return n;
}

/* With room for one decoder, a sink of another configuration evicts the
 * idle decoder: it is destroyed with everything it loaded (the sanitizer
 * run checks for leaks, which is how the language-model references that
 * ngram_model_set_init() takes were found), and both sinks decode. */
static void
test_evict (void)
{
  g_autoptr (GstElement) any = gst_element_factory_make ("asrsink", NULL);

  g_object_set (any, "max-decoders", 1, NULL);
  g_assert_cmpuint (decode_once (0.5), ==, 1);
  g_assert_cmpuint (decode_once (0.0), ==, 1);
  g_assert_cmpuint (decode_once (0.5), ==, 1);
  g_object_set (any, "max-decoders", g_get_num_processors (), NULL);
}

/* Tearing down inside an utterance returns promptly, without a final. */
static void
test_stop_mid_utterance (void)
{
  Results r;
  g_autoptr (GBytes) block = NULL;
  GstElement *sink;
  GstHarness *h;
  guint rate;
  gint64 t0;

  results_init (&r);
  block = read_wav ("asr-block.wav", &rate);
  sink = gst_element_factory_make ("asrsink", NULL);
  g_object_set (sink, "partial-interval", (guint64) 0, NULL);
  h = new_harness (sink, 16000, &r, NULL);
  gst_harness_play (h);
  g_assert_true (gst_harness_push_event (h,
          copilot_utterance_start_event_new (0, 0)));
  push_audio (h, block, 16000, 0);
  t0 = g_get_monotonic_time ();
  gst_harness_teardown (h);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 30 * G_USEC_PER_SEC);
  g_assert_cmpuint (r.finals->len, ==, 0);
  g_assert_cmpuint (r.partials->len, ==, 0);
  results_clear (&r);
}

/* domain-weight=0 decodes with the generic model alone. */
static void
test_generic_only (void)
{
  Results r;
  g_autoptr (GBytes) block = NULL;
  GstElement *sink;
  GstHarness *h;
  guint rate;
  GstClockTime end;

  results_init (&r);
  block = read_wav ("asr-block.wav", &rate);
  sink = gst_element_factory_make ("asrsink", NULL);
  g_object_set (sink, "domain-weight", 0.0, NULL);
  h = new_harness (sink, 16000, &r, NULL);
  gst_harness_play (h);
  end = push_audio (h, block, 16000, 0);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  g_mutex_lock (&r.lock);
  g_assert_cmpuint (r.finals->len, ==, 1);
  g_test_message ("generic final: %s",
      copilot_segment_get_text (g_ptr_array_index (r.finals, 0)));
  g_assert_cmpuint (copilot_segment_get_end (g_ptr_array_index (r.finals,
              0)), ==, end);
  g_assert_cmpuint (count_words (copilot_segment_get_text
          (g_ptr_array_index (r.finals, 0)), "please block my credit card"),
      >=, 2);
  g_mutex_unlock (&r.lock);
  gst_harness_teardown (h);
  results_clear (&r);
}

/* Missing model files fail start() with an error message. */
static void
test_bad_model (void)
{
  const char *props[] = { "hmm", "lm", "dict", "domain-lm" };

  for (guint i = 0; i < G_N_ELEMENTS (props); i++) {
    g_autoptr (GstElement) sink = gst_element_factory_make ("asrsink", NULL);
    g_autoptr (GstBus) bus = gst_bus_new ();
    g_autoptr (GstMessage) msg = NULL;
    g_autoptr (GError) err = NULL;

    gst_element_set_bus (sink, bus);
    g_object_set (sink, props[i], "/nonexistent/model", NULL);
    g_assert_cmpint (gst_element_set_state (sink, GST_STATE_PAUSED), ==,
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_assert_nonnull (msg);
    gst_message_parse_error (msg, &err, NULL);
    g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
    gst_element_set_state (sink, GST_STATE_NULL);
  }
}

/* decoder-options are validated in start(): unknown options, reserved ones,
 * bad values and broken quoting are refused with a settings error, and a
 * valid set is accepted. */
static void
test_decoder_options (void)
{
  const char *bad[] = {
    "-nosuchoption 3", "-hmm /tmp", "-maxhmmpf", "maxhmmpf 3",
    "-beam 'unterminated", "-maxhmmpf notanumber",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GstElement) sink = gst_element_factory_make ("asrsink", NULL);
    g_autoptr (GstBus) bus = gst_bus_new ();
    g_autoptr (GstMessage) msg = NULL;
    g_autoptr (GError) err = NULL;
    g_autofree char *dbg = NULL;

    g_test_message ("decoder-options=%s", bad[i]);
    gst_element_set_bus (sink, bus);
    g_object_set (sink, "decoder-options", bad[i], NULL);
    g_assert_cmpint (gst_element_set_state (sink, GST_STATE_PAUSED), ==,
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_assert_nonnull (msg);
    gst_message_parse_error (msg, &err, &dbg);
    g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS);
    g_assert_nonnull (strstr (dbg, "decoder options"));
    gst_element_set_state (sink, GST_STATE_NULL);
  }

  {
    g_autoptr (GstElement) sink = gst_element_factory_make ("asrsink", NULL);

    g_object_set (sink, "decoder-options", "-maxhmmpf 3000 -beam 1e-40",
        "async", FALSE, NULL);
    g_assert_cmpint (gst_element_set_state (sink, GST_STATE_PAUSED), !=,
        GST_STATE_CHANGE_FAILURE);
    gst_element_set_state (sink, GST_STATE_NULL);
  }
}

/* The sink's statistics, read from its "stats" property. */
static double
stats_double (GstElement * sink, const char *field)
{
  g_autoptr (GstStructure) stats = NULL;
  double value;

  g_object_get (sink, "stats", &stats, NULL);
  g_assert_true (gst_structure_get_double (stats, field, &value));
  return value;
}

/* Pushes @size bytes of 16 kHz audio from @data as one buffer into
 * appsrc @src at running time *@t, and advances *@t. */
static void
appsrc_push (GstElement * src, const guint8 * data, gsize size,
    GstClockTime * t)
{
  g_autoptr (GstBuffer) buf = gst_buffer_new_memdup (data, size);
  GstFlowReturn ret;

  GST_BUFFER_PTS (buf) = *t;
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (size / 2, GST_SECOND,
      16000);
  *t += GST_BUFFER_DURATION (buf);
  g_signal_emit_by_name (src, "push-buffer", buf, &ret);
  g_assert_cmpint (ret, ==, GST_FLOW_OK);
}

/* Non-live upstream and a buffer larger than max-backlog (1 s): the sink
 * takes it whole and decodes it, nothing is dropped and EOS completes.
 * With @mid_utterance, the first second comes in 100 ms buffers and is
 * decoded before the large buffer: the stream then holds its decoder, which
 * used to make render() wait for ever for room that could never come.
 * Without, the large buffer comes first, before the stream has a decoder,
 * and used to be dropped. */
static void
check_oversized_buffer (gboolean mid_utterance)
{
  Results r;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) src = NULL, sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GBytes) block = NULL;
  const guint8 *data;
  gsize size, off = 0;
  GstClockTime t = 0;
  GstFlowReturn ret;
  guint rate;

  results_init (&r);
  block = read_wav ("asr-block.wav", &rate);
  g_assert_cmpuint (rate, ==, 16000);
  data = g_bytes_get_data (block, &size);
  pipeline = gst_parse_launch ("appsrc name=src is-live=false format=time "
      "caps=audio/x-raw,format=S16LE,layout=interleaved,channels=1,"
      "rate=16000 ! asrsink name=asr max-backlog=1000000000", NULL);
  g_assert_nonnull (pipeline);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "asr");
  connect_results (sink, &r);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);

  if (mid_utterance) {
    gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

    for (guint i = 0; i < 10; i++, off += 3200)
      appsrc_push (src, data + off, 3200, &t);
    /* Nothing signals that the first second has been decoded: poll. */
    while (stats_double (sink, "audio-seconds") < 1.0) {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (10 * 1000);
    }
  }
  g_assert_cmpuint (size - off, >, 16000 * 2);
  appsrc_push (src, data + off, size - off, &t);
  g_signal_emit_by_name (src, "end-of-stream", &ret);
  g_assert_cmpint (ret, ==, GST_FLOW_OK);

  msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);

  g_assert_cmpfloat (stats_double (sink, "dropped-seconds"), ==, 0.0);
  g_assert_cmpfloat (stats_double (sink, "audio-seconds"), >, 2.0);
  g_mutex_lock (&r.lock);
  g_assert_cmpuint (r.finals->len, ==, 1);
  g_test_message ("final: %s",
      copilot_segment_get_text (g_ptr_array_index (r.finals, 0)));
  g_assert_cmpuint (copilot_segment_get_end (g_ptr_array_index (r.finals,
              0)), ==, t);
  g_assert_cmpuint (count_words (copilot_segment_get_text
          (g_ptr_array_index (r.finals, 0)), "please block my credit card"),
      >=, 2);
  g_mutex_unlock (&r.lock);

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  results_clear (&r);
}

static void
test_oversized_buffer_first (void)
{
  check_oversized_buffer (FALSE);
}

static void
test_oversized_buffer_mid_utterance (void)
{
  check_oversized_buffer (TRUE);
}

#define N_SHORT_UTTERANCES 30

typedef struct
{
  const char *speaker;
  GBytes *audio;                /* one 500 ms utterance */
  Results results;
  GstStructure *stats;
  GMutex *lock;
  GCond *cond;
  guint *n_done;
} ShortUtterances;

/* On its own thread: many short utterances as fast as they can be pushed,
 * then EOS, which returns once all are decoded. */
static gpointer
push_short_utterances (gpointer data)
{
  ShortUtterances *s = data;
  GstElement *sink = gst_element_factory_make ("asrsink", NULL);
  GstHarness *h;
  GstClockTime t = 0;

  g_object_set (sink, "speaker", s->speaker, NULL);
  h = new_harness (sink, 16000, &s->results, NULL);
  gst_harness_play (h);
  for (guint i = 0; i < N_SHORT_UTTERANCES; i++) {
    GstClockTime start = t;

    g_assert_true (gst_harness_push_event (h,
            copilot_utterance_start_event_new (i, start)));
    t = push_audio (h, s->audio, 16000, t);
    g_assert_true (gst_harness_push_event (h,
            copilot_utterance_end_event_new (i, t, t - start,
                COPILOT_UTTERANCE_END_SILENCE)));
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  g_object_get (h->element, "stats", &s->stats, NULL);
  gst_harness_teardown (h);

  g_mutex_lock (s->lock);
  (*s->n_done)++;
  g_cond_signal (s->cond);
  g_mutex_unlock (s->lock);
  return NULL;
}

/* Two sinks sharing one decoder, each with many short utterances: the
 * decoder and the streams' jobs change hands all the time, so that work
 * added while a job is finishing (audio, an utterance end, a granted
 * decoder) used to be lost now and then, leaving EOS waiting for ever.
 * EOS must complete, with one final per utterance. */
static void
test_short_utterances (void)
{
  g_autoptr (GstElement) any = gst_element_factory_make ("asrsink", NULL);
  g_autoptr (GBytes) balance = NULL, audio = NULL;
  ShortUtterances s[2] = {
    {.speaker = "agent"},
    {.speaker = "customer"},
  };
  GThread *threads[2];
  GMutex lock;
  GCond cond;
  guint n_done = 0;
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  guint rate;

  g_mutex_init (&lock);
  g_cond_init (&cond);
  /* "account" in "I want to check my account balance": shorter slices of
   * the fixtures often decode to nothing. */
  balance = read_wav ("asr-balance.wav", &rate);
  audio = g_bytes_new_from_bytes (balance, 2 * 20000, 2 * 8000);
  g_object_set (any, "max-decoders", 1, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (s); i++) {
    results_init (&s[i].results);
    s[i].audio = audio;
    s[i].lock = &lock;
    s[i].cond = &cond;
    s[i].n_done = &n_done;
    threads[i] = g_thread_new (s[i].speaker, push_short_utterances, &s[i]);
  }

  g_mutex_lock (&lock);
  while (n_done < G_N_ELEMENTS (s))
    if (!g_cond_wait_until (&cond, &lock, deadline))
      g_error ("EOS did not complete: %u of %u sinks done", n_done,
          (guint) G_N_ELEMENTS (s));
  g_mutex_unlock (&lock);

  for (guint i = 0; i < G_N_ELEMENTS (s); i++) {
    GPtrArray *finals = s[i].results.finals;
    guint64 utterances, n_finals;
    double dropped;

    g_thread_join (threads[i]);
    g_assert_true (gst_structure_get_uint64 (s[i].stats, "utterances",
            &utterances));
    g_assert_true (gst_structure_get_uint64 (s[i].stats, "finals", &n_finals));
    g_assert_true (gst_structure_get_double (s[i].stats, "dropped-seconds",
            &dropped));
    g_test_message ("%s: %u finals", s[i].speaker, finals->len);
    g_assert_cmpuint (utterances, ==, N_SHORT_UTTERANCES);
    g_assert_cmpfloat (dropped, ==, 0.0);
    g_assert_cmpuint (n_finals, ==, finals->len);
    /* Every utterance holds the same word: each has exactly one final. */
    g_assert_cmpuint (finals->len, ==, N_SHORT_UTTERANCES);
    for (guint j = 0; j < finals->len; j++) {
      CopilotSegment *seg = g_ptr_array_index (finals, j);
      g_autofree char *id = g_strdup_printf ("%s-%u", s[i].speaker, j);

      g_assert_cmpstr (copilot_segment_get_id (seg), ==, id);
      g_assert_cmpuint (count_words (copilot_segment_get_text (seg),
              "account"), ==, 1);
    }
    gst_structure_free (s[i].stats);
    results_clear (&s[i].results);
  }
  g_object_set (any, "max-decoders", g_get_num_processors (), NULL);
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/asrsink/bad-model", test_bad_model);
  g_test_add_func ("/asrsink/decoder-options", test_decoder_options);
  g_test_add_func ("/asrsink/events", test_events);
  g_test_add_func ("/asrsink/implicit-8k", test_implicit_8k);
  g_test_add_func ("/asrsink/shared-pool", test_shared_pool);
  g_test_add_func ("/asrsink/stop-mid-utterance", test_stop_mid_utterance);
  g_test_add_func ("/asrsink/generic-only", test_generic_only);
  g_test_add_func ("/asrsink/evict", test_evict);
  g_test_add_func ("/asrsink/oversized-buffer/first",
      test_oversized_buffer_first);
  g_test_add_func ("/asrsink/oversized-buffer/mid-utterance",
      test_oversized_buffer_mid_utterance);
  g_test_add_func ("/asrsink/short-utterances", test_short_utterances);
  return g_test_run ();
}
