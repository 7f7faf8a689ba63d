/**
 * SECTION:element-vadsplit
 * @title: vadsplit
 *
 * vadsplit cuts a mono telephone or wideband speech stream into utterances.
 * Voice activity comes from the WebRTC GMM voice activity detector; on top
 * of it vadsplit smooths onsets (a few voiced frames are needed to open an
 * utterance), keeps some audio before the onset (#GstVadSplit:pre-roll),
 * closes an utterance after #GstVadSplit:hangover of silence, discards
 * bursts shorter than #GstVadSplit:min-speech, cuts utterances longer than
 * #GstVadSplit:max-utterance at their quietest recent point, and rejects
 * steady tones (ringback, hold beeps, dual tones) that the VAD alone takes
 * for speech (#GstVadSplit:reject-tones).
 *
 * Only the audio of utterances leaves the element, with its original
 * timestamps.  Each utterance is bracketed by the serialized custom
 * downstream events of gstcopilotutterance.h ("copilot-utterance-start"
 * and "copilot-utterance-end").  Silence is dropped, or replaced by GAP
 * events when #GstVadSplit:silence is "gap".
 *
 * At each boundary the element posts an element message named "vadsplit"
 * with the fields "event" ("utterance-start" or "utterance-end"), "index"
 * (guint64), "running-time" (guint64, ns), "talk-time" and "silence-time"
 * (guint64, running totals in ns of the audio inside and outside
 * utterances); end messages also carry "duration" (guint64, ns) and
 * "reason" ("silence", "max-length", "eos" or "flush").
 *
 * Holding audio back while a decision is pending delays the output by up
 * to the largest of the hangover, the pre-roll plus the minimum speech
 * duration and, near the maximum utterance length, the window searched for
 * a quiet cut (3 s); the element reports that latency.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=call.wav ! wavparse ! audioconvert ! \
 *     audioresample ! audio/x-raw,rate=16000,channels=1 ! vadsplit ! fakesink
 * ]| Splits call.wav into utterances; `-m` prints the "vadsplit" element
 * messages posted at every utterance start and end.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <gst/audio/audio.h>
#include <gst/base/gstadapter.h>
#include <glib/gi18n-lib.h>

#include "gstvadsplit.h"
#include "gstcopilotutterance.h"
#include "copilot-vad-tone.h"
#include "webrtc-vad.h"

GST_DEBUG_CATEGORY_STATIC (vad_split_debug);
#define GST_CAT_DEFAULT vad_split_debug

#define DEFAULT_MODE 3
#define DEFAULT_FRAME_DURATION GST_VAD_SPLIT_FRAME_30MS
#define DEFAULT_HANGOVER (400 * GST_MSECOND)
#define DEFAULT_PRE_ROLL (300 * GST_MSECOND)
#define DEFAULT_MIN_SPEECH (250 * GST_MSECOND)
#define DEFAULT_MAX_UTTERANCE (15 * GST_SECOND)
/* Bounded so that time arithmetic on it cannot wrap around. */
#define MAX_MAX_UTTERANCE (3600 * GST_SECOND)
#define DEFAULT_REJECT_TONES TRUE
#define DEFAULT_SILENCE GST_VAD_SPLIT_SILENCE_DROP

/* An utterance opens when at least two thirds of the frames of the last
 * ONSET_WINDOW are voiced, so that a single noisy frame does not open one. */
#define ONSET_WINDOW (120 * GST_MSECOND)
/* A run of steady tonal analysis windows this long is a tone; shorter runs
 * are given back to the VAD decision. */
#define TONE_MIN_DURATION (200 * GST_MSECOND)
/* After a tone stops, the VAD's own hangover keeps flagging a few frames as
 * speech; frames this close to a tone are counted as part of it. */
#define TONE_TAIL (90 * GST_MSECOND)
/* A forced cut is placed at the quietest point of at most this much audio
 * before max-utterance is reached. */
#define MAX_CUT_WINDOW (3 * GST_SECOND)
/* Quietness around a cut candidate is averaged over +- this much audio. */
#define CUT_ENERGY_SPAN (50 * GST_MSECOND)

G_DEFINE_ENUM_TYPE (GstVadSplitSilence, gst_vad_split_silence,
    G_DEFINE_ENUM_VALUE (GST_VAD_SPLIT_SILENCE_DROP, "drop"),
    G_DEFINE_ENUM_VALUE (GST_VAD_SPLIT_SILENCE_GAP, "gap"));

G_DEFINE_ENUM_TYPE (GstVadSplitFrameDuration, gst_vad_split_frame_duration,
    G_DEFINE_ENUM_VALUE (GST_VAD_SPLIT_FRAME_10MS, "10"),
    G_DEFINE_ENUM_VALUE (GST_VAD_SPLIT_FRAME_20MS, "20"),
    G_DEFINE_ENUM_VALUE (GST_VAD_SPLIT_FRAME_30MS, "30"));

enum
{
  PROP_0,
  PROP_MODE,
  PROP_FRAME_DURATION,
  PROP_HANGOVER,
  PROP_PRE_ROLL,
  PROP_MIN_SPEECH,
  PROP_MAX_UTTERANCE,
  PROP_REJECT_TONES,
  PROP_SILENCE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  gint mode;
  GstVadSplitFrameDuration frame_duration;
  GstClockTime hangover;
  GstClockTime pre_roll;
  GstClockTime min_speech;
  GstClockTime max_utterance;
  gboolean reject_tones;
  GstVadSplitSilence silence;
} Settings;

typedef enum
{
  TONE_NONE,
  TONE_PENDING,                 /* part of a tonal run not yet long enough */
  TONE_YES,
} ToneStatus;

/* One VAD frame of audio on its way through the element. */
typedef struct
{
  GstBuffer *buffer;            /* owned; PTS and duration set */
  GstClockTime pts;
  GstClockTime duration;
  gdouble energy;               /* mean square, relative to full scale */
  gboolean vad;                 /* what the WebRTC VAD said */
  ToneStatus tone;
} Frame;

typedef enum
{
  UTT_IDLE,                     /* frames are pre-roll history */
  UTT_CANDIDATE,                /* onset seen, min-speech not reached yet */
  UTT_SPEECH,                   /* start event pushed */
} UttState;

typedef struct
{
  gboolean have_info;
  GstAudioInfo info;
  GstSegment segment;
  VadInst *vad;
  gint vad_mode;
  guint frame_ms;
  guint frame_samples;
  GstClockTime frame_duration;
  gboolean reject_tones;
  CopilotVadTone *tone;
  gint16 *scratch;              /* frame_samples native-endian samples */
  GstAdapter *adapter;
  GstClockTime next_pts;

  /* Frames whose tone status is still TONE_PENDING, oldest first; they
   * reach the utterance logic once their run is resolved. */
  GQueue analysis;
  guint tone_run;
  gboolean tone_confirmed;
  GstClockTime tone_tail_left;

  /* Frames decided but not yet pushed or released, oldest first: pre-roll
   * history when idle, the unpushed part of the utterance otherwise. */
  GQueue frames;
  guint32 onset_bits;           /* voiced flags of the last frames, newest in bit 0 */
  UttState utt;
  guint64 index;
  GstClockTime utt_start;       /* PTS of the utterance's first frame */
  GstClockTime utt_start_rt;
  GstClockTime last_voiced_end; /* end PTS of the last voiced frame */
  GstClockTime voiced_total;
  GstClockTime pushed_end;      /* end PTS of the last buffer pushed */
  gboolean need_discont;

  GstClockTime talk_time;
  GstClockTime silence_time;

  /* Silence released but not yet announced by a GAP event. */
  GstClockTime gap_start;
  GstClockTime gap_end;
} State;

struct _GstVadSplit
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  Settings settings;            /* protected by GST_OBJECT_LOCK */
  State state;                  /* streaming thread only; reset in state changes */
};

G_DEFINE_TYPE (GstVadSplit, gst_vad_split, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (vadsplit, "vadsplit", GST_RANK_NONE,
    GST_TYPE_VAD_SPLIT);

#define VAD_CAPS \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "channels = (int) 1, rate = (int) { 8000, 16000, 32000, 48000 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (VAD_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (VAD_CAPS));

static void
frame_free (Frame * frame)
{
  gst_clear_buffer (&frame->buffer);
  g_free (frame);
}

static inline GstClockTime
frame_end (const Frame * frame)
{
  return frame->pts + frame->duration;
}

static inline gboolean
frame_voiced (const Frame * frame)
{
  return frame->vad && frame->tone == TONE_NONE;
}

static void
settings_copy (GstVadSplit * self, Settings * settings)
{
  GST_OBJECT_LOCK (self);
  *settings = self->settings;
  GST_OBJECT_UNLOCK (self);
  if (settings->max_utterance > 0)
    settings->max_utterance = MAX (settings->max_utterance, GST_SECOND);
}

static GstClockTime
to_running_time (GstVadSplit * self, GstClockTime pts)
{
  guint64 rt;
  gint sign;

  if (self->state.segment.format != GST_FORMAT_TIME)
    return pts;
  sign = gst_segment_to_running_time_full (&self->state.segment,
      GST_FORMAT_TIME, pts, &rt);
  if (sign > 0)
    return rt;
  if (sign < 0)
    return 0;
  return pts;
}

/* Resets everything about the current stream position, keeping the
 * configuration derived from the caps.  Called from the streaming thread
 * or with the streaming thread stopped. */
static void
reset_stream (GstVadSplit * self)
{
  State *st = &self->state;

  if (st->adapter)
    gst_adapter_clear (st->adapter);
  g_queue_clear_full (&st->analysis, (GDestroyNotify) frame_free);
  g_queue_clear_full (&st->frames, (GDestroyNotify) frame_free);
  if (st->vad) {
    WebRtcVad_Init (st->vad);
    st->vad_mode = -1;
  }
  if (st->tone)
    copilot_vad_tone_reset (st->tone);
  st->next_pts = GST_CLOCK_TIME_NONE;
  st->tone_run = 0;
  st->tone_confirmed = FALSE;
  st->tone_tail_left = 0;
  st->onset_bits = 0;
  st->utt = UTT_IDLE;
  st->utt_start = GST_CLOCK_TIME_NONE;
  st->utt_start_rt = GST_CLOCK_TIME_NONE;
  st->last_voiced_end = GST_CLOCK_TIME_NONE;
  st->voiced_total = 0;
  st->pushed_end = GST_CLOCK_TIME_NONE;
  st->need_discont = TRUE;
  st->gap_start = st->gap_end = GST_CLOCK_TIME_NONE;
}

/* Called from the streaming thread, or with it stopped. */
static void
free_config (GstVadSplit * self)
{
  State *st = &self->state;

  g_clear_pointer (&st->vad, WebRtcVad_Free);
  g_clear_pointer (&st->tone, copilot_vad_tone_free);
  g_clear_pointer (&st->scratch, g_free);
  st->have_info = FALSE;
}

/* Posts a "vadsplit" element message.  Called from the streaming thread. */
static void
post_boundary (GstVadSplit * self, gboolean start, GstClockTime running_time,
    GstClockTime duration, CopilotUtteranceEndReason reason)
{
  State *st = &self->state;
  GstStructure *s = gst_structure_new ("vadsplit",
      "event", G_TYPE_STRING, start ? "utterance-start" : "utterance-end",
      "index", G_TYPE_UINT64, st->index,
      "running-time", G_TYPE_UINT64, (guint64) running_time,
      "talk-time", G_TYPE_UINT64, (guint64) st->talk_time,
      "silence-time", G_TYPE_UINT64, (guint64) st->silence_time, NULL);

  if (!start) {
    gst_structure_set (s, "duration", G_TYPE_UINT64, (guint64) duration,
        "reason", G_TYPE_STRING,
        copilot_utterance_end_reason_to_string (reason), NULL);
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Pushes the GAP event announcing the silence released so far, if any. */
static void
flush_gap (GstVadSplit * self)
{
  State *st = &self->state;
  GstClockTime start = st->gap_start, end = st->gap_end;

  if (!GST_CLOCK_TIME_IS_VALID (start))
    return;
  st->gap_start = st->gap_end = GST_CLOCK_TIME_NONE;
  GST_LOG_OBJECT (self, "gap %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT,
      GST_TIME_ARGS (start), GST_TIME_ARGS (end - start));
  gst_pad_push_event (self->srcpad, gst_event_new_gap (start, end - start));
}

/* Takes ownership of @frame, which lies outside any utterance. */
static void
release_silence (GstVadSplit * self, const Settings * settings, Frame * frame)
{
  State *st = &self->state;

  st->silence_time += frame->duration;
  if (settings->silence == GST_VAD_SPLIT_SILENCE_GAP) {
    if (GST_CLOCK_TIME_IS_VALID (st->gap_start) && st->gap_end != frame->pts)
      flush_gap (self);
    if (!GST_CLOCK_TIME_IS_VALID (st->gap_start))
      st->gap_start = frame->pts;
    st->gap_end = frame_end (frame);
  }
  st->need_discont = TRUE;
  frame_free (frame);
}

/* Takes ownership of @frame, which belongs to the open utterance. */
static GstFlowReturn
push_frame (GstVadSplit * self, Frame * frame)
{
  State *st = &self->state;
  GstBuffer *buffer = g_steal_pointer (&frame->buffer);

  if (st->need_discont || st->pushed_end != frame->pts)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
  st->need_discont = FALSE;
  st->pushed_end = frame_end (frame);
  frame_free (frame);
  return gst_pad_push (self->srcpad, buffer);
}

/* Pushes the queued utterance frames that end at or before @limit. */
static GstFlowReturn
push_frames_until (GstVadSplit * self, GstClockTime limit)
{
  State *st = &self->state;
  GstFlowReturn ret = GST_FLOW_OK;
  Frame *head;

  while (ret == GST_FLOW_OK && (head = g_queue_peek_head (&st->frames))
      && frame_end (head) <= limit)
    ret = push_frame (self, g_queue_pop_head (&st->frames));
  return ret;
}

static void
start_utterance (GstVadSplit * self)
{
  State *st = &self->state;

  flush_gap (self);
  st->utt = UTT_SPEECH;
  st->utt_start_rt = to_running_time (self, st->utt_start);
  st->need_discont = TRUE;
  GST_DEBUG_OBJECT (self, "utterance %" G_GUINT64_FORMAT " starts at %"
      GST_TIME_FORMAT, st->index, GST_TIME_ARGS (st->utt_start));
  gst_pad_push_event (self->srcpad,
      copilot_utterance_start_event_new (st->index, st->utt_start_rt));
  post_boundary (self, TRUE, st->utt_start_rt, 0, 0);
}

/* Ends the open utterance at @end (a PTS); the frames before @end must
 * have been pushed already. */
static void
end_utterance (GstVadSplit * self, GstClockTime end,
    CopilotUtteranceEndReason reason)
{
  State *st = &self->state;
  GstClockTime end_rt = to_running_time (self, end);
  GstClockTime duration = end_rt > st->utt_start_rt ?
      end_rt - st->utt_start_rt : 0;

  st->talk_time += duration;
  GST_DEBUG_OBJECT (self, "utterance %" G_GUINT64_FORMAT " ends at %"
      GST_TIME_FORMAT " after %" GST_TIME_FORMAT " (%s)", st->index,
      GST_TIME_ARGS (end), GST_TIME_ARGS (duration),
      copilot_utterance_end_reason_to_string (reason));
  gst_pad_push_event (self->srcpad,
      copilot_utterance_end_event_new (st->index, end_rt, duration, reason));
  post_boundary (self, FALSE, end_rt, duration, reason);
  st->index++;
  st->utt = UTT_IDLE;
  st->onset_bits = 0;
  st->voiced_total = 0;
}

static guint
onset_window_frames (GstVadSplit * self)
{
  guint n = (ONSET_WINDOW / GST_MSECOND + self->state.frame_ms / 2) /
      self->state.frame_ms;

  return CLAMP (n, 1, 32);
}

/* Releases idle history older than what a future pre-roll may need. */
static void
trim_history (GstVadSplit * self, const Settings * settings)
{
  State *st = &self->state;
  GstClockTime keep = settings->pre_roll +
      onset_window_frames (self) * st->frame_duration;
  Frame *head, *tail;

  while ((head = g_queue_peek_head (&st->frames))
      && (tail = g_queue_peek_tail (&st->frames))
      && frame_end (tail) - head->pts > keep)
    release_silence (self, settings, g_queue_pop_head (&st->frames));
}

/* Recomputes the voiced statistics of the queued utterance frames. */
static void
recount_voiced (GstVadSplit * self)
{
  State *st = &self->state;
  GList *l;

  st->voiced_total = 0;
  for (l = st->frames.head; l; l = l->next) {
    Frame *f = l->data;

    if (frame_voiced (f)) {
      st->voiced_total += f->duration;
      st->last_voiced_end = frame_end (f);
    }
  }
}

static guint
count_bits (guint32 bits)
{
  guint n = 0;

  for (; bits; bits &= bits - 1)
    n++;
  return n;
}

/* Looks for an onset among the idle history and opens a candidate
 * utterance if there is one. */
static void
check_onset (GstVadSplit * self, const Settings * settings)
{
  State *st = &self->state;
  guint m = onset_window_frames (self);
  guint need = (2 * m + 2) / 3;
  guint32 mask = m >= 32 ? G_MAXUINT32 : (1u << m) - 1;
  Frame *onset = NULL, *head;
  GstClockTime start;
  GList *l;
  guint i;

  if (count_bits (st->onset_bits & mask) < need)
    return;

  for (l = st->frames.tail, i = 0; l && i < m; l = l->prev, i++) {
    if (frame_voiced (l->data))
      onset = l->data;
  }
  g_assert (onset != NULL);

  start = onset->pts > settings->pre_roll ? onset->pts - settings->pre_roll : 0;
  while ((head = g_queue_peek_head (&st->frames)) && frame_end (head) <= start)
    release_silence (self, settings, g_queue_pop_head (&st->frames));

  head = g_queue_peek_head (&st->frames);
  st->utt = UTT_CANDIDATE;
  st->utt_start = head->pts;
  recount_voiced (self);
  GST_LOG_OBJECT (self, "onset at %" GST_TIME_FORMAT,
      GST_TIME_ARGS (onset->pts));
}

/* Called when the open utterance reaches max-utterance: ends it at the
 * quietest point of its unpushed recent audio and, when voiced audio
 * follows that point, starts the next utterance there. */
static GstFlowReturn
cut_utterance (GstVadSplit * self, const Settings * settings,
    GstClockTime window)
{
  State *st = &self->state;
  GstClockTime earliest = st->utt_start + settings->max_utterance - window;
  guint n = g_queue_get_length (&st->frames);
  guint span = MAX (1, CUT_ENERGY_SPAN / st->frame_duration);
  g_autofree gdouble *energy = g_new (gdouble, n);
  g_autofree GstClockTime *pts = g_new (GstClockTime, n + 1);
  GstClockTime cut = GST_CLOCK_TIME_NONE;
  gdouble best = G_MAXDOUBLE;
  GstFlowReturn ret;
  GList *l;
  guint i, j;

  for (l = st->frames.head, i = 0; l; l = l->next, i++) {
    Frame *f = l->data;

    energy[i] = f->energy;
    pts[i] = f->pts;
    pts[i + 1] = frame_end (f);
  }

  /* Candidate i cuts before frame i (i == n: after the last frame). */
  for (i = 0; i <= n; i++) {
    guint lo = i > span ? i - span : 0;
    guint hi = MIN (n, i + span);
    gdouble sum = 0.0;

    if (pts[i] < earliest || pts[i] <= st->utt_start)
      continue;
    for (j = lo; j < hi; j++)
      sum += energy[j];
    sum /= MAX (1, hi - lo);
    if (sum < best) {
      best = sum;
      cut = pts[i];
    }
  }
  if (!GST_CLOCK_TIME_IS_VALID (cut))
    cut = pts[n];

  GST_DEBUG_OBJECT (self, "max-utterance reached, cutting at %"
      GST_TIME_FORMAT " (%.1f dBFS)", GST_TIME_ARGS (cut),
      10.0 * log10 (MAX (best, 1e-12)));

  if (cut >= st->last_voiced_end) {
    /* Only silence follows: this is an ordinary end, reached early. */
    ret = push_frames_until (self, st->last_voiced_end);
    end_utterance (self, st->last_voiced_end, COPILOT_UTTERANCE_END_MAX_LENGTH);
    trim_history (self, settings);
    return ret;
  }

  ret = push_frames_until (self, cut);
  end_utterance (self, cut, COPILOT_UTTERANCE_END_MAX_LENGTH);
  st->utt_start = cut;
  recount_voiced (self);
  start_utterance (self);
  return ret;
}

/* Runs the utterance logic on one decided frame, taking ownership of it.
 * Called from the streaming thread. */
static GstFlowReturn
process_frame (GstVadSplit * self, const Settings * settings, Frame * frame)
{
  State *st = &self->state;
  gboolean voiced = frame_voiced (frame);
  GstClockTime end = frame_end (frame);
  GstClockTime window = 0;
  GstFlowReturn ret = GST_FLOW_OK;
  Frame *head;

  g_queue_push_tail (&st->frames, frame);

  if (st->utt == UTT_IDLE) {
    st->onset_bits = (st->onset_bits << 1) | (voiced ? 1 : 0);
    check_onset (self, settings);
    if (st->utt == UTT_IDLE) {
      trim_history (self, settings);
      return GST_FLOW_OK;
    }
  } else if (voiced) {
    st->voiced_total += frame->duration;
    st->last_voiced_end = end;
  }

  if (st->utt == UTT_CANDIDATE && st->voiced_total >= settings->min_speech)
    start_utterance (self);

  if (end - st->last_voiced_end >= settings->hangover
      && end > st->last_voiced_end) {
    if (st->utt == UTT_CANDIDATE) {
      GST_LOG_OBJECT (self, "discarding %" GST_TIME_FORMAT " of speech "
          "shorter than min-speech", GST_TIME_ARGS (st->voiced_total));
      st->utt = UTT_IDLE;
      st->onset_bits = 0;
      st->voiced_total = 0;
    } else {
      ret = push_frames_until (self, st->last_voiced_end);
      end_utterance (self, st->last_voiced_end, COPILOT_UTTERANCE_END_SILENCE);
    }
    trim_history (self, settings);
    return ret;
  }

  if (st->utt != UTT_SPEECH)
    return GST_FLOW_OK;

  if (settings->max_utterance > 0) {
    window = MIN (MAX_CUT_WINDOW, settings->max_utterance / 2);
    if (end - st->utt_start >= settings->max_utterance) {
      ret = cut_utterance (self, settings, window);
      if (ret != GST_FLOW_OK || st->utt != UTT_SPEECH)
        return ret;
    }
  }

  /* Push what can no longer be cut off: audio up to the last voiced frame
   * (later audio may turn out to be trailing silence) and, near the
   * maximum length, not the part where a cut may have to be placed. */
  while (ret == GST_FLOW_OK && (head = g_queue_peek_head (&st->frames))
      && frame_end (head) <= st->last_voiced_end
      && (settings->max_utterance == 0
          || frame_end (head) <= st->utt_start + settings->max_utterance
          - window))
    ret = push_frame (self, g_queue_pop_head (&st->frames));
  return ret;
}

/* Hands the frames whose tone status is resolved to the utterance logic. */
static GstFlowReturn
process_decided (GstVadSplit * self, const Settings * settings)
{
  State *st = &self->state;
  GstFlowReturn ret = GST_FLOW_OK;
  Frame *head;

  while (ret == GST_FLOW_OK && (head = g_queue_peek_head (&st->analysis))
      && head->tone != TONE_PENDING)
    ret = process_frame (self, settings, g_queue_pop_head (&st->analysis));
  return ret;
}

static void
resolve_pending_tone (GstVadSplit * self, ToneStatus status)
{
  GList *l;

  for (l = self->state.analysis.tail; l; l = l->prev) {
    Frame *f = l->data;

    if (f->tone != TONE_PENDING)
      break;
    f->tone = status;
  }
}

/* Classifies one frame: VAD decision, energy and tone status. */
static gboolean
analyse_frame (GstVadSplit * self, const Settings * settings, Frame * frame)
{
  State *st = &self->state;
  GstMapInfo map;
  gsize n, i;
  gdouble sum = 0.0;
  gint vad = 0;

  if (!gst_buffer_map (frame->buffer, &map, GST_MAP_READ))
    return FALSE;
  n = MIN (map.size / 2, st->frame_samples);
  for (i = 0; i < n; i++) {
    gint16 v = GST_READ_UINT16_LE (map.data + 2 * i);

    st->scratch[i] = v;
    sum += (gdouble) v *v;
  }
  gst_buffer_unmap (frame->buffer, &map);
  frame->energy = n > 0 ? sum / n / (32768.0 * 32768.0) : 0.0;

  if (n == st->frame_samples) {
    if (st->vad_mode != settings->mode) {
      WebRtcVad_set_mode (st->vad, settings->mode);
      st->vad_mode = settings->mode;
    }
    vad = WebRtcVad_Process (st->vad, GST_AUDIO_INFO_RATE (&st->info),
        st->scratch, n);
    if (vad < 0)
      return FALSE;
  }
  frame->vad = vad == 1;
  frame->tone = TONE_NONE;

  if (st->reject_tones && n > 0) {
    guint run = copilot_vad_tone_process (st->tone, st->scratch, n, NULL);

    if (run == 0) {
      if (st->tone_confirmed)
        st->tone_tail_left = TONE_TAIL;
      st->tone_confirmed = FALSE;
      resolve_pending_tone (self, TONE_NONE);
      if (st->tone_tail_left > 0) {
        frame->tone = TONE_YES;
        st->tone_tail_left -= MIN (st->tone_tail_left, frame->duration);
      }
    } else {
      /* A new run right after a confirmed tone is the same tone wobbling
       * (modulated ringback), not a new sound to be proven again. */
      if (run == 1 && !st->tone_confirmed)
        resolve_pending_tone (self, TONE_NONE);
      if (st->tone_confirmed) {
        frame->tone = TONE_YES;
      } else if (run * st->frame_duration >= TONE_MIN_DURATION) {
        GST_LOG_OBJECT (self, "steady tone at %" GST_TIME_FORMAT,
            GST_TIME_ARGS (frame->pts));
        st->tone_confirmed = TRUE;
        resolve_pending_tone (self, TONE_YES);
        frame->tone = TONE_YES;
      } else {
        frame->tone = TONE_PENDING;
      }
    }
  }
  return TRUE;
}

/* Cuts @n_bytes off the adapter into a frame and runs it through the
 * element.  A frame shorter than the VAD frame (end of stream) counts as
 * unvoiced. */
static GstFlowReturn
take_frame (GstVadSplit * self, const Settings * settings, gsize n_bytes)
{
  State *st = &self->state;
  guint bpf = GST_AUDIO_INFO_BPF (&st->info);
  guint rate = GST_AUDIO_INFO_RATE (&st->info);
  guint64 distance;
  GstClockTime pts = gst_adapter_prev_pts (st->adapter, &distance);
  Frame *frame = g_new0 (Frame, 1);

  if (GST_CLOCK_TIME_IS_VALID (pts))
    pts += gst_util_uint64_scale_int (distance / bpf, GST_SECOND, rate);
  else if (GST_CLOCK_TIME_IS_VALID (st->next_pts))
    pts = st->next_pts;
  else
    pts = st->segment.format == GST_FORMAT_TIME ? st->segment.start : 0;

  frame->pts = pts;
  frame->duration = gst_util_uint64_scale_int (n_bytes / bpf, GST_SECOND, rate);
  frame->buffer = gst_buffer_make_writable (gst_adapter_take_buffer
      (st->adapter, n_bytes));
  GST_BUFFER_PTS (frame->buffer) = frame->pts;
  GST_BUFFER_DTS (frame->buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (frame->buffer) = frame->duration;
  GST_BUFFER_OFFSET (frame->buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (frame->buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_FLAG_UNSET (frame->buffer, GST_BUFFER_FLAG_DISCONT);
  st->next_pts = frame_end (frame);

  if (!analyse_frame (self, settings, frame)) {
    frame_free (frame);
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        (_("Voice activity detection failed.")),
        ("WebRtcVad_Process rejected a frame of %u samples at %u Hz",
            st->frame_samples, rate));
    return GST_FLOW_ERROR;
  }
  g_queue_push_tail (&st->analysis, frame);
  return process_decided (self, settings);
}

/* Processes all audio still held and closes an open utterance with
 * @reason, leaving the element idle with nothing queued.  Called from the
 * streaming thread at EOS, caps changes, discontinuities and GAP events. */
static GstFlowReturn
drain (GstVadSplit * self, const Settings * settings,
    CopilotUtteranceEndReason reason)
{
  State *st = &self->state;
  GstFlowReturn ret = GST_FLOW_OK;
  gsize left;
  Frame *head;

  if (!st->have_info)
    return GST_FLOW_OK;

  left = gst_adapter_available (st->adapter);
  left -= left % GST_AUDIO_INFO_BPF (&st->info);
  if (left > 0)
    ret = take_frame (self, settings, left);
  gst_adapter_clear (st->adapter);

  resolve_pending_tone (self, TONE_NONE);
  if (ret == GST_FLOW_OK)
    ret = process_decided (self, settings);

  if (st->utt == UTT_SPEECH) {
    GstFlowReturn r = push_frames_until (self, st->last_voiced_end);

    end_utterance (self, st->last_voiced_end, reason);
    if (ret == GST_FLOW_OK)
      ret = r;
  }
  st->utt = UTT_IDLE;
  st->onset_bits = 0;
  st->voiced_total = 0;
  while ((head = g_queue_pop_head (&st->analysis)))
    release_silence (self, settings, head);
  while ((head = g_queue_pop_head (&st->frames)))
    release_silence (self, settings, head);
  flush_gap (self);
  st->tone_run = 0;
  st->tone_confirmed = FALSE;
  st->tone_tail_left = 0;
  return ret;
}

/* Called from the streaming thread. */
static GstFlowReturn
gst_vad_split_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstVadSplit *self = GST_VAD_SPLIT (parent);
  State *st = &self->state;
  GstFlowReturn ret = GST_FLOW_OK;
  Settings settings;
  gsize frame_bytes;

  if (!st->have_info) {
    gst_buffer_unref (buffer);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("received a buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  settings_copy (self, &settings);
  frame_bytes = st->frame_samples * GST_AUDIO_INFO_BPF (&st->info);

  /* A jump in the input timestamps ends the current analysis: the partial
   * frame and any open utterance cannot continue across it. */
  if (GST_BUFFER_IS_DISCONT (buffer) && GST_BUFFER_PTS_IS_VALID (buffer)
      && GST_CLOCK_TIME_IS_VALID (st->next_pts)) {
    GstClockTime expected = st->next_pts +
        gst_util_uint64_scale_int (gst_adapter_available (st->adapter) /
        GST_AUDIO_INFO_BPF (&st->info), GST_SECOND,
        GST_AUDIO_INFO_RATE (&st->info));
    GstClockTime pts = GST_BUFFER_PTS (buffer);

    if (MAX (pts, expected) - MIN (pts, expected) > st->frame_duration / 2) {
      GST_DEBUG_OBJECT (self, "timestamp jump from %" GST_TIME_FORMAT
          " to %" GST_TIME_FORMAT, GST_TIME_ARGS (expected),
          GST_TIME_ARGS (pts));
      ret = drain (self, &settings, COPILOT_UTTERANCE_END_SILENCE);
    }
  }

  gst_adapter_push (st->adapter, buffer);
  while (ret == GST_FLOW_OK && gst_adapter_available (st->adapter) >=
      frame_bytes)
    ret = take_frame (self, &settings, frame_bytes);
  flush_gap (self);
  return ret;
}

/* Configures the VAD and the tone detector for @caps.  Called from the
 * streaming thread with nothing queued. */
static gboolean
configure (GstVadSplit * self, GstCaps * caps)
{
  State *st = &self->state;
  Settings settings;
  GstAudioInfo info;

  if (!gst_audio_info_from_caps (&info, caps))
    return FALSE;

  settings_copy (self, &settings);
  free_config (self);
  st->info = info;
  st->frame_ms = settings.frame_duration;
  st->frame_samples = GST_AUDIO_INFO_RATE (&info) * st->frame_ms / 1000;
  st->frame_duration = st->frame_ms * GST_MSECOND;
  st->reject_tones = settings.reject_tones;
  if (WebRtcVad_ValidRateAndFrameLength (GST_AUDIO_INFO_RATE (&info),
          st->frame_samples) != 0)
    return FALSE;
  st->vad = WebRtcVad_Create ();
  if (st->vad == NULL || WebRtcVad_Init (st->vad) != 0)
    return FALSE;
  st->vad_mode = -1;
  st->tone = copilot_vad_tone_new (GST_AUDIO_INFO_RATE (&info));
  st->scratch = g_new0 (gint16, st->frame_samples);
  st->have_info = TRUE;
  reset_stream (self);
  GST_DEBUG_OBJECT (self, "configured for %d Hz, %u ms frames",
      GST_AUDIO_INFO_RATE (&info), st->frame_ms);
  return TRUE;
}

/* Called from the streaming thread for serialized events (FLUSH_STOP with
 * the stream lock held), from any thread for FLUSH_START. */
static gboolean
gst_vad_split_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstVadSplit *self = GST_VAD_SPLIT (parent);
  State *st = &self->state;
  Settings settings;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      GstAudioInfo info;

      gst_event_parse_caps (event, &caps);
      if (st->have_info && gst_audio_info_from_caps (&info, caps)
          && gst_audio_info_is_equal (&info, &st->info))
        break;
      settings_copy (self, &settings);
      drain (self, &settings, COPILOT_UTTERANCE_END_FLUSH);
      if (!configure (self, caps)) {
        free_config (self);
        gst_event_unref (event);
        GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
            ("cannot configure the VAD for caps %" GST_PTR_FORMAT, caps));
        return FALSE;
      }
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &st->segment);
      if (st->segment.format != GST_FORMAT_TIME)
        GST_DEBUG_OBJECT (self, "non-time segment, using timestamps as "
            "running time");
      break;
    case GST_EVENT_STREAM_START:
      settings_copy (self, &settings);
      drain (self, &settings, COPILOT_UTTERANCE_END_FLUSH);
      st->index = 0;
      st->talk_time = 0;
      st->silence_time = 0;
      break;
    case GST_EVENT_GAP:{
      GstClockTime ts, duration;

      settings_copy (self, &settings);
      gst_event_parse_gap (event, &ts, &duration);
      /* A short gap (a lost packet) is analysed as digital silence so that
       * it does not break an utterance; a longer one closes it anyway. */
      if (st->have_info && GST_CLOCK_TIME_IS_VALID (ts)
          && GST_CLOCK_TIME_IS_VALID (duration)
          && duration < settings.hangover) {
        guint64 n = gst_util_uint64_scale_round (duration,
            GST_AUDIO_INFO_RATE (&st->info), GST_SECOND);
        GstBuffer *silence = gst_buffer_new_allocate (NULL,
            n * GST_AUDIO_INFO_BPF (&st->info), NULL);

        gst_buffer_memset (silence, 0, 0, gst_buffer_get_size (silence));
        GST_BUFFER_PTS (silence) = ts;
        GST_BUFFER_DURATION (silence) = duration;
        gst_event_unref (event);
        return gst_vad_split_chain (pad, parent, silence) == GST_FLOW_OK;
      }
      drain (self, &settings, COPILOT_UTTERANCE_END_SILENCE);
      if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID (duration)) {
        st->silence_time += duration;
        st->next_pts = ts + duration;
      }
      if (settings.silence == GST_VAD_SPLIT_SILENCE_GAP)
        break;
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_EOS:
      settings_copy (self, &settings);
      drain (self, &settings, COPILOT_UTTERANCE_END_EOS);
      break;
    case GST_EVENT_FLUSH_STOP:{
      gboolean open = st->utt == UTT_SPEECH;
      GstClockTime end = GST_CLOCK_TIME_IS_VALID (st->pushed_end)
          && st->pushed_end > st->utt_start ? st->pushed_end : st->utt_start;
      gboolean res = gst_pad_push_event (self->srcpad, event);

      /* The flushed audio is gone; downstream learns that the utterance
       * it had started ends where its last buffer ended. */
      if (open)
        end_utterance (self, end, COPILOT_UTTERANCE_END_FLUSH);
      reset_stream (self);
      gst_segment_init (&st->segment, GST_FORMAT_UNDEFINED);
      return res;
    }
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_vad_split_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstVadSplit *self = GST_VAD_SPLIT (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    Settings settings;
    GstClockTime min, max, ours;
    gboolean live;

    if (!gst_pad_peer_query (self->sinkpad, query))
      return FALSE;
    gst_query_parse_latency (query, &live, &min, &max);
    settings_copy (self, &settings);
    ours = MAX (settings.hangover, settings.pre_roll + ONSET_WINDOW +
        settings.min_speech);
    if (settings.max_utterance > 0)
      ours = MAX (ours, MIN (MAX_CUT_WINDOW, settings.max_utterance / 2));
    if (settings.reject_tones)
      ours += TONE_MIN_DURATION;
    GST_DEBUG_OBJECT (self, "adding %" GST_TIME_FORMAT " of latency",
        GST_TIME_ARGS (ours));
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += ours;
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstStateChangeReturn
gst_vad_split_change_state (GstElement * element, GstStateChange transition)
{
  GstVadSplit *self = GST_VAD_SPLIT (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    self->state.index = 0;
    self->state.talk_time = 0;
    self->state.silence_time = 0;
    gst_segment_init (&self->state.segment, GST_FORMAT_UNDEFINED);
    reset_stream (self);
  }

  ret = GST_ELEMENT_CLASS (gst_vad_split_parent_class)->change_state (element,
      transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    reset_stream (self);
    free_config (self);
  }
  return ret;
}

static void
gst_vad_split_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVadSplit *self = GST_VAD_SPLIT (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      s->mode = g_value_get_int (value);
      break;
    case PROP_FRAME_DURATION:
      s->frame_duration = g_value_get_enum (value);
      break;
    case PROP_HANGOVER:
      s->hangover = g_value_get_uint64 (value);
      break;
    case PROP_PRE_ROLL:
      s->pre_roll = g_value_get_uint64 (value);
      break;
    case PROP_MIN_SPEECH:
      s->min_speech = g_value_get_uint64 (value);
      break;
    case PROP_MAX_UTTERANCE:
      s->max_utterance = g_value_get_uint64 (value);
      break;
    case PROP_REJECT_TONES:
      s->reject_tones = g_value_get_boolean (value);
      break;
    case PROP_SILENCE:
      s->silence = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vad_split_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstVadSplit *self = GST_VAD_SPLIT (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_int (value, s->mode);
      break;
    case PROP_FRAME_DURATION:
      g_value_set_enum (value, s->frame_duration);
      break;
    case PROP_HANGOVER:
      g_value_set_uint64 (value, s->hangover);
      break;
    case PROP_PRE_ROLL:
      g_value_set_uint64 (value, s->pre_roll);
      break;
    case PROP_MIN_SPEECH:
      g_value_set_uint64 (value, s->min_speech);
      break;
    case PROP_MAX_UTTERANCE:
      g_value_set_uint64 (value, s->max_utterance);
      break;
    case PROP_REJECT_TONES:
      g_value_set_boolean (value, s->reject_tones);
      break;
    case PROP_SILENCE:
      g_value_set_enum (value, s->silence);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vad_split_finalize (GObject * object)
{
  GstVadSplit *self = GST_VAD_SPLIT (object);

  reset_stream (self);
  free_config (self);
  g_clear_object (&self->state.adapter);
  G_OBJECT_CLASS (gst_vad_split_parent_class)->finalize (object);
}

static void
gst_vad_split_class_init (GstVadSplitClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (vad_split_debug, "vadsplit", 0,
      "Voice activity splitter");

  gobject_class->set_property = gst_vad_split_set_property;
  gobject_class->get_property = gst_vad_split_get_property;
  gobject_class->finalize = gst_vad_split_finalize;
  element_class->change_state = gst_vad_split_change_state;

  properties[PROP_MODE] = g_param_spec_int ("mode", "Mode",
      "WebRTC VAD aggressiveness, from 0 (least) to 3 (most aggressive in "
      "rejecting non-speech)", 0, 3, DEFAULT_MODE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_FRAME_DURATION] = g_param_spec_enum ("frame-duration",
      "Frame duration", "Duration of the VAD analysis frames in milliseconds",
      GST_TYPE_VAD_SPLIT_FRAME_DURATION, DEFAULT_FRAME_DURATION,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_HANGOVER] = g_param_spec_uint64 ("hangover", "Hangover",
      "Silence in nanoseconds that closes an utterance",
      10 * GST_MSECOND, 10 * GST_SECOND, DEFAULT_HANGOVER,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_PRE_ROLL] = g_param_spec_uint64 ("pre-roll", "Pre-roll",
      "Audio in nanoseconds kept before a speech onset and emitted at the "
      "start of the utterance", 0, 5 * GST_SECOND, DEFAULT_PRE_ROLL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MIN_SPEECH] = g_param_spec_uint64 ("min-speech",
      "Minimum speech",
      "Voiced audio in nanoseconds an utterance needs; shorter bursts are "
      "discarded as clicks or noise", 0, 10 * GST_SECOND, DEFAULT_MIN_SPEECH,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_UTTERANCE] = g_param_spec_uint64 ("max-utterance",
      "Maximum utterance",
      "Longest utterance in nanoseconds before a forced cut at the quietest "
      "recent point (0 = unlimited; shorter than 1 s counts as 1 s; at most "
      "1 hour)", 0, MAX_MAX_UTTERANCE, DEFAULT_MAX_UTTERANCE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_REJECT_TONES] = g_param_spec_boolean ("reject-tones",
      "Reject tones",
      "Treat steady tones (ringback, hold beeps, dual tones) as non-speech",
      DEFAULT_REJECT_TONES,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_SILENCE] = g_param_spec_enum ("silence", "Silence",
      "What to do with the audio between utterances",
      GST_TYPE_VAD_SPLIT_SILENCE, DEFAULT_SILENCE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Voice activity splitter", "Filter/Analyzer/Audio",
      "Cuts speech into utterances with the WebRTC VAD, dropping silence, "
      "noise bursts and steady tones", "Copilot developers");

  gst_type_mark_as_plugin_api (GST_TYPE_VAD_SPLIT_SILENCE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_VAD_SPLIT_FRAME_DURATION, 0);
}

static void
gst_vad_split_init (GstVadSplit * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_vad_split_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_vad_split_sink_event));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_vad_split_src_query));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->settings.mode = DEFAULT_MODE;
  self->settings.frame_duration = DEFAULT_FRAME_DURATION;
  self->settings.hangover = DEFAULT_HANGOVER;
  self->settings.pre_roll = DEFAULT_PRE_ROLL;
  self->settings.min_speech = DEFAULT_MIN_SPEECH;
  self->settings.max_utterance = DEFAULT_MAX_UTTERANCE;
  self->settings.reject_tones = DEFAULT_REJECT_TONES;
  self->settings.silence = DEFAULT_SILENCE;

  self->state.adapter = gst_adapter_new ();
  g_queue_init (&self->state.analysis);
  g_queue_init (&self->state.frames);
  gst_segment_init (&self->state.segment, GST_FORMAT_UNDEFINED);
  reset_stream (self);
}
