/* Element tests for vadsplit.
 *
 * The signals are built here with a known truth: flite speech clips (built
 * by tests/data/meson.build) are mixed at chosen times into generated line
 * noise, tones or silence, and the truth boundaries come from the energy
 * envelope of the clean clips.  Everything is deterministic: the noise uses
 * a fixed seed and the clips are generated without dither. */
#include "config.h"

#undef G_DISABLE_ASSERT
#include <math.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/check/gstharness.h>

#include "gstcopilotutterance.h"

#define TOLERANCE (200 * GST_MSECOND)
/* Line noise level: about -35 dBFS RMS. */
#define NOISE_RMS (32768.0 * 0.0178)
/* Truth: 10 ms frames of a clean clip louder than this are speech. */
#define TRUTH_THRESHOLD_DBFS -40.0
/* Pauses inside the truth shorter than vadsplit's default hangover do not
 * split an utterance. */
#define TRUTH_MERGE (400 * GST_MSECOND)
#define DEFAULT_PRE_ROLL (300 * GST_MSECOND)

/* ---- Signal generation ------------------------------------------------ */

typedef struct
{
  GstClockTime start;
  GstClockTime end;
} Interval;

typedef struct
{
  guint rate;
  gsize n;
  gdouble *mix;                 /* the signal being built */
  gdouble *speech;              /* the clean speech placed so far */
  GArray *truth;                /* of Interval */
  GRand *rand;
} Signal;

static Signal *
signal_new (guint rate, gdouble seconds)
{
  Signal *s = g_new0 (Signal, 1);

  s->rate = rate;
  s->n = (gsize) (seconds * rate);
  s->mix = g_new0 (gdouble, s->n);
  s->speech = g_new0 (gdouble, s->n);
  s->truth = g_array_new (FALSE, FALSE, sizeof (Interval));
  s->rand = g_rand_new_with_seed (20240611);
  return s;
}

static void
signal_free (Signal * s)
{
  g_free (s->mix);
  g_free (s->speech);
  g_array_unref (s->truth);
  g_rand_free (s->rand);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Signal, signal_free);

static gsize
to_samples (Signal * s, gdouble seconds)
{
  return MIN (s->n, (gsize) (seconds * s->rate + 0.5));
}

static GstClockTime
to_time (Signal * s, gsize sample)
{
  return gst_util_uint64_scale_int (sample, GST_SECOND, s->rate);
}

/* Adds Gaussian white noise of @rms (in sample units) to [from, to) s. */
static void
add_noise (Signal * s, gdouble from, gdouble to, gdouble rms)
{
  gsize i;

  for (i = to_samples (s, from); i < to_samples (s, to); i++) {
    gdouble u1 = g_rand_double_range (s->rand, 1e-12, 1.0);
    gdouble u2 = g_rand_double (s->rand);

    s->mix[i] += rms * sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
  }
}

/* Adds the sum of sines at @freqs (0-terminated), each of peak @amplitude,
 * optionally amplitude-modulated at @am_hz (full depth), on [from, to) s. */
static void
add_tone (Signal * s, gdouble from, gdouble to, const gdouble * freqs,
    gdouble amplitude, gdouble am_hz)
{
  gsize i, start = to_samples (s, from);

  for (i = start; i < to_samples (s, to); i++) {
    gdouble t = (gdouble) (i - start) / s->rate;
    gdouble v = 0.0;
    const gdouble *f;

    for (f = freqs; *f > 0.0; f++)
      v += sin (2.0 * G_PI * *f * t);
    if (am_hz > 0.0)
      v *= 0.5 * (1.0 + sin (2.0 * G_PI * am_hz * t));
    s->mix[i] += amplitude * v;
  }
}

static gint16 *
load_clip (guint rate, guint number, gsize * n_samples)
{
  g_autofree char *name = g_strdup_printf ("vad-speech-%u-%u.raw", number,
      rate);
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "data", name,
      NULL);
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, rate);
  *n_samples = len / 2;
  return (gint16 *) data;
}

/* Appends the truth intervals of clean speech @clip placed at sample @at:
 * runs of 10 ms frames above TRUTH_THRESHOLD_DBFS, pauses shorter than
 * TRUTH_MERGE merged. */
static void
add_truth (Signal * s, const gdouble * clip, gsize n, gsize at)
{
  gsize frame = s->rate / 100, i, j;
  gsize first = G_MAXSIZE, last = 0;

  for (i = 0; i + frame <= n; i += frame) {
    gdouble e = 0.0;

    for (j = i; j < i + frame; j++)
      e += clip[j] * clip[j];
    e /= frame * 32768.0 * 32768.0;
    if (10.0 * log10 (e + 1e-20) < TRUTH_THRESHOLD_DBFS)
      continue;
    if (first != G_MAXSIZE && to_time (s, i - last) >= TRUTH_MERGE) {
      Interval iv = { to_time (s, at + first), to_time (s, at + last) };
      g_array_append_val (s->truth, iv);
      first = G_MAXSIZE;
    }
    if (first == G_MAXSIZE)
      first = i;
    last = i + frame;
  }
  if (first != G_MAXSIZE) {
    Interval iv = { to_time (s, at + first), to_time (s, at + last) };
    g_array_append_val (s->truth, iv);
  }
}

/* Places speech clip @number at @at seconds, scaled by @gain, possibly
 * truncated to @max_seconds (0: whole clip); returns where it ends (s). */
static gdouble
add_speech (Signal * s, guint number, gdouble at, gdouble gain,
    gdouble max_seconds)
{
  gsize n, i, start = to_samples (s, at);
  g_autofree gint16 *clip = load_clip (s->rate, number, &n);
  g_autofree gdouble *scaled = NULL;

  if (max_seconds > 0.0)
    n = MIN (n, (gsize) (max_seconds * s->rate));
  n = MIN (n, s->n - start);
  scaled = g_new (gdouble, n);
  for (i = 0; i < n; i++) {
    scaled[i] = GINT16_FROM_LE (clip[i]) * gain;
    s->mix[start + i] += scaled[i];
    s->speech[start + i] += scaled[i];
  }
  add_truth (s, scaled, n, start);
  return at + (gdouble) n / s->rate;
}

/* Places clip @number so that its speech (per the truth) starts at
 * @onset seconds; returns where its speech ends (s). */
static gdouble
add_speech_at_onset (Signal * s, guint number, gdouble onset, gdouble gain)
{
  gsize n, i, j, frame = s->rate / 100;
  g_autofree gint16 *clip = load_clip (s->rate, number, &n);
  gdouble lead = 0.0;

  for (i = 0; i + frame <= n; i += frame) {
    gdouble e = 0.0;

    for (j = i; j < i + frame; j++)
      e += (gdouble) GINT16_FROM_LE (clip[j]) * GINT16_FROM_LE (clip[j]);
    e *= gain * gain / (frame * 32768.0 * 32768.0);
    if (10.0 * log10 (e + 1e-20) >= TRUTH_THRESHOLD_DBFS) {
      lead = (gdouble) i / s->rate;
      break;
    }
  }
  add_speech (s, number, onset - lead, gain, 0);
  return (gdouble) g_array_index (s->truth, Interval,
      s->truth->len - 1).end / GST_SECOND;
}

static gint16 *
signal_render (Signal * s)
{
  gint16 *out = g_new (gint16, s->n);
  gsize i;

  for (i = 0; i < s->n; i++)
    out[i] = (gint16) CLAMP (lrint (s->mix[i]), -32768, 32767);
  return out;
}

/* Mean square of the clean speech on [t - span, t + span), in dBFS. */
static gdouble
speech_level (Signal * s, GstClockTime t, GstClockTime span)
{
  gsize from = gst_util_uint64_scale_int (t > span ? t - span : 0, s->rate,
      GST_SECOND);
  gsize to = MIN (s->n, gst_util_uint64_scale_int (t + span, s->rate,
          GST_SECOND));
  gdouble e = 0.0;
  gsize i;

  for (i = from; i < to; i++)
    e += s->speech[i] * s->speech[i];
  e /= MAX (1, to - from) * 32768.0 * 32768.0;
  return 10.0 * log10 (e + 1e-20);
}

/* ---- Running the element ---------------------------------------------- */

typedef enum
{
  ITEM_BUFFER,
  ITEM_START,
  ITEM_END,
  ITEM_GAP,
  ITEM_EOS,
  ITEM_FLUSH_STOP,
} ItemKind;

typedef struct
{
  ItemKind kind;
  GstClockTime pts;             /* buffers and gaps */
  GstClockTime duration;        /* buffers, gaps and ends */
  GstBuffer *buffer;
  guint64 index;
  GstClockTime running_time;    /* starts and ends */
  CopilotUtteranceEndReason reason;
} Item;

typedef struct
{
  guint64 index;
  GstClockTime start;
  GstClockTime end;
  CopilotUtteranceEndReason reason;
} Utterance;

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  GArray *items;                /* of Item, in the order they left vadsplit */
  guint rate;
} Run;

static void
item_clear (Item * item)
{
  gst_clear_buffer (&item->buffer);
}

static GstPadProbeReturn
record_cb (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *run = user_data;
  Item item = { 0, };

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    item.kind = ITEM_BUFFER;
    item.pts = GST_BUFFER_PTS (buf);
    item.duration = GST_BUFFER_DURATION (buf);
    item.buffer = gst_buffer_ref (buf);
  } else if (GST_PAD_PROBE_INFO_TYPE (info) &
      (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH)) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    if (copilot_utterance_start_event_parse (ev, &item.index,
            &item.running_time)) {
      item.kind = ITEM_START;
    } else if (copilot_utterance_end_event_parse (ev, &item.index,
            &item.running_time, &item.duration, &item.reason)) {
      item.kind = ITEM_END;
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      item.kind = ITEM_GAP;
      gst_event_parse_gap (ev, &item.pts, &item.duration);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS) {
      item.kind = ITEM_EOS;
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_STOP) {
      item.kind = ITEM_FLUSH_STOP;
    } else {
      return GST_PAD_PROBE_OK;
    }
  } else {
    return GST_PAD_PROBE_OK;
  }
  g_array_append_val (run->items, item);
  return GST_PAD_PROBE_OK;
}

/* Creates vadsplit with @first_property... set, negotiated for @rate. */
static Run *
run_new (guint rate, const char *first_property, ...)
{
  Run *run = g_new0 (Run, 1);
  GstElement *element = gst_element_factory_make ("vadsplit", NULL);
  g_autofree char *caps = g_strdup_printf ("audio/x-raw, format=S16LE, "
      "layout=interleaved, channels=1, rate=%u", rate);
  va_list args;

  g_assert_nonnull (element);
  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (element), first_property, args);
  va_end (args);

  run->rate = rate;
  run->items = g_array_new (FALSE, TRUE, sizeof (Item));
  g_array_set_clear_func (run->items, (GDestroyNotify) item_clear);
  run->bus = gst_bus_new ();
  gst_element_set_bus (element, run->bus);
  run->h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_pad_add_probe (run->h->sinkpad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, record_cb, run, NULL);
  gst_harness_set_src_caps_str (run->h, caps);
  return run;
}

static void
run_free (Run * run)
{
  gst_harness_teardown (run->h);
  gst_bus_set_flushing (run->bus, TRUE);
  gst_object_unref (run->bus);
  g_array_unref (run->items);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free);

/* Pushes @n samples in chunks of 25 ms (not a multiple of any VAD frame),
 * timestamped from @base. */
static void
run_push (Run * run, const gint16 * samples, gsize n, GstClockTime base)
{
  gsize chunk = run->rate / 40, i;

  for (i = 0; i < n; i += chunk) {
    gsize len = MIN (chunk, n - i);
    GstBuffer *buf = gst_buffer_new_memdup (samples + i, len * 2);

    GST_BUFFER_PTS (buf) = base + gst_util_uint64_scale_int (i, GST_SECOND,
        run->rate);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (len, GST_SECOND,
        run->rate);
    g_assert_cmpint (gst_harness_push (run->h, buf), ==, GST_FLOW_OK);
  }
}

static void
run_push_signal (Run * run, Signal * s)
{
  g_autofree gint16 *pcm = signal_render (s);

  run_push (run, pcm, s->n, 0);
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_eos ()));
}

/* Pairs the start and end events into utterances, checking their order. */
static GArray *
run_utterances (Run * run)
{
  GArray *utts = g_array_new (FALSE, FALSE, sizeof (Utterance));
  gboolean open = FALSE;
  Utterance u = { 0, };
  guint i;

  for (i = 0; i < run->items->len; i++) {
    Item *it = &g_array_index (run->items, Item, i);

    if (it->kind == ITEM_START) {
      g_assert_false (open);
      open = TRUE;
      u.index = it->index;
      u.start = it->running_time;
    } else if (it->kind == ITEM_END) {
      g_assert_true (open);
      g_assert_cmpuint (it->index, ==, u.index);
      g_assert_cmpuint (it->running_time, >=, u.start);
      g_assert_cmpuint (it->duration, ==, it->running_time - u.start);
      open = FALSE;
      u.end = it->running_time;
      u.reason = it->reason;
      g_array_append_val (utts, u);
    } else if (it->kind == ITEM_BUFFER) {
      /* No audio leaves vadsplit outside an utterance. */
      g_assert_true (open);
      g_assert_cmpuint (it->pts, >=, u.start);
    }
  }
  g_assert_false (open);
  return utts;
}

static void
print_utterances (GArray * utts, Signal * s)
{
  guint i;

  for (i = 0; s && i < s->truth->len; i++) {
    Interval *t = &g_array_index (s->truth, Interval, i);

    g_test_message ("truth %u: %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT, i,
        GST_TIME_ARGS (t->start), GST_TIME_ARGS (t->end));
  }
  for (i = 0; i < utts->len; i++) {
    Utterance *u = &g_array_index (utts, Utterance, i);

    g_test_message ("utterance %" G_GUINT64_FORMAT ": %" GST_TIME_FORMAT
        " - %" GST_TIME_FORMAT " (%s)", u->index, GST_TIME_ARGS (u->start),
        GST_TIME_ARGS (u->end),
        copilot_utterance_end_reason_to_string (u->reason));
  }
}

static GstClockTimeDiff
abs_diff (GstClockTime a, GstClockTime b)
{
  return a > b ? (GstClockTimeDiff) (a - b) : (GstClockTimeDiff) (b - a);
}

/* Checks one utterance per truth interval, each boundary within
 * TOLERANCE (the start event is early by @pre_roll by design). */
static void
assert_boundaries (GArray * utts, Signal * s, GstClockTime pre_roll)
{
  guint i, good = 0;

  print_utterances (utts, s);
  g_assert_cmpuint (utts->len, ==, s->truth->len);
  for (i = 0; i < utts->len; i++) {
    Utterance *u = &g_array_index (utts, Utterance, i);
    Interval *t = &g_array_index (s->truth, Interval, i);
    GstClockTimeDiff ds = abs_diff (u->start + pre_roll, t->start);
    GstClockTimeDiff de = abs_diff (u->end, t->end);

    g_test_message ("boundary errors: onset %" G_GINT64_FORMAT " ms, "
        "offset %" G_GINT64_FORMAT " ms", ds / GST_MSECOND, de / GST_MSECOND);
    good += (ds <= TOLERANCE) + (de <= TOLERANCE);
  }
  g_test_message ("%u of %u boundaries within 200 ms", good, 2 * utts->len);
  g_assert_cmpuint (good, ==, 2 * utts->len);
}

/* ---- Tests ------------------------------------------------------------ */

static void
test_caps (void)
{
  g_autoptr (GstElement) e = gst_element_factory_make ("vadsplit", NULL);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (e, "sink");
  const char *good[] = {
    "audio/x-raw, format=S16LE, layout=interleaved, channels=1, rate=8000",
    "audio/x-raw, format=S16LE, layout=interleaved, channels=1, rate=16000",
  };
  const char *bad[] = {
    "audio/x-raw, format=S16LE, layout=interleaved, channels=2, rate=8000",
    "audio/x-raw, format=F32LE, layout=interleaved, channels=1, rate=16000",
    "audio/x-raw, format=S16LE, layout=interleaved, channels=1, rate=11025",
    "audio/x-alaw, channels=1, rate=8000",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GstCaps) caps = gst_caps_from_string (good[i]);

    g_assert_true (gst_pad_query_accept_caps (sink, caps));
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GstCaps) caps = gst_caps_from_string (bad[i]);

    g_assert_false (gst_pad_query_accept_caps (sink, caps));
  }
}

/* Builds the reference call: five clips on -35 dBFS line noise. */
static Signal *
build_call (guint rate)
{
  Signal *s = signal_new (rate, 30.0);
  gdouble t = 1.5;
  guint i;

  add_noise (s, 0.0, 30.0, NOISE_RMS);
  for (i = 1; i <= 5; i++)
    t = add_speech (s, i, t, 0.7, 0) + 1.2 + 0.3 * i;
  g_assert_cmpfloat (t, <, 30.0);
  return s;
}

static void
test_boundaries (gconstpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);
  g_autoptr (Signal) s = build_call (rate);
  g_autoptr (Run) run = run_new (rate, "frame-duration",
      rate == 8000 ? 30 : 20, NULL);
  g_autoptr (GArray) utts = NULL;
  guint i;

  run_push_signal (run, s);
  utts = run_utterances (run);
  assert_boundaries (utts, s, DEFAULT_PRE_ROLL);
  for (i = 0; i < utts->len; i++) {
    Utterance *u = &g_array_index (utts, Utterance, i);

    g_assert_cmpuint (u->index, ==, i);
    g_assert_cmpint (u->reason, ==, COPILOT_UTTERANCE_END_SILENCE);
  }
}

static void
test_timestamps (void)
{
  g_autoptr (Signal) s = signal_new (8000, 8.0);
  g_autoptr (Run) run = run_new (8000, NULL);
  g_autofree gint16 *pcm = NULL;
  const GstClockTime base = 5 * GST_SECOND;
  GstClockTime expect = GST_CLOCK_TIME_NONE, start_rt = GST_CLOCK_TIME_NONE;
  GstSegment segment;
  guint i, buffers = 0;

  add_noise (s, 0.0, 8.0, NOISE_RMS);
  add_speech (s, 3, 2.0, 0.7, 0);
  pcm = signal_render (s);

  /* A segment that does not start at 0: running time = PTS - 5 s. */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = base;
  segment.time = base;
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_segment (&segment)));
  run_push (run, pcm, s->n, base);
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_eos ()));

  for (i = 0; i < run->items->len; i++) {
    Item *it = &g_array_index (run->items, Item, i);
    GstMapInfo map;
    gsize offset;

    if (it->kind == ITEM_START) {
      start_rt = it->running_time;
      expect = start_rt + base;
      continue;
    }
    if (it->kind != ITEM_BUFFER)
      continue;
    /* Contiguous, and exactly the input samples at that timestamp. */
    g_assert_cmpuint (it->pts, ==, expect);
    g_assert_cmpuint (it->duration, >, 0);
    offset = gst_util_uint64_scale_int (it->pts - base, 8000, GST_SECOND);
    g_assert_true (gst_buffer_map (it->buffer, &map, GST_MAP_READ));
    g_assert_cmpuint (offset + map.size / 2, <=, s->n);
    g_assert_cmpmem (map.data, map.size, pcm + offset, map.size);
    g_assert_cmpuint (it->duration, ==,
        gst_util_uint64_scale_int (map.size / 2, GST_SECOND, 8000));
    gst_buffer_unmap (it->buffer, &map);
    expect = it->pts + it->duration;
    buffers++;
  }
  g_assert_cmpuint (buffers, >, 10);
  g_assert_true (GST_CLOCK_TIME_IS_VALID (start_rt));
  /* Running time counts from the segment start: it is the signal's own
   * time, where the truth was measured. */
  g_assert_cmpuint (abs_diff (start_rt + DEFAULT_PRE_ROLL,
          g_array_index (s->truth, Interval, 0).start), <=, TOLERANCE);
}

static void
test_line_noise (gconstpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);
  g_autoptr (Signal) s = signal_new (rate, 20.0);
  g_autoptr (Run) run = run_new (rate, "frame-duration",
      rate == 8000 ? 30 : 10, NULL);
  g_autoptr (GArray) utts = NULL;

  add_noise (s, 0.0, 20.0, NOISE_RMS);
  run_push_signal (run, s);
  utts = run_utterances (run);
  print_utterances (utts, NULL);
  g_assert_cmpuint (utts->len, ==, 0);
}

/* Tones around speech: Indian ringback (400 Hz modulated at 25 Hz, 0.4 s
 * on, 0.2 s off, 0.4 s on, 2 s off), US ringback (440 + 480 Hz), 1 kHz
 * hold beeps, a DTMF-like dual tone and a plain 425 Hz sine. */
static Signal *
build_tones (guint rate)
{
  static const gdouble india[] = { 400.0, 0.0 };
  static const gdouble us[] = { 440.0, 480.0, 0.0 };
  static const gdouble beep[] = { 1000.0, 0.0 };
  static const gdouble dtmf[] = { 697.0, 1209.0, 0.0 };
  static const gdouble sine[] = { 425.0, 0.0 };
  Signal *s = signal_new (rate, 36.0);
  gdouble t;
  guint i;

  add_noise (s, 0.0, 36.0, NOISE_RMS);
  for (i = 0, t = 0.5; i < 2; i++, t += 3.0) {
    add_tone (s, t, t + 0.4, india, 0.3 * 32768, 25.0);
    add_tone (s, t + 0.6, t + 1.0, india, 0.3 * 32768, 25.0);
  }
  /* Speech 0.4 s after the last ringback burst. */
  t = add_speech (s, 1, 4.4, 0.7, 0) + 1.5;
  add_tone (s, t, t + 2.0, us, 0.15 * 32768, 0.0);
  add_tone (s, t + 4.0, t + 6.0, us, 0.15 * 32768, 0.0);
  t += 7.0;
  for (i = 0; i < 3; i++, t += 2.0)
    add_tone (s, t, t + 0.5, beep, 0.25 * 32768, 0.0);
  /* Speech right after a beep, then a dual tone right after the speech. */
  t = add_speech (s, 2, t - 1.2, 0.7, 0) + 0.3;
  add_tone (s, t, t + 1.5, dtmf, 0.15 * 32768, 0.0);
  t += 2.5;
  add_tone (s, t, t + 3.0, sine, 0.3 * 32768, 0.0);
  g_assert_cmpfloat (t + 3.5, <, 36.0);
  return s;
}

static void
test_tones (void)
{
  g_autoptr (Signal) s = build_tones (8000);
  g_autoptr (Run) run = run_new (8000, NULL);
  g_autoptr (Run) plain = run_new (8000, "reject-tones", FALSE, NULL);
  g_autoptr (GArray) utts = NULL;
  g_autoptr (GArray) plain_utts = NULL;

  run_push_signal (run, s);
  utts = run_utterances (run);
  assert_boundaries (utts, s, DEFAULT_PRE_ROLL);

  /* Without tone rejection the VAD alone takes the tones for speech, which
   * is what makes the check above meaningful. */
  run_push_signal (plain, s);
  plain_utts = run_utterances (plain);
  g_test_message ("without reject-tones:");
  print_utterances (plain_utts, NULL);
  g_assert_cmpuint (plain_utts->len, >=, s->truth->len + 4);
}

static void
test_max_utterance (void)
{
  const GstClockTime max = 6 * GST_SECOND;
  g_autoptr (Signal) s = signal_new (8000, 22.0);
  g_autoptr (Run) run = run_new (8000, "max-utterance", max, NULL);
  g_autoptr (GArray) utts = NULL;
  gdouble t = 1.0;
  guint i;

  /* Continuous speech: clips separated by 200 ms pauses, shorter than the
   * hangover, so only max-utterance can cut it. */
  add_noise (s, 0.0, 22.0, NOISE_RMS);
  for (i = 1; i <= 5; i++)
    t = add_speech_at_onset (s, i, t, 0.7) + 0.2;
  g_assert_cmpfloat (t, <, 21.0);
  run_push_signal (run, s);
  utts = run_utterances (run);
  print_utterances (utts, s);
  g_assert_cmpuint (utts->len, >=, 3);

  for (i = 0; i + 1 < utts->len; i++) {
    Utterance *u = &g_array_index (utts, Utterance, i);
    Utterance *next = &g_array_index (utts, Utterance, i + 1);
    gdouble at_cut = speech_level (s, u->end, 30 * GST_MSECOND);
    gdouble around = speech_level (s, u->end - 1500 * GST_MSECOND,
        1500 * GST_MSECOND);

    g_test_message ("cut %u at %" GST_TIME_FORMAT ": %.1f dBFS there, "
        "%.1f dBFS over the searched window", i, GST_TIME_ARGS (u->end),
        at_cut, around);
    g_assert_cmpint (u->reason, ==, COPILOT_UTTERANCE_END_MAX_LENGTH);
    g_assert_cmpuint (u->end - u->start, <=, max);
    g_assert_cmpuint (u->end - u->start, >=, max - 3 * GST_SECOND);
    /* The next utterance carries on from the cut. */
    g_assert_cmpuint (next->start, ==, u->end);
    /* A quiet point, not a blind cut through a word. */
    g_assert_cmpfloat (at_cut, <, around - 15.0);
  }
}

static void
test_min_speech (void)
{
  g_autoptr (Signal) s = signal_new (8000, 6.0);
  g_autoptr (Run) run = run_new (8000, NULL);
  g_autoptr (Run) keep = run_new (8000, "min-speech",
      (guint64) 100 * GST_MSECOND, NULL);
  g_autoptr (GArray) utts = NULL;
  g_autoptr (GArray) kept = NULL;
  gsize n, i, at, len = 8000 / 10;
  g_autofree gint16 *clip = load_clip (8000, 3, &n);

  /* A 100 ms burst cut out of the loudest part of a clip. */
  add_noise (s, 0.0, 6.0, NOISE_RMS);
  at = to_samples (s, 3.0);
  for (i = 0; i < len; i++)
    s->mix[at + i] += GINT16_FROM_LE (clip[n / 3 + i]) * 0.7;

  run_push_signal (run, s);
  utts = run_utterances (run);
  g_assert_cmpuint (utts->len, ==, 0);

  run_push_signal (keep, s);
  kept = run_utterances (keep);
  print_utterances (kept, NULL);
  g_assert_cmpuint (kept->len, ==, 1);
}

static GstClockTime
first_start (Signal * s, GstClockTime pre_roll)
{
  g_autoptr (Run) run = run_new (8000, "pre-roll", pre_roll, NULL);
  g_autoptr (GArray) utts = NULL;
  Item *first_buffer = NULL;
  gboolean started = FALSE;
  guint i;

  run_push_signal (run, s);
  utts = run_utterances (run);
  g_assert_cmpuint (utts->len, ==, 1);
  for (i = 0; i < run->items->len && !first_buffer; i++) {
    Item *it = &g_array_index (run->items, Item, i);

    if (it->kind == ITEM_START)
      started = TRUE;
    else if (started && it->kind == ITEM_BUFFER)
      first_buffer = it;
  }
  /* The pre-roll is emitted: the first buffer starts at the start. */
  g_assert_nonnull (first_buffer);
  g_assert_cmpuint (first_buffer->pts, ==,
      g_array_index (utts, Utterance, 0).start);
  return g_array_index (utts, Utterance, 0).start;
}

static void
test_pre_roll (void)
{
  g_autoptr (Signal) s = signal_new (8000, 8.0);
  GstClockTime onset, with_default, with_long;

  add_noise (s, 0.0, 8.0, NOISE_RMS);
  add_speech (s, 2, 3.0, 0.7, 0);
  onset = first_start (s, 0);
  with_default = first_start (s, DEFAULT_PRE_ROLL);
  with_long = first_start (s, 800 * GST_MSECOND);
  g_test_message ("onset %" GST_TIME_FORMAT ", truth %" GST_TIME_FORMAT,
      GST_TIME_ARGS (onset),
      GST_TIME_ARGS (g_array_index (s->truth, Interval, 0).start));
  /* Frames are 30 ms, so the pre-roll is rounded to whole frames. */
  g_assert_cmpuint (abs_diff (onset - DEFAULT_PRE_ROLL, with_default), <=,
      30 * GST_MSECOND);
  g_assert_cmpuint (abs_diff (onset - 800 * GST_MSECOND, with_long), <=,
      30 * GST_MSECOND);
  g_assert_cmpuint (abs_diff (onset, g_array_index (s->truth, Interval,
              0).start), <=, TOLERANCE);
}

static void
test_gap (void)
{
  g_autoptr (Signal) s = signal_new (8000, 12.0);
  g_autoptr (Run) run = run_new (8000, "silence", 1, NULL);
  g_autoptr (GArray) utts = NULL;
  GstClockTime covered = 0, gaps = 0;
  guint i;

  add_noise (s, 0.0, 12.0, NOISE_RMS);
  add_speech (s, 1, 2.0, 0.7, 0);
  add_speech (s, 4, 7.5, 0.7, 0);
  run_push_signal (run, s);
  utts = run_utterances (run);
  g_assert_cmpuint (utts->len, ==, 2);

  /* Buffers and GAP events tile the whole stream, in order. */
  for (i = 0; i < run->items->len; i++) {
    Item *it = &g_array_index (run->items, Item, i);

    if (it->kind != ITEM_BUFFER && it->kind != ITEM_GAP)
      continue;
    g_assert_cmpuint (it->pts, ==, covered);
    covered += it->duration;
    if (it->kind == ITEM_GAP)
      gaps += it->duration;
  }
  g_assert_cmpuint (covered, ==, to_time (s, s->n));
  g_assert_cmpuint (gaps, >, 6 * GST_SECOND);
}

static void
test_eos_in_speech (void)
{
  g_autoptr (Signal) s = signal_new (8000, 3.5);
  g_autoptr (Run) run = run_new (8000, NULL);
  g_autoptr (GArray) utts = NULL;
  Item *last, *before;

  add_noise (s, 0.0, 3.5, NOISE_RMS);
  add_speech (s, 1, 1.0, 0.7, 0);       /* still speaking at 3.5 s */
  run_push_signal (run, s);
  utts = run_utterances (run);
  g_assert_cmpuint (utts->len, ==, 1);
  g_assert_cmpint (g_array_index (utts, Utterance, 0).reason, ==,
      COPILOT_UTTERANCE_END_EOS);
  g_assert_cmpuint (abs_diff (g_array_index (utts, Utterance, 0).end,
          to_time (s, s->n)), <=, 100 * GST_MSECOND);

  last = &g_array_index (run->items, Item, run->items->len - 1);
  before = &g_array_index (run->items, Item, run->items->len - 2);
  g_assert_cmpint (last->kind, ==, ITEM_EOS);
  g_assert_cmpint (before->kind, ==, ITEM_END);
}

static void
test_flush (void)
{
  g_autoptr (Signal) s = signal_new (8000, 5.0);
  g_autoptr (Run) run = run_new (8000, NULL);
  g_autoptr (GArray) utts = NULL;
  g_autofree gint16 *pcm = NULL;
  GstSegment segment;
  gsize half;
  guint i, flush_at = 0;

  add_noise (s, 0.0, 5.0, NOISE_RMS);
  add_speech (s, 2, 1.0, 0.7, 0);
  pcm = signal_render (s);

  /* Flush in the middle of the speech... */
  half = to_samples (s, 2.5);
  run_push (run, pcm, half, 0);
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_flush_stop (TRUE)));
  /* ...then the whole signal again. */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_segment (&segment)));
  run_push_signal (run, s);

  utts = run_utterances (run);
  print_utterances (utts, s);
  g_assert_cmpuint (utts->len, ==, 2);
  g_assert_cmpint (g_array_index (utts, Utterance, 0).reason, ==,
      COPILOT_UTTERANCE_END_FLUSH);
  g_assert_cmpint (g_array_index (utts, Utterance, 1).reason, ==,
      COPILOT_UTTERANCE_END_SILENCE);
  g_assert_cmpuint (g_array_index (utts, Utterance, 1).index, ==, 1);

  /* The flush end follows FLUSH_STOP; afterwards nothing from before the
   * flush comes out: the new utterance starts as the first one did. */
  for (i = 0; i < run->items->len; i++) {
    Item *it = &g_array_index (run->items, Item, i);

    if (it->kind == ITEM_FLUSH_STOP)
      flush_at = i;
  }
  g_assert_cmpuint (flush_at, >, 0);
  g_assert_cmpint (g_array_index (run->items, Item, flush_at + 1).kind, ==,
      ITEM_END);
  g_assert_cmpuint (g_array_index (utts, Utterance, 1).start, ==,
      g_array_index (utts, Utterance, 0).start);
}

static void
test_messages (void)
{
  g_autoptr (Signal) s = build_call (8000);
  g_autoptr (Run) run = run_new (8000, NULL);
  g_autoptr (GArray) utts = NULL;
  GstClockTime talk = 0, last_silence = 0;
  GstMessage *msg;
  guint starts = 0, ends = 0;

  run_push_signal (run, s);
  utts = run_utterances (run);
  g_assert_cmpuint (utts->len, ==, 5);

  while ((msg = gst_bus_pop_filtered (run->bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    const char *event = gst_structure_get_string (st, "event");
    guint64 index, rt, talk_time, silence_time, duration;
    Utterance *u;

    g_assert_true (gst_structure_has_name (st, "vadsplit"));
    g_assert_true (gst_structure_get_uint64 (st, "index", &index));
    g_assert_true (gst_structure_get_uint64 (st, "running-time", &rt));
    g_assert_true (gst_structure_get_uint64 (st, "talk-time", &talk_time));
    g_assert_true (gst_structure_get_uint64 (st, "silence-time",
            &silence_time));
    g_assert_cmpuint (index, <, utts->len);
    u = &g_array_index (utts, Utterance, index);
    g_assert_cmpuint (silence_time, >=, last_silence);
    last_silence = silence_time;

    if (g_strcmp0 (event, "utterance-start") == 0) {
      g_assert_cmpuint (index, ==, starts);
      g_assert_cmpuint (rt, ==, u->start);
      /* Everything before the start is accounted for. */
      g_assert_cmpuint (talk_time, ==, talk);
      g_assert_cmpuint (talk_time + silence_time, ==, rt);
      starts++;
    } else {
      g_assert_cmpstr (event, ==, "utterance-end");
      g_assert_cmpuint (index, ==, ends);
      g_assert_cmpuint (rt, ==, u->end);
      g_assert_true (gst_structure_get_uint64 (st, "duration", &duration));
      g_assert_cmpuint (duration, ==, u->end - u->start);
      g_assert_cmpstr (gst_structure_get_string (st, "reason"), ==, "silence");
      talk += duration;
      g_assert_cmpuint (talk_time, ==, talk);
      ends++;
    }
    gst_message_unref (msg);
  }
  g_assert_cmpuint (starts, ==, 5);
  g_assert_cmpuint (ends, ==, 5);
  g_assert_cmpuint (last_silence + talk, <=, to_time (s, s->n));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/vadsplit/caps", test_caps);
  g_test_add_func ("/vadsplit/timestamps", test_timestamps);
  g_test_add_data_func ("/vadsplit/boundaries/8k", GUINT_TO_POINTER (8000),
      test_boundaries);
  g_test_add_data_func ("/vadsplit/boundaries/16k", GUINT_TO_POINTER (16000),
      test_boundaries);
  g_test_add_data_func ("/vadsplit/line-noise/8k", GUINT_TO_POINTER (8000),
      test_line_noise);
  g_test_add_data_func ("/vadsplit/line-noise/16k", GUINT_TO_POINTER (16000),
      test_line_noise);
  g_test_add_func ("/vadsplit/tones", test_tones);
  g_test_add_func ("/vadsplit/max-utterance", test_max_utterance);
  g_test_add_func ("/vadsplit/min-speech", test_min_speech);
  g_test_add_func ("/vadsplit/pre-roll", test_pre_roll);
  g_test_add_func ("/vadsplit/silence-gap", test_gap);
  g_test_add_func ("/vadsplit/eos-in-speech", test_eos_in_speech);
  g_test_add_func ("/vadsplit/flush", test_flush);
  g_test_add_func ("/vadsplit/messages", test_messages);
  return g_test_run ();
}
