/**
 * SECTION:element-asrsink
 * @title: asrsink
 *
 * Speech recognition sink.  It decodes every utterance, as bracketed by the
 * copilot-utterance-start/-end events of vadsplit, and reports partial
 * hypotheses while the utterance is decoded and one final per utterance,
 * as the #GstAsrSink::partial and #GstAsrSink::final signals and as element
 * messages named "copilot-transcript" with these fields:
 *
 * - "segment" (CopilotSegment): the whole result
 * - "segment-id" (string): "<segment-prefix><speaker>-<n>", n counting the
 *   utterances of the stream from 0
 * - "speaker" (string), "text" (string), "is-final" (boolean)
 * - "start", "end" (guint64): running times in nanoseconds of the utterance
 *   start and end (partials: of the audio decoded so far)
 * - "confidence" (double): 0..1 for finals (the mean posterior probability
 *   of the recognised words), 0 for partials
 * - "latency" (guint64): finals: wall-clock nanoseconds from the utterance
 *   end reaching the sink to the final; partials: GST_CLOCK_TIME_NONE
 *
 * A final is only emitted when the recognised text is not empty (an
 * utterance of noise gives none).  Audio that arrives outside any
 * utterance (no vadsplit upstream) opens an implicit utterance, closed by a
 * GAP event, EOS, or after #GstAsrSink:max-utterance of audio.
 *
 * The embedded engine is pocketsphinx with its 16 kHz US English model;
 * 8 kHz input is upsampled with a windowed-sinc resampler first.  Its
 * generic language model is interpolated with a contact-centre domain model
 * (#GstAsrSink:domain-lm, #GstAsrSink:domain-weight).
 *
 * Decoders are expensive, so all asrsinks of a process share at most
 * #GstAsrSink:max-decoders of them.  A sink borrows one for each utterance
 * and decodes on a worker thread; render() only resamples and queues.
 * When no decoder is free, audio waits (up to #GstAsrSink:max-backlog; more
 * is dropped with a warning).  Upstream that is not live is instead held
 * back while the sink is being decoded and never loses audio, so files are
 * decoded completely, as fast as the CPU allows.  EOS completes only after the last final.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=call.wav ! wavparse ! audioconvert ! \
 *     audioresample ! vadsplit ! asrsink print=true speaker=agent
 * ]| prints the transcript of call.wav.
 *
 * Since: 0.1
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <gst/audio/audio.h>

#include "gstasrsink.h"
#include "gstcopilotutterance.h"
#include "copilot-asr-engine.h"
#include "copilot-asr-pool.h"
#include "copilot-asr-stream.h"
#include "copilot-segment.h"

GST_DEBUG_CATEGORY_STATIC (asr_sink_debug);
#define GST_CAT_DEFAULT asr_sink_debug

#define DEFAULT_HMM COPILOT_PS_MODELDIR "/en-us/en-us"
#define DEFAULT_LM COPILOT_PS_MODELDIR "/en-us/en-us.lm.bin"
#define DEFAULT_DICT COPILOT_PS_MODELDIR "/en-us/cmudict-en-us.dict"
#define DEFAULT_DOMAIN_LM_NAME "domain.lm"
#define DEFAULT_DOMAIN_WEIGHT 0.5
#define DEFAULT_SPEAKER "unknown"
#define DEFAULT_SEGMENT_PREFIX ""
#define DEFAULT_PRINT FALSE
#define DEFAULT_PARTIAL_INTERVAL (200 * GST_MSECOND)
#define DEFAULT_MAX_DELAY (2 * GST_SECOND)
#define DEFAULT_MAX_BACKLOG (30 * GST_SECOND)
#define DEFAULT_MAX_UTTERANCE (15 * GST_SECOND)

/* At most one "falling behind" or "dropping" warning per period. */
#define WARNING_PERIOD (10 * G_USEC_PER_SEC)

enum
{
  PROP_0,
  PROP_HMM,
  PROP_LM,
  PROP_DICT,
  PROP_DOMAIN_LM,
  PROP_DOMAIN_WEIGHT,
  PROP_DECODER_OPTIONS,
  PROP_SPEAKER,
  PROP_SEGMENT_PREFIX,
  PROP_PRINT,
  PROP_PARTIAL_INTERVAL,
  PROP_MAX_DECODERS,
  PROP_MAX_DELAY,
  PROP_MAX_BACKLOG,
  PROP_MAX_UTTERANCE,
  PROP_MAX_OBSERVED_DELAY,
  PROP_STATS,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_PARTIAL,
  SIGNAL_FINAL,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

typedef struct
{
  char *hmm;
  char *lm;
  char *dict;
  char *domain_lm;
  gboolean domain_lm_is_default;
  double domain_weight;
  char *decoder_options;
  char *speaker;
  char *segment_prefix;
  gboolean print;
  GstClockTime partial_interval;
  GstClockTime max_delay;
  GstClockTime max_backlog;
  GstClockTime max_utterance;
} Settings;

/* What the worker-thread callbacks read: a copy of Settings made in
 * start(), immutable until stop(). */
typedef struct
{
  char *speaker;
  char *segment_prefix;
  gboolean print;
  GstClockTime max_delay;
} RunSettings;

typedef struct
{
  GstAudioInfo info;
  GstAudioResampler *resampler; /* 8 kHz → 16 kHz, NULL at 16 kHz */
  gboolean live;
  gboolean live_known;
  gboolean implicit;            /* the open utterance has no start event */
  GstClockTime position;        /* running time after the last buffer */
  guint64 dropped_reported;
} State;

struct _GstAsrSink
{
  GstBaseSink parent;

  Settings settings;            /* protected by GST_OBJECT_LOCK */
  CopilotAsrStream *stream;     /* protected by GST_OBJECT_LOCK; set in
                                 * start(), cleared in stop() */
  CopilotAsrStreamStats last_stats;     /* protected by GST_OBJECT_LOCK */
  GstClockTime max_observed_delay;      /* protected by GST_OBJECT_LOCK */
  gint64 last_warning;          /* protected by GST_OBJECT_LOCK */
  gint live_upstream;           /* atomic: upstream answered the latency
                                 * query as live */
  RunSettings run;              /* written in start() only */
  State state;                  /* streaming thread only; reset in start() */
};

G_DEFINE_TYPE (GstAsrSink, gst_asr_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (asrsink, "asrsink", GST_RANK_NONE,
    GST_TYPE_ASR_SINK);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format = (string) S16LE, "
        "layout = (string) interleaved, channels = (int) 1, "
        "rate = (int) { 8000, 16000 }"));

static char *
default_domain_lm (void)
{
  const char *dir = g_getenv ("COPILOT_DATA_DIR");

  if (dir && dir[0])
    return g_build_filename (dir, DEFAULT_DOMAIN_LM_NAME, NULL);
  return g_build_filename (COPILOT_PKGDATADIR, DEFAULT_DOMAIN_LM_NAME, NULL);
}

static void
settings_clear (Settings * s)
{
  g_clear_pointer (&s->hmm, g_free);
  g_clear_pointer (&s->lm, g_free);
  g_clear_pointer (&s->dict, g_free);
  g_clear_pointer (&s->domain_lm, g_free);
  g_clear_pointer (&s->decoder_options, g_free);
  g_clear_pointer (&s->speaker, g_free);
  g_clear_pointer (&s->segment_prefix, g_free);
}

static void
run_settings_clear (RunSettings * r)
{
  g_clear_pointer (&r->speaker, g_free);
  g_clear_pointer (&r->segment_prefix, g_free);
}

/* Called with the object lock held. */
static gboolean
warning_due (GstAsrSink * self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->last_warning != 0 && now - self->last_warning < WARNING_PERIOD)
    return FALSE;
  self->last_warning = now;
  return TRUE;
}

static void
print_result (GstAsrSink * self, const CopilotSegment * seg)
{
  const char *id = copilot_segment_get_id (seg);
  const char *text = copilot_segment_get_text (seg);
  gboolean tty = isatty (STDOUT_FILENO);

  if (copilot_segment_is_final (seg)) {
    guint64 start = copilot_segment_get_start (seg);
    guint64 end = copilot_segment_get_end (seg);

    g_print ("%s[%" GST_TIME_FORMAT " - %" GST_TIME_FORMAT "] %s: %s "
        "(%.2f)\n", tty ? "\r\033[K" : "", GST_TIME_ARGS (start),
        GST_TIME_ARGS (end), id, text, copilot_segment_get_confidence (seg));
  } else if (tty) {
    g_print ("\r\033[K%s … %s", id, text);
    fflush (stdout);
  } else {
    g_print ("%s (partial): %s\n", id, text);
  }
}

/* Called from a pool worker thread. */
static void
result_cb (const CopilotAsrResult * r, gpointer user_data)
{
  GstAsrSink *self = user_data;
  g_autofree char *id = g_strdup_printf ("%s%s-%" G_GUINT64_FORMAT,
      self->run.segment_prefix, self->run.speaker, r->index);
  g_autoptr (CopilotSegment) seg = copilot_segment_new (id,
      self->run.speaker, r->text, r->start, r->end, r->confidence, r->is_final);
  GstClockTime latency = r->is_final ? (GstClockTime) MAX (r->latency, 0) :
      GST_CLOCK_TIME_NONE;
  GstStructure *s;
  gboolean late = FALSE;

  if (r->is_final) {
    GST_OBJECT_LOCK (self);
    if (!GST_CLOCK_TIME_IS_VALID (self->max_observed_delay)
        || latency > self->max_observed_delay)
      self->max_observed_delay = latency;
    /* Falling behind real time only means something with live upstream:
     * a file is pushed as fast as it can be read. */
    late = g_atomic_int_get (&self->live_upstream)
        && latency > self->run.max_delay && warning_due (self);
    GST_OBJECT_UNLOCK (self);
  }

  GST_DEBUG_OBJECT (self, "%s %s: \"%s\" (%.2f, latency %" GST_TIME_FORMAT
      ")", r->is_final ? "final" : "partial", id, r->text, r->confidence,
      GST_TIME_ARGS (latency));
  if (self->run.print)
    print_result (self, seg);

  g_signal_emit (self, signals[r->is_final ? SIGNAL_FINAL : SIGNAL_PARTIAL],
      0, seg);

  s = gst_structure_new ("copilot-transcript",
      "segment", COPILOT_TYPE_SEGMENT, seg,
      "segment-id", G_TYPE_STRING, id,
      "speaker", G_TYPE_STRING, self->run.speaker,
      "text", G_TYPE_STRING, r->text,
      "is-final", G_TYPE_BOOLEAN, r->is_final,
      "start", G_TYPE_UINT64, (guint64) r->start,
      "end", G_TYPE_UINT64, (guint64) r->end,
      "confidence", G_TYPE_DOUBLE, r->confidence,
      "latency", G_TYPE_UINT64, (guint64) latency, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));

  if (late)
    GST_ELEMENT_WARNING (self, CORE, CLOCK,
        (_("Speech recognition is falling behind real time.")),
        ("final %s came %" GST_TIME_FORMAT " after its utterance ended "
            "(max-delay %" GST_TIME_FORMAT ", %u decoders)", id,
            GST_TIME_ARGS (latency), GST_TIME_ARGS (self->run.max_delay),
            copilot_asr_pool_get_max_decoders ()));
}

/* Called from a pool worker thread. */
static void
error_cb (const GError * error, gpointer user_data)
{
  GstAsrSink *self = user_data;

  if (g_error_matches (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_DECODE))
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        (_("Speech recognition failed.")), ("%s", error->message));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        (_("Could not load the speech recognition model.")),
        ("%s", error->message));
}

static gboolean
gst_asr_sink_start (GstBaseSink * sink)
{
  GstAsrSink *self = GST_ASR_SINK (sink);
  g_autoptr (GError) error = NULL;
  CopilotAsrConfig config = { 0, };
  CopilotAsrStream *stream;
  GstClockTime partial_interval, max_backlog;

  GST_OBJECT_LOCK (self);
  config.engine = g_strdup ("pocketsphinx");
  config.hmm = g_strdup (self->settings.hmm);
  config.lm = g_strdup (self->settings.lm);
  config.dict = g_strdup (self->settings.dict);
  config.domain_weight = self->settings.domain_weight;
  config.options = g_strdup (self->settings.decoder_options);
  /* The default domain LM is optional: without it, generic only. */
  if (self->settings.domain_lm && self->settings.domain_lm[0]
      && (!self->settings.domain_lm_is_default
          || g_file_test (self->settings.domain_lm, G_FILE_TEST_EXISTS)))
    config.domain_lm = g_strdup (self->settings.domain_lm);
  run_settings_clear (&self->run);
  self->run.speaker = g_strdup (self->settings.speaker);
  self->run.segment_prefix = g_strdup (self->settings.segment_prefix);
  self->run.print = self->settings.print;
  self->run.max_delay = self->settings.max_delay;
  partial_interval = self->settings.partial_interval;
  max_backlog = self->settings.max_backlog;
  GST_OBJECT_UNLOCK (self);

  if (!copilot_asr_config_check_files (&config, &error)) {
    if (g_error_matches (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_NOT_FOUND))
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          (_("A speech recognition model file was not found.")),
          ("%s", error->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          (_("The speech recognition settings are invalid.")),
          ("%s", error->message));
    g_free (config.engine);
    g_free (config.hmm);
    g_free (config.lm);
    g_free (config.dict);
    g_free (config.domain_lm);
    g_free (config.options);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "models %s, %s, %s, domain %s (weight %.2f)",
      config.hmm, config.lm, config.dict,
      config.domain_lm ? config.domain_lm : "(none)", config.domain_weight);

  memset (&self->state, 0, sizeof (self->state));
  self->state.position = 0;
  /* Loading a decoder takes seconds: start now rather than when the first
   * utterance needs one. */
  copilot_asr_pool_prewarm (&config);
  stream = copilot_asr_stream_new (&config,
      partial_interval > 0 ? partial_interval : GST_CLOCK_TIME_NONE,
      max_backlog, result_cb, error_cb, self);
  g_free (config.engine);
  g_free (config.hmm);
  g_free (config.lm);
  g_free (config.dict);
  g_free (config.domain_lm);
  g_free (config.options);

  GST_OBJECT_LOCK (self);
  self->stream = stream;
  self->max_observed_delay = GST_CLOCK_TIME_NONE;
  self->last_warning = 0;
  memset (&self->last_stats, 0, sizeof (self->last_stats));
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_asr_sink_stop (GstBaseSink * sink)
{
  GstAsrSink *self = GST_ASR_SINK (sink);
  CopilotAsrStream *stream;
  CopilotAsrStreamStats stats;

  GST_OBJECT_LOCK (self);
  stream = g_steal_pointer (&self->stream);
  GST_OBJECT_UNLOCK (self);
  if (stream) {
    copilot_asr_stream_stop (stream);
    copilot_asr_stream_get_stats (stream, &stats);
    copilot_asr_stream_unref (stream);
    GST_OBJECT_LOCK (self);
    self->last_stats = stats;
    GST_OBJECT_UNLOCK (self);
  }
  g_clear_pointer (&self->state.resampler, gst_audio_resampler_free);
  return TRUE;
}

/* Any thread: a reference to the running stream, or NULL. */
static CopilotAsrStream *
dup_stream (GstAsrSink * self)
{
  CopilotAsrStream *stream = NULL;

  GST_OBJECT_LOCK (self);
  if (self->stream)
    stream = copilot_asr_stream_ref (self->stream);
  GST_OBJECT_UNLOCK (self);
  return stream;
}

static gboolean
gst_asr_sink_unlock (GstBaseSink * sink)
{
  g_autoptr (CopilotAsrStream) stream = dup_stream (GST_ASR_SINK (sink));

  if (stream)
    copilot_asr_stream_set_flushing (stream, TRUE);
  return TRUE;
}

static gboolean
gst_asr_sink_unlock_stop (GstBaseSink * sink)
{
  g_autoptr (CopilotAsrStream) stream = dup_stream (GST_ASR_SINK (sink));

  if (stream)
    copilot_asr_stream_set_flushing (stream, FALSE);
  return TRUE;
}

static gboolean
gst_asr_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstAsrSink *self = GST_ASR_SINK (sink);
  GstAudioInfo info;

  if (!gst_audio_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The audio format is not supported.")),
        ("invalid caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  g_clear_pointer (&self->state.resampler, gst_audio_resampler_free);
  if (GST_AUDIO_INFO_RATE (&info) != COPILOT_ASR_ENGINE_RATE) {
    GstStructure *options = gst_structure_new_empty ("options");

    gst_audio_resampler_options_set_quality
        (GST_AUDIO_RESAMPLER_METHOD_KAISER,
        GST_AUDIO_RESAMPLER_QUALITY_DEFAULT, GST_AUDIO_INFO_RATE (&info),
        COPILOT_ASR_ENGINE_RATE, options);
    self->state.resampler =
        gst_audio_resampler_new (GST_AUDIO_RESAMPLER_METHOD_KAISER,
        GST_AUDIO_RESAMPLER_FLAG_NONE, GST_AUDIO_FORMAT_S16, 1,
        GST_AUDIO_INFO_RATE (&info), COPILOT_ASR_ENGINE_RATE, options);
    gst_structure_free (options);
    if (self->state.resampler == NULL) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          (_("The audio format is not supported.")),
          ("cannot resample from %d Hz", GST_AUDIO_INFO_RATE (&info)));
      return FALSE;
    }
  }
  self->state.info = info;
  if (self->stream)
    copilot_asr_stream_set_narrowband (self->stream,
        GST_AUDIO_INFO_RATE (&info) < COPILOT_ASR_ENGINE_RATE);
  return TRUE;
}

/* Streaming thread.  Upstream that is not live is held back instead of
 * losing audio; a failed query counts as live, the safe side. */
static gboolean
upstream_is_live (GstAsrSink * self)
{
  if (!self->state.live_known) {
    g_autoptr (GstQuery) query = gst_query_new_latency ();
    gboolean live = TRUE;

    if (gst_pad_peer_query (GST_BASE_SINK_PAD (self), query))
      gst_query_parse_latency (query, &live, NULL, NULL);
    self->state.live = live;
    self->state.live_known = TRUE;
    g_atomic_int_set (&self->live_upstream, live);
    GST_DEBUG_OBJECT (self, "upstream is %slive", live ? "" : "not ");
  }
  return self->state.live;
}

static void
report_backlog (GstAsrSink * self, CopilotAsrStream * stream, gsize dropped)
{
  CopilotAsrStreamStats stats;
  GstClockTime max_delay;
  gboolean warn;

  copilot_asr_stream_get_stats (stream, &stats);
  GST_OBJECT_LOCK (self);
  max_delay = self->settings.max_delay;
  warn = (dropped > 0 || stats.backlog > max_delay) && warning_due (self);
  GST_OBJECT_UNLOCK (self);
  if (!warn)
    return;
  if (dropped > 0)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("Speech recognition cannot keep up: audio is being dropped.")),
        ("%.1f s of audio dropped so far, %" GST_TIME_FORMAT " waiting, "
            "%u decoders", stats.dropped_seconds,
            GST_TIME_ARGS (stats.backlog),
            copilot_asr_pool_get_max_decoders ()));
  else
    GST_ELEMENT_WARNING (self, CORE, CLOCK,
        (_("Speech recognition is falling behind real time.")),
        ("%" GST_TIME_FORMAT " of audio waiting for a decoder (max-delay %"
            GST_TIME_FORMAT ", %u decoders)", GST_TIME_ARGS (stats.backlog),
            GST_TIME_ARGS (max_delay), copilot_asr_pool_get_max_decoders ()));
}

static GstFlowReturn
gst_asr_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstAsrSink *self = GST_ASR_SINK (sink);
  CopilotAsrStream *stream = self->stream;
  GstClockTime ts = GST_BUFFER_PTS (buffer), rt, duration, max_utterance;
  g_autofree gint16 *resampled = NULL;
  const gint16 *samples;
  gsize n_samples, dropped = 0;
  GstMapInfo map;
  GstFlowReturn ret;
  gint rate = GST_AUDIO_INFO_RATE (&self->state.info);
  gboolean live;

  if (rate == 0) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("received a buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL), ("cannot map the buffer"));
    return GST_FLOW_ERROR;
  }
  n_samples = map.size / 2;
  duration = gst_util_uint64_scale_int (n_samples, GST_SECOND, rate);
  rt = GST_CLOCK_TIME_IS_VALID (ts) ?
      gst_segment_to_running_time (&sink->segment, GST_FORMAT_TIME, ts) :
      GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    rt = self->state.position;

  if (!copilot_asr_stream_in_utterance (stream)) {
    GST_DEBUG_OBJECT (self, "audio outside an utterance: implicit start at %"
        GST_TIME_FORMAT, GST_TIME_ARGS (rt));
    copilot_asr_stream_begin (stream, rt);
    self->state.implicit = TRUE;
  }

  if (self->state.resampler) {
    gpointer in[1] = { map.data };
    gpointer out[1];
    gsize out_frames =
        gst_audio_resampler_get_out_frames (self->state.resampler, n_samples);

    resampled = g_new (gint16, MAX (out_frames, 1));
    out[0] = resampled;
    gst_audio_resampler_resample (self->state.resampler, in, n_samples, out,
        out_frames);
    samples = resampled;
    n_samples = out_frames;
  } else {
    samples = (const gint16 *) map.data;
  }

  live = upstream_is_live (self);
  ret = copilot_asr_stream_push (stream, samples, n_samples, !live, &dropped);
  gst_buffer_unmap (buffer, &map);
  self->state.position = rt + duration;
  if (ret == GST_FLOW_ERROR)
    return ret;                 /* error_cb() has posted the error */
  if (ret != GST_FLOW_OK)
    return ret;
  if (live || dropped > 0)
    report_backlog (self, stream, dropped);

  GST_OBJECT_LOCK (self);
  max_utterance = self->settings.max_utterance;
  GST_OBJECT_UNLOCK (self);
  if (self->state.implicit && max_utterance > 0
      && copilot_asr_stream_utterance_duration (stream) >= max_utterance) {
    GST_DEBUG_OBJECT (self, "implicit utterance cut at %" GST_TIME_FORMAT,
        GST_TIME_ARGS (self->state.position));
    copilot_asr_stream_end (stream, self->state.position);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_asr_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstAsrSink *self = GST_ASR_SINK (sink);
  CopilotAsrStream *stream = self->stream;
  guint64 index;
  GstClockTime rt;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      if (copilot_utterance_start_event_parse (event, &index, &rt)) {
        GST_DEBUG_OBJECT (self, "utterance %" G_GUINT64_FORMAT " starts at %"
            GST_TIME_FORMAT, index, GST_TIME_ARGS (rt));
        copilot_asr_stream_begin (stream, rt);
        self->state.implicit = FALSE;
      } else if (copilot_utterance_end_event_parse (event, &index, &rt, NULL,
              NULL)) {
        GST_DEBUG_OBJECT (self, "utterance %" G_GUINT64_FORMAT " ends at %"
            GST_TIME_FORMAT, index, GST_TIME_ARGS (rt));
        copilot_asr_stream_end (stream, rt);
        self->state.implicit = FALSE;
      }
      break;
    case GST_EVENT_GAP:
      if (self->state.implicit) {
        GstClockTime ts;

        gst_event_parse_gap (event, &ts, NULL);
        rt = gst_segment_to_running_time (&sink->segment, GST_FORMAT_TIME, ts);
        copilot_asr_stream_end (stream,
            GST_CLOCK_TIME_IS_VALID (rt) ? rt : self->state.position);
        self->state.implicit = FALSE;
      }
      break;
    case GST_EVENT_EOS:
      copilot_asr_stream_end (stream, self->state.position);
      self->state.implicit = FALSE;
      /* The EOS message must follow the last final.  unlock() (flush,
       * state change) interrupts the wait. */
      if (!copilot_asr_stream_drain (stream))
        GST_DEBUG_OBJECT (self, "EOS drain interrupted");
      break;
    case GST_EVENT_FLUSH_STOP:
      copilot_asr_stream_cancel (stream);
      self->state.implicit = FALSE;
      self->state.position = 0;
      if (self->state.resampler)
        gst_audio_resampler_reset (self->state.resampler);
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (gst_asr_sink_parent_class)->event (sink, event);
}

static GstStructure *
stats_to_structure (const CopilotAsrStreamStats * s)
{
  return gst_structure_new ("asrsink-stats",
      "utterances", G_TYPE_UINT64, s->utterances,
      "finals", G_TYPE_UINT64, s->finals,
      "partials", G_TYPE_UINT64, s->partials,
      "audio-seconds", G_TYPE_DOUBLE, s->audio_seconds,
      "decode-cpu-seconds", G_TYPE_DOUBLE, s->cpu_seconds,
      "decode-wall-seconds", G_TYPE_DOUBLE, s->wall_seconds,
      "real-time-factor", G_TYPE_DOUBLE,
      s->audio_seconds > 0 ? s->cpu_seconds / s->audio_seconds : 0.0,
      "dropped-seconds", G_TYPE_DOUBLE, s->dropped_seconds,
      "backlog", G_TYPE_UINT64, (guint64) s->backlog,
      "max-observed-delay", G_TYPE_UINT64, (guint64) s->max_delay,
      "decoders", G_TYPE_UINT, copilot_asr_pool_get_n_decoders (),
      "max-decoders", G_TYPE_UINT, copilot_asr_pool_get_max_decoders (), NULL);
}

static void
set_string (GstAsrSink * self, char **field, const GValue * value)
{
  GST_OBJECT_LOCK (self);
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_asr_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAsrSink *self = GST_ASR_SINK (object);

  switch (prop_id) {
    case PROP_HMM:
      set_string (self, &self->settings.hmm, value);
      break;
    case PROP_LM:
      set_string (self, &self->settings.lm, value);
      break;
    case PROP_DICT:
      set_string (self, &self->settings.dict, value);
      break;
    case PROP_DOMAIN_LM:
      set_string (self, &self->settings.domain_lm, value);
      GST_OBJECT_LOCK (self);
      self->settings.domain_lm_is_default = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DOMAIN_WEIGHT:
      GST_OBJECT_LOCK (self);
      self->settings.domain_weight = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DECODER_OPTIONS:
      set_string (self, &self->settings.decoder_options, value);
      break;
    case PROP_SPEAKER:
      set_string (self, &self->settings.speaker, value);
      break;
    case PROP_SEGMENT_PREFIX:
      set_string (self, &self->settings.segment_prefix, value);
      break;
    case PROP_PRINT:
      GST_OBJECT_LOCK (self);
      self->settings.print = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PARTIAL_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->settings.partial_interval = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_DECODERS:
      copilot_asr_pool_set_max_decoders (g_value_get_uint (value));
      break;
    case PROP_MAX_DELAY:
      GST_OBJECT_LOCK (self);
      self->settings.max_delay = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_BACKLOG:
      GST_OBJECT_LOCK (self);
      self->settings.max_backlog = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_UTTERANCE:
      GST_OBJECT_LOCK (self);
      self->settings.max_utterance = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_asr_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstAsrSink *self = GST_ASR_SINK (object);

  switch (prop_id) {
    case PROP_HMM:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.hmm);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LM:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.lm);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DICT:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.dict);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DOMAIN_LM:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.domain_lm);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DOMAIN_WEIGHT:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->settings.domain_weight);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DECODER_OPTIONS:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.decoder_options);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SPEAKER:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.speaker);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SEGMENT_PREFIX:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.segment_prefix);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PRINT:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->settings.print);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PARTIAL_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->settings.partial_interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_DECODERS:
      g_value_set_uint (value, copilot_asr_pool_get_max_decoders ());
      break;
    case PROP_MAX_DELAY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->settings.max_delay);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_BACKLOG:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->settings.max_backlog);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_UTTERANCE:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->settings.max_utterance);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_OBSERVED_DELAY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_observed_delay);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:{
      g_autoptr (CopilotAsrStream) stream = dup_stream (self);
      CopilotAsrStreamStats stats;

      if (stream) {
        copilot_asr_stream_get_stats (stream, &stats);
      } else {
        GST_OBJECT_LOCK (self);
        stats = self->last_stats;
        GST_OBJECT_UNLOCK (self);
      }
      g_value_take_boxed (value, stats_to_structure (&stats));
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_asr_sink_finalize (GObject * object)
{
  GstAsrSink *self = GST_ASR_SINK (object);

  settings_clear (&self->settings);
  run_settings_clear (&self->run);
  g_clear_pointer (&self->state.resampler, gst_audio_resampler_free);
  G_OBJECT_CLASS (gst_asr_sink_parent_class)->finalize (object);
}

static void
gst_asr_sink_class_init (GstAsrSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (asr_sink_debug, "asrsink", 0,
      "speech recognition sink");

  gobject_class->set_property = gst_asr_sink_set_property;
  gobject_class->get_property = gst_asr_sink_get_property;
  gobject_class->finalize = gst_asr_sink_finalize;

  properties[PROP_HMM] = g_param_spec_string ("hmm", "Acoustic model",
      "Directory of the pocketsphinx acoustic model (16 kHz)", DEFAULT_HMM,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_LM] = g_param_spec_string ("lm", "Language model",
      "Path of the generic language model (ARPA, DMP or binary)", DEFAULT_LM,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_DICT] = g_param_spec_string ("dict", "Dictionary",
      "Path of the pronunciation dictionary", DEFAULT_DICT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_DOMAIN_LM] = g_param_spec_string ("domain-lm",
      "Domain language model",
      "Path of a domain language model interpolated with the generic one; "
      "empty for the generic model only (default: $COPILOT_DATA_DIR/"
      DEFAULT_DOMAIN_LM_NAME " or " COPILOT_PKGDATADIR "/"
      DEFAULT_DOMAIN_LM_NAME ", used only if it exists)", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_DOMAIN_WEIGHT] = g_param_spec_double ("domain-weight",
      "Domain weight",
      "Interpolation weight of the domain language model (0: generic only, "
      "1: domain only)", 0.0, 1.0, DEFAULT_DOMAIN_WEIGHT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  /**
   * GstAsrSink:decoder-options:
   *
   * Extra arguments for the decoder, as "-name value" pairs in shell
   * quoting, e.g. "-maxhmmpf 3000 -beam 1e-40" for pocketsphinx: the
   * speed/accuracy trade-off.  Model files, search and logging are set by
   * the element and cannot be given here.  Invalid options fail start().
   */
  properties[PROP_DECODER_OPTIONS] = g_param_spec_string ("decoder-options",
      "Decoder options",
      "Extra decoder arguments as \"-name value\" pairs (pocketsphinx: "
      "beams, -maxhmmpf, ...)", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_SPEAKER] = g_param_spec_string ("speaker", "Speaker",
      "Speaker label of the segments (agent, customer, ...)", DEFAULT_SPEAKER,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_SEGMENT_PREFIX] = g_param_spec_string ("segment-prefix",
      "Segment prefix",
      "Prefix of the segment ids (<prefix><speaker>-<n>), e.g. a call id",
      DEFAULT_SEGMENT_PREFIX,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_PRINT] = g_param_spec_boolean ("print", "Print",
      "Print finals (and partials) to standard output", DEFAULT_PRINT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_PARTIAL_INTERVAL] = g_param_spec_uint64 ("partial-interval",
      "Partial interval",
      "Minimum wall-clock time in nanoseconds between two partial results "
      "of an utterance (0: no partials)", 0, G_MAXUINT64,
      DEFAULT_PARTIAL_INTERVAL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_MAX_DECODERS] = g_param_spec_uint ("max-decoders",
      "Maximum decoders",
      "Decoders shared by all asrsinks of the process, each ~100 MB "
      "(default: $COPILOT_ASR_DECODERS or the number of CPUs)", 1, 1024,
      copilot_asr_pool_get_max_decoders (),
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_DELAY] = g_param_spec_uint64 ("max-delay",
      "Maximum delay",
      "Warn when a final comes later than this many nanoseconds after its "
      "utterance ended, or when this much audio waits to be decoded", 0,
      G_MAXUINT64, DEFAULT_MAX_DELAY,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_BACKLOG] = g_param_spec_uint64 ("max-backlog",
      "Maximum backlog",
      "Audio in nanoseconds that may wait to be decoded; more is dropped "
      "(live upstream) or held back (otherwise)", GST_SECOND, G_MAXUINT64,
      DEFAULT_MAX_BACKLOG,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_MAX_UTTERANCE] = g_param_spec_uint64 ("max-utterance",
      "Maximum utterance",
      "Length in nanoseconds at which audio without utterance events is cut "
      "into a new utterance (0: never)", 0, G_MAXUINT64,
      DEFAULT_MAX_UTTERANCE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_OBSERVED_DELAY] = g_param_spec_uint64
      ("max-observed-delay", "Maximum observed delay",
      "Worst wall-clock delay in nanoseconds between an utterance end "
      "reaching the sink and its final (GST_CLOCK_TIME_NONE: no final yet)",
      0, G_MAXUINT64, GST_CLOCK_TIME_NONE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Decoding statistics: utterances, finals, partials, audio-seconds, "
      "decode-cpu-seconds, decode-wall-seconds, real-time-factor "
      "(CPU seconds per audio second), dropped-seconds, backlog (ns), "
      "max-observed-delay (ns), decoders, max-decoders",
      GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  /**
   * GstAsrSink::partial:
   * @sink: the asrsink
   * @segment: the hypothesis so far (not final)
   *
   * Emitted while an utterance is decoded, when its hypothesis changed, at
   * most every #GstAsrSink:partial-interval.  Emitted from a decoding
   * worker thread: do not change the pipeline state from the handler.
   */
  signals[SIGNAL_PARTIAL] = g_signal_new ("partial", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      COPILOT_TYPE_SEGMENT);
  /**
   * GstAsrSink::final:
   * @sink: the asrsink
   * @segment: the utterance's final result
   *
   * Emitted once per utterance with a non-empty result, in utterance
   * order.  Emitted from a decoding worker thread: do not change the
   * pipeline state from the handler.
   */
  signals[SIGNAL_FINAL] = g_signal_new ("final", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      COPILOT_TYPE_SEGMENT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Speech recognition sink", "Sink/Audio/Analyzer",
      "Transcribes utterances with a shared pool of speech decoders and "
      "reports partial and final transcripts", "Copilot developers");

  sink_class->start = GST_DEBUG_FUNCPTR (gst_asr_sink_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_asr_sink_stop);
  sink_class->unlock = GST_DEBUG_FUNCPTR (gst_asr_sink_unlock);
  sink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_asr_sink_unlock_stop);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_asr_sink_set_caps);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_asr_sink_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_asr_sink_event);
}

static void
gst_asr_sink_init (GstAsrSink * self)
{
  self->settings.hmm = g_strdup (DEFAULT_HMM);
  self->settings.lm = g_strdup (DEFAULT_LM);
  self->settings.dict = g_strdup (DEFAULT_DICT);
  self->settings.domain_lm = default_domain_lm ();
  self->settings.domain_lm_is_default = TRUE;
  self->settings.domain_weight = DEFAULT_DOMAIN_WEIGHT;
  self->settings.speaker = g_strdup (DEFAULT_SPEAKER);
  self->settings.segment_prefix = g_strdup (DEFAULT_SEGMENT_PREFIX);
  self->settings.print = DEFAULT_PRINT;
  self->settings.partial_interval = DEFAULT_PARTIAL_INTERVAL;
  self->settings.max_delay = DEFAULT_MAX_DELAY;
  self->settings.max_backlog = DEFAULT_MAX_BACKLOG;
  self->settings.max_utterance = DEFAULT_MAX_UTTERANCE;
  self->max_observed_delay = GST_CLOCK_TIME_NONE;
  /* An analyser: decode as fast as audio comes, not at clock pace. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}
