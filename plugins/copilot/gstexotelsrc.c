/* exotelsrc: turns Exotel stream messages into timed raw audio. */

/**
 * SECTION:element-exotelsrc
 * @title: exotelsrc
 *
 * exotelsrc turns the JSON text frames of the Exotel Stream / Voicebot
 * (AgentStream) WebSocket protocol (`connected`, `start`, `media`, `dtmf`,
 * `mark`, `stop`) into timestamped audio.
 *
 * ## Feeding frames
 *
 * - Live: call the #GstExotelSrc::push-frame action signal (or
 *   gst_exotel_src_push_frame()) with each text frame, from any thread. The
 *   call never blocks: the frame is validated and put into a queue of at most
 *   #GstExotelSrc:max-queue frames which the streaming thread empties.
 *   Overflow policy (tail drop): when the queue is full a new frame is refused,
 *   push-frame returns %FALSE and `frames-dropped-overflow` is incremented;
 *   `start` and `stop` frames may use two extra slots so that the call's
 *   metadata and its end are not lost. Frames may be pushed in any state; the
 *   queue is emptied when the element goes back to READY. In this mode the
 *   element is a live source.
 * - Replay: set #GstExotelSrc:location to a capture file holding one frame per
 *   line (NDJSON, as the daemon records them; blank lines are skipped). With
 *   #GstExotelSrc:pace `realtime` (the default) media frames are released when
 *   the pipeline clock reaches the end of their audio, and the element is a
 *   live source. With `fast` the file is read as quickly as downstream takes
 *   it and the element is not live, so it suits offline conversion. The end of
 *   the file acts as a `stop` frame without a message.
 *
 * ## Audio
 *
 * The format comes from the `start` frame's `media_format` and is never
 * assumed: 16-bit PCM encodings (`base64` as Exotel calls it, `raw`, `slin`,
 * `pcm`, `linear16`, `audio/x-raw`, `audio/l16`, ...) give `audio/x-raw,
 * format=S16LE`, mu-law (`audio/x-mulaw`, `mulaw`, `ulaw`, `pcmu`) gives
 * `audio/x-mulaw`, at 8000, 16000 or 24000 Hz. #GstExotelSrc:sample-rate
 * stands in when the start frame has no `sample_rate`. Caps are set when the
 * start frame is processed. #GstExotelSrc:track selects one track (mono) or
 * both, interleaved as two channels with inbound on channel 0, aligned by
 * their timestamps.
 *
 * Timestamps come from the media `timestamp` (milliseconds since the stream
 * started): a buffer's PTS is its timestamp relative to the first media
 * frame, plus, in live mode, the running time at which that first frame was
 * handled (minus its duration); durations come from the payload size. Frames
 * without a timestamp follow the previous one. Timestamps within 5 ms of the
 * expected position are treated as contiguous. Missing audio becomes silence
 * or a GAP event (#GstExotelSrc:gap-mode), for holes of up to
 * #GstExotelSrc:max-gap. A timestamp further ahead of the newest audio
 * received is a discontinuity, not a hole: nothing is output for the skipped
 * time, the frame's audio follows the audio before it (PTS stays
 * continuous) on a buffer flagged %GST_BUFFER_FLAG_DISCONT, later timestamps
 * are placed relative to the jump, and the jump is counted (`discontinuities`,
 * `discontinuity-duration`) and logged; realtime replay does not wait for the
 * skipped time either. Out-of-order frames are held until the audio received
 * after the hole exceeds #GstExotelSrc:reorder-window; a frame arriving after
 * its place was given up (including any timestamped before a jump) is dropped
 * as late, and a repeated (chunk, timestamp) pair, or a frame starting where
 * a held frame starts, is dropped as a duplicate. A track holds at most 512
 * frames and reorder-window plus one second of audio: beyond that its holes
 * are given up early (`reorder-overflows`). A `stop` frame drains everything
 * held and ends the stream with EOS. Held frames are only released by later
 * frames or by stop; the element does not time them out.
 *
 * ## Bad input
 *
 * Invalid JSON, bad base64, a payload that is not a whole number of samples or
 * implies more than one second of audio, unknown events, media before start,
 * a second start, frames larger than #GstExotelSrc:max-frame-size and
 * out-of-range numbers are dropped, counted in #GstExotelSrc:stats and logged
 * (the first one of a run also as a warning message); frames around them are
 * unaffected.
 *
 * ## Messages
 *
 * Element messages, posted from the streaming thread in stream order:
 *
 * - `exotel-start`: `stream-sid`, `call-sid`, `account-sid`, `from`, `to`
 *   (strings, %NULL if absent), `custom-parameters` (#GstStructure of string
 *   values; keys that are not valid field names are only in the JSON form),
 *   `custom-parameters-json` (string, %NULL if absent), `encoding` (string as
 *   received), `bit-rate` (string, %NULL if absent), `sample-rate` (int, Hz),
 *   `channels` (int), `caps` (#GstCaps), `sequence-number` (int64, -1 if
 *   absent).
 * - `exotel-dtmf`: `stream-sid`, `digit` (strings), `duration` (int64, ms, -1
 *   if absent), `pts` (uint64, the position of the audio released so far,
 *   %GST_CLOCK_TIME_NONE before any), `sequence-number` (int64).
 * - `exotel-mark`: `stream-sid`, `name` (strings), `pts`, `sequence-number`.
 * - `exotel-stop`: `stream-sid`, `call-sid`, `account-sid`, `reason` (strings,
 *   %NULL if absent), `pts`, `sequence-number`.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 exotelsrc location=call.ndjson pace=fast ! audioconvert ! wavenc ! filesink location=call.wav
 * ]| Converts a captured call to a WAV file.
 */

#include "config.h"

#include "gstexotelsrc.h"
#include "copilot-exotel-frame.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>

GST_DEBUG_CATEGORY_STATIC (exotel_src_debug);
#define GST_CAT_DEFAULT exotel_src_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_PACE GST_EXOTEL_SRC_PACE_REALTIME
#define DEFAULT_TRACK GST_EXOTEL_SRC_TRACK_AUTO
#define DEFAULT_GAP_MODE GST_EXOTEL_SRC_GAP_MODE_SILENCE
#define DEFAULT_REORDER_WINDOW (100 * GST_MSECOND)
#define MAX_REORDER_WINDOW (10 * GST_SECOND)
#define DEFAULT_MAX_QUEUE 500
#define DEFAULT_MAX_FRAME_SIZE (256 * 1024)
#define MIN_MAX_FRAME_SIZE 64
#define MAX_MAX_FRAME_SIZE (64 * 1024 * 1024)
#define DEFAULT_SAMPLE_RATE 0
#define DEFAULT_MAX_GAP (5 * GST_SECOND)
/* No media timestamp can jump further than this. */
#define MAX_MAX_GAP (COPILOT_EXOTEL_MAX_TIMESTAMP_MS * GST_MSECOND)

/* Queue slots beyond max-queue that only start and stop frames may use. */
#define CONTROL_RESERVE 2
/* Timestamps this close to the expected position count as contiguous:
 * Exotel's are rounded to milliseconds. */
#define CONTIGUITY_TOLERANCE (5 * GST_MSECOND)
/* Longest silence buffer produced when filling a gap. */
#define SILENCE_CHUNK (100 * GST_MSECOND)
/* Latency added to reorder-window: the longest chunk Exotel normally sends. */
#define FRAME_LATENCY (100 * GST_MSECOND)
/* (chunk, timestamp) pairs remembered per track to spot duplicates. */
#define N_RECENT 64
/* Most frames a track holds for reordering. Beyond this, or beyond
 * reorder-window plus one second of held audio (more than in-order input can
 * ever need), the holes are given up so that memory and the cost of
 * out-of-order inserts stay bounded. */
#define MAX_PENDING 512
#define READ_BUFFER_SIZE 65536

G_DEFINE_ENUM_TYPE (GstExotelSrcPace, gst_exotel_src_pace,
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_PACE_REALTIME, "realtime"),
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_PACE_FAST, "fast"));

G_DEFINE_ENUM_TYPE (GstExotelSrcTrack, gst_exotel_src_track,
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_TRACK_AUTO, "auto"),
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_TRACK_INBOUND, "inbound"),
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_TRACK_OUTBOUND, "outbound"),
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_TRACK_BOTH, "both"));

G_DEFINE_ENUM_TYPE (GstExotelSrcGapMode, gst_exotel_src_gap_mode,
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_GAP_MODE_SILENCE, "silence"),
    G_DEFINE_ENUM_VALUE (GST_EXOTEL_SRC_GAP_MODE_GAP, "gap"));

/* Counters of the stats property; names are its field names. */
typedef enum
{
  STAT_FRAMES_RECEIVED,
  STAT_BYTES,
  STAT_FRAMES_PUSHED,
  STAT_AUDIO_BYTES,
  STAT_DROPPED_OVERFLOW,
  STAT_INVALID,
  STAT_INVALID_JSON,
  STAT_INVALID_BASE64,
  STAT_INVALID_PAYLOAD_SIZE,
  STAT_INVALID_FIELD,
  STAT_INVALID_FORMAT,
  STAT_UNKNOWN_EVENT,
  STAT_MEDIA_BEFORE_START,
  STAT_DUPLICATE_START,
  STAT_OVERSIZED,
  STAT_LATE,
  STAT_DUPLICATE,
  STAT_OTHER_TRACK,
  STAT_GAPS,
  STAT_GAP_DURATION,
  STAT_DISCONTINUITIES,
  STAT_DISCONTINUITY_DURATION,
  STAT_REORDER_OVERFLOWS,
  N_STATS,
} Stat;

static const char *const stat_names[N_STATS] = {
  "frames-received",
  "bytes",
  "frames-pushed",
  "audio-bytes",
  "frames-dropped-overflow",
  "frames-invalid",
  "invalid-json",
  "invalid-base64",
  "invalid-payload-size",
  "invalid-field",
  "invalid-format",
  "unknown-event",
  "media-before-start",
  "duplicate-start",
  "oversized",
  "frames-late",
  "frames-duplicate",
  "frames-other-track",
  "gaps",
  "gap-duration",
  "discontinuities",
  "discontinuity-duration",
  "reorder-overflows",
};

typedef struct
{
  char *location;
  GstExotelSrcPace pace;
  GstExotelSrcTrack track;
  GstExotelSrcGapMode gap_mode;
  GstClockTime reorder_window;
  guint max_queue;
  guint max_frame_size;
  guint sample_rate;
  GstClockTime max_gap;
} Settings;

/* A media frame waiting in a track's reorder buffer. Positions and lengths
 * are in samples (per channel) from the first media frame. */
typedef struct
{
  gint64 pos;
  gint64 len;
  GBytes *data;
  gboolean discont;             /* first audio after a timestamp jump */
} Chunk;

/* Released audio waiting to be output; data == NULL is silence. */
typedef struct
{
  gint64 len;
  GBytes *data;
  gsize offset;                 /* bytes of data already output */
} Segment;

typedef struct
{
  gint64 chunk;
  gint64 timestamp_ms;
} RecentKey;

typedef struct
{
  GQueue pending;               /* Chunk, sorted by pos */
  gint64 pending_samples;       /* sum of the lengths in pending */
  GQueue segments;              /* Segment, starting at out_pos */
  gint64 end;                   /* samples released into segments */
  gint64 newest_end;            /* end of the latest audio received */
  RecentKey recent[N_RECENT];
  guint n_recent;
  guint recent_next;
} Track;

/* Everything create() works with; streaming thread only, reset in start()
 * and stop(). */
typedef struct
{
  char *location;
  GstExotelSrcPace pace;
  GstExotelSrcTrack track_mode;

  FILE *file;
  guint8 *rbuf;
  gsize rpos, rlen;
  gboolean file_eof;
  GString *line;

  gboolean started;
  gboolean eos;
  CopilotExotelEncoding encoding;
  guint rate;
  guint bps;                    /* bytes per sample of one channel */
  guint channels;
  GstCaps *caps;
  char *stream_sid;
  char *call_sid;
  char *account_sid;
  CopilotExotelTrack locked_track;

  gboolean have_base;           /* pts_base is set */
  gboolean have_base_ms;        /* base_ms is set */
  gint64 base_ms;               /* media timestamp of sample 0; may be < 0 */
  GstClockTime pts_base;
  Track tracks[2];
  gint64 out_pos;
  gboolean discont;
  GArray *disconts;             /* gint64 sample positions, ascending, where
                                 * output buffers must be DISCONT */
} State;

struct _GstExotelSrc
{
  GstPushSrc parent;

  Settings settings;            /* protected by GST_OBJECT_LOCK */

  /* Never taken together with GST_OBJECT_LOCK. */
  GMutex lock;
  GCond cond;                   /* signalled on new frames and unlock() */
  GQueue queue;                 /* CopilotExotelFrame, protected by lock */
  gboolean flushing;            /* protected by lock */
  GstClockID clock_id;          /* protected by lock */
  guint64 stats[N_STATS];       /* protected by lock */
  gboolean warned;              /* protected by lock */

  State state;
};

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_PACE,
  PROP_TRACK,
  PROP_GAP_MODE,
  PROP_REORDER_WINDOW,
  PROP_MAX_QUEUE,
  PROP_MAX_FRAME_SIZE,
  PROP_SAMPLE_RATE,
  PROP_MAX_GAP,
  PROP_STATS,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_PUSH_FRAME,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format = (string) S16LE, "
        "layout = (string) interleaved, rate = (int) { 8000, 16000, 24000 }, "
        "channels = (int) [ 1, 2 ]; "
        "audio/x-mulaw, rate = (int) { 8000, 16000, 24000 }, "
        "channels = (int) [ 1, 2 ]"));

G_DEFINE_TYPE (GstExotelSrc, gst_exotel_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (exotelsrc, "exotelsrc", GST_RANK_NONE,
    GST_TYPE_EXOTEL_SRC);

static void
chunk_free (Chunk * chunk)
{
  g_bytes_unref (chunk->data);
  g_free (chunk);
}

static void
segment_free (Segment * segment)
{
  g_clear_pointer (&segment->data, g_bytes_unref);
  g_free (segment);
}

static void
track_clear (Track * track)
{
  g_queue_clear_full (&track->pending, (GDestroyNotify) chunk_free);
  g_queue_clear_full (&track->segments, (GDestroyNotify) segment_free);
  memset (track, 0, sizeof (*track));
  g_queue_init (&track->pending);
  g_queue_init (&track->segments);
}

/* Streaming thread, or with the streaming thread stopped. */
static void
state_clear (GstExotelSrc * self)
{
  State *st = &self->state;

  g_clear_pointer (&st->location, g_free);
  g_clear_pointer (&st->file, fclose);
  g_clear_pointer (&st->rbuf, g_free);
  if (st->line != NULL)
    g_string_free (st->line, TRUE);
  st->line = NULL;
  gst_clear_caps (&st->caps);
  g_clear_pointer (&st->stream_sid, g_free);
  g_clear_pointer (&st->call_sid, g_free);
  g_clear_pointer (&st->account_sid, g_free);
  g_clear_pointer (&st->disconts, g_array_unref);
  for (guint i = 0; i < G_N_ELEMENTS (st->tracks); i++)
    track_clear (&st->tracks[i]);
  memset (st, 0, sizeof (*st));
  for (guint i = 0; i < G_N_ELEMENTS (st->tracks); i++)
    track_clear (&st->tracks[i]);
}

/* Any thread. */
static void
stat_add (GstExotelSrc * self, Stat stat, guint64 value)
{
  g_mutex_lock (&self->lock);
  self->stats[stat] += value;
  g_mutex_unlock (&self->lock);
}

/* Any thread. Drops a frame: counts it and logs it; for the first invalid
 * frame since start also posts a warning message. Late, duplicate and
 * overflowing frames are not invalid, only counted. */
static void
reject (GstExotelSrc * self, Stat category, const char *format, ...)
G_GNUC_PRINTF (3, 4);

     static void
         reject (GstExotelSrc * self, Stat category, const char *format, ...)
{
  g_autofree char *detail = NULL;
  gboolean first, invalid;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  invalid = category != STAT_LATE && category != STAT_DUPLICATE
      && category != STAT_DROPPED_OVERFLOW;

  g_mutex_lock (&self->lock);
  if (invalid)
    self->stats[STAT_INVALID]++;
  self->stats[category]++;
  first = invalid && !self->warned;
  if (invalid)
    self->warned = TRUE;
  g_mutex_unlock (&self->lock);

  GST_WARNING_OBJECT (self, "dropping frame (%s): %s", stat_names[category],
      detail);
  if (first) {
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("Dropped an invalid Exotel stream frame.")),
        ("%s: %s (later drops are only counted)", stat_names[category],
            detail));
  }
}

static Stat
stat_for_error (const GError * error)
{
  if (error->domain != COPILOT_EXOTEL_ERROR)
    return STAT_INVALID_FIELD;
  switch ((CopilotExotelError) error->code) {
    case COPILOT_EXOTEL_ERROR_JSON:
      return STAT_INVALID_JSON;
    case COPILOT_EXOTEL_ERROR_UNKNOWN_EVENT:
      return STAT_UNKNOWN_EVENT;
    case COPILOT_EXOTEL_ERROR_FIELD:
      return STAT_INVALID_FIELD;
    case COPILOT_EXOTEL_ERROR_BASE64:
      return STAT_INVALID_BASE64;
    case COPILOT_EXOTEL_ERROR_FORMAT:
      return STAT_INVALID_FORMAT;
    case COPILOT_EXOTEL_ERROR_TOO_LARGE:
      return STAT_OVERSIZED;
  }
  return STAT_INVALID_FIELD;
}

/* Any thread. Counts the frame as received and parses it; bad frames are
 * rejected here and give NULL. */
static CopilotExotelFrame *
receive_frame (GstExotelSrc * self, const char *data, gsize length,
    guint max_frame_size)
{
  g_autoptr (GError) error = NULL;
  CopilotExotelFrame *frame;

  g_mutex_lock (&self->lock);
  self->stats[STAT_FRAMES_RECEIVED]++;
  self->stats[STAT_BYTES] += length;
  g_mutex_unlock (&self->lock);

  if (length > max_frame_size) {
    reject (self, STAT_OVERSIZED, "frame of %" G_GSIZE_FORMAT
        " bytes exceeds max-frame-size %u", length, max_frame_size);
    return NULL;
  }
  frame = copilot_exotel_frame_parse (data, length, &error);
  if (frame == NULL)
    reject (self, stat_for_error (error), "%s", error->message);
  return frame;
}

/**
 * gst_exotel_src_push_frame:
 * @self: an exotelsrc
 * @frame: the text of one Exotel frame (JSON)
 * @length: length of @frame in bytes, or -1 if it is nul-terminated
 *
 * Hands one frame to the element. Thread-safe and non-blocking: the frame is
 * parsed in the calling thread and queued for the streaming thread. Invalid
 * frames and frames refused because the queue is full are counted in
 * #GstExotelSrc:stats.
 *
 * Returns: %TRUE if the frame was queued
 */
gboolean
gst_exotel_src_push_frame (GstExotelSrc * self, const char *frame,
    gssize length)
{
  CopilotExotelFrame *parsed;
  gboolean has_location, control;
  guint max_queue, max_frame_size, limit;

  g_return_val_if_fail (GST_IS_EXOTEL_SRC (self), FALSE);
  g_return_val_if_fail (frame != NULL || length == 0, FALSE);

  GST_OBJECT_LOCK (self);
  has_location = self->settings.location != NULL;
  max_queue = self->settings.max_queue;
  max_frame_size = self->settings.max_frame_size;
  GST_OBJECT_UNLOCK (self);

  if (has_location) {
    GST_WARNING_OBJECT (self, "push-frame ignored: replaying a location");
    return FALSE;
  }

  if (length < 0)
    length = strlen (frame);
  parsed = receive_frame (self, frame, (gsize) length, max_frame_size);
  if (parsed == NULL)
    return FALSE;

  control = parsed->event == COPILOT_EXOTEL_EVENT_START
      || parsed->event == COPILOT_EXOTEL_EVENT_STOP;
  limit = control ? max_queue + CONTROL_RESERVE : max_queue;

  g_mutex_lock (&self->lock);
  if (self->queue.length >= limit) {
    g_mutex_unlock (&self->lock);
    reject (self, STAT_DROPPED_OVERFLOW, "%s frame: queue full (%u frames)",
        copilot_exotel_event_to_string (parsed->event), max_queue);
    copilot_exotel_frame_free (parsed);
    return FALSE;
  }
  g_queue_push_tail (&self->queue, parsed);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Class handler of the push-frame action signal; any thread. */
static gboolean
push_frame_action (GstExotelSrc * self, const char *frame)
{
  if (frame == NULL) {
    stat_add (self, STAT_FRAMES_RECEIVED, 1);
    reject (self, STAT_INVALID_JSON, "push-frame called with NULL");
    return FALSE;
  }
  return gst_exotel_src_push_frame (self, frame, -1);
}

/* ---- Timing helpers; streaming thread. ---- */

static GstClockTime
samples_to_time (GstExotelSrc * self, gint64 samples)
{
  return gst_util_uint64_scale_int ((guint64) MAX (samples, 0), GST_SECOND,
      self->state.rate);
}

static gint64
time_to_samples (GstExotelSrc * self, GstClockTime time)
{
  return (gint64) gst_util_uint64_scale_int (time, self->state.rate,
      GST_SECOND);
}

static GstClockTime
current_pts (GstExotelSrc * self)
{
  State *st = &self->state;
  gint64 end = st->tracks[0].end;

  if (!st->have_base)
    return GST_CLOCK_TIME_NONE;
  if (st->channels == 2)
    end = MAX (end, st->tracks[1].end);
  return st->pts_base + samples_to_time (self, end);
}

/* End of the newest audio received on any track, in samples. */
static gint64
timeline_frontier (GstExotelSrc * self)
{
  State *st = &self->state;
  gint64 frontier = st->tracks[0].newest_end;

  if (st->channels == 2)
    frontier = MAX (frontier, st->tracks[1].newest_end);
  return frontier;
}

/* Position in samples of media timestamp @ts_ms; needs base_ms. A forward
 * jump of more than max-gap past the newest audio received is a
 * discontinuity rather than a hole: the audio is placed right after that
 * audio, and *@jump is set. With @rebase, base_ms moves so that later
 * timestamps are placed relative to the jump too, and the jump is counted. */
static gint64
timestamp_to_position (GstExotelSrc * self, gint64 ts_ms, gboolean rebase,
    gboolean * jump)
{
  State *st = &self->state;
  gint64 pos = (ts_ms - st->base_ms) * (gint64) st->rate / 1000;
  gint64 frontier = timeline_frontier (self);
  GstClockTime max_gap, skipped;
  gint64 frontier_ms;

  *jump = FALSE;
  GST_OBJECT_LOCK (self);
  max_gap = self->settings.max_gap;
  GST_OBJECT_UNLOCK (self);
  if (pos <= frontier || pos - frontier <= time_to_samples (self, max_gap))
    return pos;

  *jump = TRUE;
  /* Whole milliseconds, rounded down: the frame lands less than a
   * millisecond before the frontier, within the contiguity tolerance. */
  frontier_ms = (gint64) (samples_to_time (self, frontier) / GST_MSECOND);
  if (!rebase)
    return frontier_ms * (gint64) st->rate / 1000;

  skipped = samples_to_time (self, pos - frontier);
  GST_WARNING_OBJECT (self, "timestamp %" G_GINT64_FORMAT " ms jumps %"
      GST_TIME_FORMAT " past the audio received (max-gap %" GST_TIME_FORMAT
      "): discontinuity, continuing at %" GST_TIME_FORMAT, ts_ms,
      GST_TIME_ARGS (skipped), GST_TIME_ARGS (max_gap),
      GST_TIME_ARGS (st->pts_base + samples_to_time (self, frontier)));
  g_mutex_lock (&self->lock);
  self->stats[STAT_DISCONTINUITIES]++;
  self->stats[STAT_DISCONTINUITY_DURATION] += skipped;
  g_mutex_unlock (&self->lock);
  st->base_ms = ts_ms - frontier_ms;
  return (ts_ms - st->base_ms) * (gint64) st->rate / 1000;
}

/* Running time now, or NONE without a clock. */
static GstClockTime
running_time_now (GstExotelSrc * self)
{
  g_autoptr (GstClock) clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, base_time;

  if (clock == NULL)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  base_time = gst_element_get_base_time (GST_ELEMENT (self));
  return now > base_time ? now - base_time : 0;
}

/* Blocks until the pipeline clock reaches @running_time; unlock() ends the
 * wait with FLUSHING. */
static GstFlowReturn
wait_until (GstExotelSrc * self, GstClockTime running_time)
{
  g_autoptr (GstClock) clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockID id;
  GstClockReturn res;

  if (clock == NULL)
    return GST_FLOW_OK;
  id = gst_clock_new_single_shot_id (clock,
      gst_element_get_base_time (GST_ELEMENT (self)) + running_time);

  g_mutex_lock (&self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    gst_clock_id_unref (id);
    return GST_FLOW_FLUSHING;
  }
  self->clock_id = id;
  g_mutex_unlock (&self->lock);

  GST_LOG_OBJECT (self, "waiting for running time %" GST_TIME_FORMAT,
      GST_TIME_ARGS (running_time));
  res = gst_clock_id_wait (id, NULL);

  g_mutex_lock (&self->lock);
  self->clock_id = NULL;
  g_mutex_unlock (&self->lock);
  gst_clock_id_unref (id);

  return res == GST_CLOCK_UNSCHEDULED ? GST_FLOW_FLUSHING : GST_FLOW_OK;
}

/* ---- Reordering and gap filling; streaming thread. ---- */

static void
append_silence (GstExotelSrc * self, Track * track, gint64 samples)
{
  Segment *last = g_queue_peek_tail (&track->segments);

  if (samples <= 0)
    return;
  GST_DEBUG_OBJECT (self, "filling %" G_GINT64_FORMAT " samples of silence "
      "at %" G_GINT64_FORMAT, samples, track->end);
  g_mutex_lock (&self->lock);
  self->stats[STAT_GAPS]++;
  self->stats[STAT_GAP_DURATION] += samples_to_time (self, samples);
  g_mutex_unlock (&self->lock);

  if (last != NULL && last->data == NULL) {
    last->len += samples;
  } else {
    Segment *segment = g_new0 (Segment, 1);

    segment->len = samples;
    g_queue_push_tail (&track->segments, segment);
  }
  track->end += samples;
}

/* Makes the output buffer starting at sample @pos DISCONT. */
static void
add_discont (GstExotelSrc * self, gint64 pos)
{
  State *st = &self->state;
  guint i;

  if (st->disconts == NULL)
    st->disconts = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (i = st->disconts->len; i > 0; i--) {
    if (g_array_index (st->disconts, gint64, i - 1) <= pos)
      break;
  }
  g_array_insert_val (st->disconts, i, pos);
}

/* Moves held chunks to the output. A hole before the next chunk is filled
 * with silence when @force is set, when the chunk starts before @until, or
 * when the audio received after the hole exceeds the reorder window. */
static void
track_release (GstExotelSrc * self, Track * track, gboolean force, gint64 until)
{
  State *st = &self->state;
  gint64 tolerance = time_to_samples (self, CONTIGUITY_TOLERANCE);
  gint64 window;
  Chunk *chunk;

  GST_OBJECT_LOCK (self);
  window = time_to_samples (self, self->settings.reorder_window);
  GST_OBJECT_UNLOCK (self);

  while ((chunk = g_queue_peek_head (&track->pending)) != NULL) {
    gint64 skip;

    if (chunk->pos > track->end + tolerance) {
      if (!force && chunk->pos > until
          && track->newest_end - track->end <= window)
        break;
      append_silence (self, track, chunk->pos - track->end);
    }
    g_queue_pop_head (&track->pending);
    track->pending_samples -= chunk->len;

    /* Overlap within the tolerance is rounding: keep every sample. */
    skip = track->end - chunk->pos;
    if (skip <= tolerance)
      skip = 0;
    if (skip >= chunk->len) {
      reject (self, STAT_LATE, "chunk at sample %" G_GINT64_FORMAT
          " overlaps released audio", chunk->pos);
    } else {
      Segment *segment = g_new0 (Segment, 1);

      if (skip > 0)
        GST_DEBUG_OBJECT (self, "trimming %" G_GINT64_FORMAT " overlapping "
            "samples", skip);
      segment->len = chunk->len - skip;
      segment->data = g_bytes_ref (chunk->data);
      segment->offset = (gsize) (skip * st->bps);
      if (chunk->discont)
        add_discont (self, track->end);
      g_queue_push_tail (&track->segments, segment);
      track->end += segment->len;
      g_mutex_lock (&self->lock);
      self->stats[STAT_FRAMES_PUSHED]++;
      self->stats[STAT_AUDIO_BYTES] += segment->len * st->bps;
      g_mutex_unlock (&self->lock);
    }
    chunk_free (chunk);
  }
}

/* Releases everything up to @target and pads with silence to reach it. */
static void
track_advance_to (GstExotelSrc * self, Track * track, gint64 target)
{
  track_release (self, track, FALSE, target);
  if (track->end < target)
    append_silence (self, track, target - track->end);
}

/* In stereo, a channel that falls more than the reorder window behind the
 * other is given up to that point, so the output keeps moving. */
static void
balance_tracks (GstExotelSrc * self)
{
  State *st = &self->state;
  gint64 window;

  if (st->channels != 2)
    return;
  GST_OBJECT_LOCK (self);
  window = time_to_samples (self, self->settings.reorder_window);
  GST_OBJECT_UNLOCK (self);

  for (guint i = 0; i < 2; i++) {
    Track *lead = &st->tracks[i], *lag = &st->tracks[1 - i];

    if (lead->end - lag->end > window)
      track_advance_to (self, lag, lead->end - window);
  }
}

/* At stop or end of file: release everything held. */
static void
drain (GstExotelSrc * self)
{
  State *st = &self->state;

  GST_DEBUG_OBJECT (self, "draining");
  for (guint i = 0; i < st->channels; i++)
    track_release (self, &st->tracks[i], TRUE, G_MAXINT64);
  if (st->channels == 2) {
    gint64 end = MAX (st->tracks[0].end, st->tracks[1].end);

    for (guint i = 0; i < 2; i++)
      track_advance_to (self, &st->tracks[i], end);
  }
  st->eos = TRUE;
}

static gboolean
is_duplicate (Track * track, const CopilotExotelFrame * frame)
{
  if (frame->chunk < 0 && frame->timestamp_ms < 0)
    return FALSE;
  for (guint i = 0; i < track->n_recent; i++) {
    if (track->recent[i].chunk == frame->chunk
        && track->recent[i].timestamp_ms == frame->timestamp_ms)
      return TRUE;
  }
  return FALSE;
}

static void
remember (Track * track, const CopilotExotelFrame * frame)
{
  if (frame->chunk < 0 && frame->timestamp_ms < 0)
    return;
  track->recent[track->recent_next].chunk = frame->chunk;
  track->recent[track->recent_next].timestamp_ms = frame->timestamp_ms;
  track->recent_next = (track->recent_next + 1) % N_RECENT;
  track->n_recent = MIN (track->n_recent + 1, N_RECENT);
}

/* Whether a frame of @len samples at @pos overlaps @chunk and starts within
 * @tolerance of it: a repeat of it. Contiguous frames do not overlap. */
static gboolean
same_start (const Chunk * chunk, gint64 pos, gint64 len, gint64 tolerance)
{
  if (pos >= chunk->pos)
    return pos - chunk->pos <= tolerance && pos < chunk->pos + chunk->len;
  return chunk->pos - pos <= tolerance && chunk->pos < pos + len;
}

/* Which track slot a media frame goes to, or -1 to ignore it. */
static gint
select_track (GstExotelSrc * self, CopilotExotelTrack track)
{
  State *st = &self->state;

  if (track == COPILOT_EXOTEL_TRACK_NONE)
    track = COPILOT_EXOTEL_TRACK_INBOUND;

  switch (st->track_mode) {
    case GST_EXOTEL_SRC_TRACK_AUTO:
      if (st->locked_track == COPILOT_EXOTEL_TRACK_NONE) {
        GST_INFO_OBJECT (self, "following the %s track",
            copilot_exotel_track_to_string (track));
        st->locked_track = track;
      }
      return track == st->locked_track ? 0 : -1;
    case GST_EXOTEL_SRC_TRACK_INBOUND:
      return track == COPILOT_EXOTEL_TRACK_INBOUND ? 0 : -1;
    case GST_EXOTEL_SRC_TRACK_OUTBOUND:
      return track == COPILOT_EXOTEL_TRACK_OUTBOUND ? 0 : -1;
    case GST_EXOTEL_SRC_TRACK_BOTH:
      return track == COPILOT_EXOTEL_TRACK_INBOUND ? 0 : 1;
  }
  return -1;
}

static void
handle_media (GstExotelSrc * self, CopilotExotelFrame * frame)
{
  State *st = &self->state;
  gsize size = g_bytes_get_size (frame->payload);
  gint64 len, pos, tolerance, window;
  gboolean jump = FALSE;
  Track *track;
  Chunk *chunk;
  GList *l, *next;
  gint slot;

  if (!st->started) {
    reject (self, STAT_MEDIA_BEFORE_START, "media frame before start");
    return;
  }
  if (size == 0 || size % st->bps != 0) {
    reject (self, STAT_INVALID_PAYLOAD_SIZE, "payload of %" G_GSIZE_FORMAT
        " bytes is not a whole number of %u-byte samples", size, st->bps);
    return;
  }
  if (size > (gsize) st->rate * st->bps) {
    reject (self, STAT_OVERSIZED, "payload of %" G_GSIZE_FORMAT " bytes is "
        "more than one second of audio", size);
    return;
  }
  slot = select_track (self, frame->track);
  if (slot < 0) {
    GST_LOG_OBJECT (self, "ignoring %s frame",
        copilot_exotel_track_to_string (frame->track));
    stat_add (self, STAT_OTHER_TRACK, 1);
    return;
  }
  track = &st->tracks[slot];
  len = size / st->bps;

  if (is_duplicate (track, frame)) {
    reject (self, STAT_DUPLICATE, "chunk %" G_GINT64_FORMAT " timestamp %"
        G_GINT64_FORMAT " already received", frame->chunk, frame->timestamp_ms);
    return;
  }

  if (!st->have_base) {
    GstClockTime now = GST_CLOCK_TIME_NONE;

    /* A live stream starts at the running time its first audio was
     * captured; a non-live one at 0. */
    if (gst_base_src_is_live (GST_BASE_SRC (self)))
      now = running_time_now (self);
    st->pts_base = 0;
    if (GST_CLOCK_TIME_IS_VALID (now) && now > samples_to_time (self, len))
      st->pts_base = now - samples_to_time (self, len);
    st->have_base = TRUE;
    GST_INFO_OBJECT (self, "first media frame: timestamp %" G_GINT64_FORMAT
        " ms, PTS base %" GST_TIME_FORMAT, frame->timestamp_ms,
        GST_TIME_ARGS (st->pts_base));
  }
  /* The base may be negative: untimestamped frames followed by a small
   * timestamp. */
  if (frame->timestamp_ms >= 0 && !st->have_base_ms) {
    st->base_ms = frame->timestamp_ms -
        (gint64) (samples_to_time (self, track->newest_end) / GST_MSECOND);
    st->have_base_ms = TRUE;
  }

  if (frame->timestamp_ms >= 0)
    pos = timestamp_to_position (self, frame->timestamp_ms, TRUE, &jump);
  else
    pos = track->newest_end;

  tolerance = time_to_samples (self, CONTIGUITY_TOLERANCE);
  if (pos < track->end - tolerance && pos + len <= track->end) {
    reject (self, STAT_LATE, "chunk %" G_GINT64_FORMAT " timestamp %"
        G_GINT64_FORMAT " ms arrived after its place was given up",
        frame->chunk, frame->timestamp_ms);
    return;
  }

  /* Find the last held chunk that does not start later: frames mostly
   * arrive in order, so walk from the tail. A frame starting where a held
   * one starts is a repeat of it, whatever its chunk number. */
  l = track->pending.tail;
  while (l != NULL && ((Chunk *) l->data)->pos > pos)
    l = l->prev;
  next = l != NULL ? l->next : track->pending.head;
  if ((l != NULL && same_start (l->data, pos, len, tolerance))
      || (next != NULL && same_start (next->data, pos, len, tolerance))) {
    reject (self, STAT_DUPLICATE, "chunk %" G_GINT64_FORMAT " timestamp %"
        G_GINT64_FORMAT " ms starts where a held frame starts", frame->chunk,
        frame->timestamp_ms);
    return;
  }

  GST_OBJECT_LOCK (self);
  window = time_to_samples (self, self->settings.reorder_window);
  GST_OBJECT_UNLOCK (self);
  if (track->pending.length >= MAX_PENDING
      || track->pending_samples + len > window + (gint64) st->rate) {
    GST_WARNING_OBJECT (self, "reorder buffer full (%u frames, %"
        GST_TIME_FORMAT "): giving up its holes", track->pending.length,
        GST_TIME_ARGS (samples_to_time (self, track->pending_samples)));
    stat_add (self, STAT_REORDER_OVERFLOWS, 1);
    track_release (self, track, TRUE, G_MAXINT64);
    l = NULL;
  }

  remember (track, frame);
  chunk = g_new0 (Chunk, 1);
  chunk->pos = pos;
  chunk->len = len;
  chunk->data = g_bytes_ref (frame->payload);
  chunk->discont = jump;
  if (l == NULL)
    g_queue_push_head (&track->pending, chunk);
  else
    g_queue_insert_after (&track->pending, l, chunk);
  track->pending_samples += len;
  track->newest_end = MAX (track->newest_end, pos + len);

  track_release (self, track, FALSE, G_MININT64);
  balance_tracks (self);
}

static GstCaps *
make_caps (const State * st)
{
  if (st->encoding == COPILOT_EXOTEL_ENCODING_MULAW)
    return gst_caps_new_simple ("audio/x-mulaw",
        "rate", G_TYPE_INT, (gint) st->rate,
        "channels", G_TYPE_INT, (gint) st->channels, NULL);
  return gst_caps_new_simple ("audio/x-raw",
      "format", G_TYPE_STRING, "S16LE",
      "layout", G_TYPE_STRING, "interleaved",
      "rate", G_TYPE_INT, (gint) st->rate,
      "channels", G_TYPE_INT, (gint) st->channels, NULL);
}

static gboolean
is_field_name (const char *name)
{
  if (!g_ascii_isalpha (name[0]))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++) {
    if (!g_ascii_isalnum (*p) && strchr ("-_.:/+", *p) == NULL)
      return FALSE;
  }
  return TRUE;
}

static void
post_element_message (GstExotelSrc * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static GstFlowReturn
handle_start (GstExotelSrc * self, CopilotExotelFrame * frame)
{
  State *st = &self->state;
  GstStructure *custom, *s;
  guint rate = frame->sample_rate;

  if (st->started) {
    reject (self, STAT_DUPLICATE_START, "second start frame");
    return GST_FLOW_OK;
  }
  if (rate == 0) {
    GST_OBJECT_LOCK (self);
    rate = self->settings.sample_rate;
    GST_OBJECT_UNLOCK (self);
    if (rate != 8000 && rate != 16000 && rate != 24000) {
      reject (self, STAT_INVALID_FORMAT, "start frame without sample_rate "
          "and sample-rate property %u unusable", rate);
      return GST_FLOW_OK;
    }
  }

  st->started = TRUE;
  st->encoding = frame->encoding;
  st->rate = rate;
  st->bps = frame->encoding == COPILOT_EXOTEL_ENCODING_MULAW ? 1 : 2;
  st->channels = st->track_mode == GST_EXOTEL_SRC_TRACK_BOTH ? 2 : 1;
  st->caps = make_caps (st);
  g_free (st->stream_sid);
  st->stream_sid = g_strdup (frame->stream_sid);
  g_free (st->call_sid);
  st->call_sid = g_strdup (frame->call_sid);
  g_free (st->account_sid);
  st->account_sid = g_strdup (frame->account_sid);

  GST_INFO_OBJECT (self, "call %s stream %s: %" GST_PTR_FORMAT,
      GST_STR_NULL (frame->call_sid), GST_STR_NULL (frame->stream_sid),
      st->caps);

  if (!gst_base_src_set_caps (GST_BASE_SRC (self), st->caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("Downstream does not accept the call's audio format.")),
        ("caps %" GST_PTR_FORMAT " refused", st->caps));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  custom = gst_structure_new_empty ("custom-parameters");
  for (guint i = 0; frame->custom_parameters != NULL
      && i + 1 < frame->custom_parameters->len; i += 2) {
    const char *key = g_ptr_array_index (frame->custom_parameters, i);

    if (is_field_name (key))
      gst_structure_set (custom, key, G_TYPE_STRING,
          g_ptr_array_index (frame->custom_parameters, i + 1), NULL);
    else
      GST_DEBUG_OBJECT (self, "custom parameter \"%s\" only in JSON", key);
  }

  s = gst_structure_new ("exotel-start",
      "stream-sid", G_TYPE_STRING, frame->stream_sid,
      "call-sid", G_TYPE_STRING, frame->call_sid,
      "account-sid", G_TYPE_STRING, frame->account_sid,
      "from", G_TYPE_STRING, frame->from,
      "to", G_TYPE_STRING, frame->to,
      "custom-parameters", GST_TYPE_STRUCTURE, custom,
      "custom-parameters-json", G_TYPE_STRING, frame->custom_parameters_json,
      "encoding", G_TYPE_STRING, frame->encoding_name,
      "bit-rate", G_TYPE_STRING, frame->bit_rate,
      "sample-rate", G_TYPE_INT, (gint) rate,
      "channels", G_TYPE_INT, (gint) st->channels,
      "caps", GST_TYPE_CAPS, st->caps,
      "sequence-number", G_TYPE_INT64, frame->sequence_number, NULL);
  gst_structure_free (custom);
  post_element_message (self, s);
  return GST_FLOW_OK;
}

static GstFlowReturn
handle_frame (GstExotelSrc * self, CopilotExotelFrame * frame)
{
  State *st = &self->state;
  GstStructure *s;

  GST_LOG_OBJECT (self, "%s frame, sequence %" G_GINT64_FORMAT,
      copilot_exotel_event_to_string (frame->event), frame->sequence_number);

  switch (frame->event) {
    case COPILOT_EXOTEL_EVENT_CONNECTED:
      break;
    case COPILOT_EXOTEL_EVENT_START:
      return handle_start (self, frame);
    case COPILOT_EXOTEL_EVENT_MEDIA:
      handle_media (self, frame);
      break;
    case COPILOT_EXOTEL_EVENT_DTMF:
      s = gst_structure_new ("exotel-dtmf",
          "stream-sid", G_TYPE_STRING, frame->stream_sid,
          "digit", G_TYPE_STRING, frame->digit,
          "duration", G_TYPE_INT64, frame->duration_ms,
          "pts", G_TYPE_UINT64, current_pts (self),
          "sequence-number", G_TYPE_INT64, frame->sequence_number, NULL);
      post_element_message (self, s);
      break;
    case COPILOT_EXOTEL_EVENT_MARK:
      s = gst_structure_new ("exotel-mark",
          "stream-sid", G_TYPE_STRING, frame->stream_sid,
          "name", G_TYPE_STRING, frame->mark_name,
          "pts", G_TYPE_UINT64, current_pts (self),
          "sequence-number", G_TYPE_INT64, frame->sequence_number, NULL);
      post_element_message (self, s);
      break;
    case COPILOT_EXOTEL_EVENT_STOP:
      drain (self);
      s = gst_structure_new ("exotel-stop",
          "stream-sid", G_TYPE_STRING,
          frame->stream_sid ? frame->stream_sid : st->stream_sid,
          "call-sid", G_TYPE_STRING,
          frame->call_sid ? frame->call_sid : st->call_sid,
          "account-sid", G_TYPE_STRING,
          frame->account_sid ? frame->account_sid : st->account_sid,
          "reason", G_TYPE_STRING, frame->reason,
          "pts", G_TYPE_UINT64, current_pts (self),
          "sequence-number", G_TYPE_INT64, frame->sequence_number, NULL);
      post_element_message (self, s);
      break;
  }
  return GST_FLOW_OK;
}

/* ---- Output; streaming thread. ---- */

static void
fill_channel (GstExotelSrc * self, Track * track, guint8 * dest,
    gsize stride, gint64 samples)
{
  State *st = &self->state;
  guint8 silence = st->encoding == COPILOT_EXOTEL_ENCODING_MULAW ? 0xff : 0;

  while (samples > 0) {
    Segment *segment = g_queue_peek_head (&track->segments);
    gint64 n;

    g_assert (segment != NULL);
    n = MIN (samples, segment->len);
    if (segment->data != NULL) {
      const guint8 *src = (const guint8 *) g_bytes_get_data (segment->data,
          NULL) + segment->offset;

      for (gint64 i = 0; i < n; i++)
        memcpy (dest + i * stride, src + i * st->bps, st->bps);
      segment->offset += n * st->bps;
    } else {
      for (gint64 i = 0; i < n; i++)
        memset (dest + i * stride, silence, st->bps);
    }
    dest += n * stride;
    samples -= n;
    segment->len -= n;
    if (segment->len == 0)
      segment_free (g_queue_pop_head (&track->segments));
  }
}

static GstBuffer *
interleave (GstExotelSrc * self, gint64 samples)
{
  State *st = &self->state;
  gsize frame_size = (gsize) st->bps * st->channels;
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, samples * frame_size,
      NULL);
  GstMapInfo map;

  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  for (guint c = 0; c < st->channels; c++)
    fill_channel (self, &st->tracks[c], map.data + c * st->bps, frame_size,
        samples);
  gst_buffer_unmap (buffer, &map);
  return buffer;
}

/* GAP events may only follow the segment event, which GstBaseSrc sends
 * with the first buffer. */
static gboolean
segment_sent (GstExotelSrc * self)
{
  GstEvent *event = gst_pad_get_sticky_event (GST_BASE_SRC_PAD (self),
      GST_EVENT_SEGMENT, 0);

  if (event == NULL)
    return FALSE;
  gst_event_unref (event);
  return TRUE;
}

/* At most @samples, so that a buffer does not run into the next
 * discontinuity. */
static gint64
until_discont (State * st, gint64 samples)
{
  gint64 next;

  if (st->disconts == NULL || st->disconts->len == 0)
    return samples;
  next = g_array_index (st->disconts, gint64, 0);
  return next > st->out_pos ? MIN (samples, next - st->out_pos) : samples;
}

/* Whether the buffer starting at out_pos follows a discontinuity. */
static gboolean
take_discont (State * st)
{
  gboolean found = FALSE;

  while (st->disconts != NULL && st->disconts->len > 0
      && g_array_index (st->disconts, gint64, 0) <= st->out_pos) {
    g_array_remove_index (st->disconts, 0);
    found = TRUE;
  }
  return found;
}

/* Produces the next buffer of released audio, sending GAP events on the way.
 * Returns NULL when nothing is ready. */
static GstBuffer *
produce (GstExotelSrc * self)
{
  State *st = &self->state;
  GstBuffer *buffer = NULL;
  GstExotelSrcGapMode gap_mode;
  gint64 samples, max_silence;
  GstClockTime pts;

  if (!st->started)
    return NULL;

  GST_OBJECT_LOCK (self);
  gap_mode = self->settings.gap_mode;
  GST_OBJECT_UNLOCK (self);
  max_silence = time_to_samples (self, SILENCE_CHUNK);

  while (buffer == NULL) {
    if (st->channels == 2) {
      samples = MIN (st->tracks[0].end, st->tracks[1].end) - st->out_pos;
      if (samples <= 0)
        return NULL;
      samples = until_discont (st, MIN (samples, max_silence));
      buffer = interleave (self, samples);
    } else {
      Segment *segment = g_queue_peek_head (&st->tracks[0].segments);

      if (segment == NULL)
        return NULL;
      if (segment->data != NULL) {
        g_autoptr (GBytes) bytes = NULL;

        samples = segment->len;
        bytes = g_bytes_new_from_bytes (segment->data, segment->offset,
            samples * st->bps);
        buffer = gst_buffer_new_wrapped_bytes (bytes);
        segment_free (g_queue_pop_head (&st->tracks[0].segments));
      } else if (gap_mode == GST_EXOTEL_SRC_GAP_MODE_GAP && segment_sent (self)) {
        GstClockTime start = st->pts_base + samples_to_time (self,
            st->out_pos);
        GstClockTime end = st->pts_base + samples_to_time (self,
            st->out_pos + segment->len);

        GST_DEBUG_OBJECT (self, "gap %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT,
            GST_TIME_ARGS (start), GST_TIME_ARGS (end));
        st->out_pos += segment->len;
        st->discont = TRUE;
        segment_free (g_queue_pop_head (&st->tracks[0].segments));
        gst_pad_push_event (GST_BASE_SRC_PAD (self),
            gst_event_new_gap (start, end - start));
        continue;
      } else {
        samples = until_discont (st, MIN (segment->len, max_silence));
        buffer = interleave (self, samples);
        GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_GAP);
      }
    }
  }

  pts = st->pts_base + samples_to_time (self, st->out_pos);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = st->pts_base +
      samples_to_time (self, st->out_pos + samples) - pts;
  GST_BUFFER_OFFSET (buffer) = st->out_pos;
  GST_BUFFER_OFFSET_END (buffer) = st->out_pos + samples;
  if (take_discont (st))
    st->discont = TRUE;
  if (st->discont) {
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    st->discont = FALSE;
  }
  st->out_pos += samples;
  return buffer;
}

/* ---- Input; streaming thread. ---- */

/* Reads the next line of the capture file into state.line. Lines longer
 * than @max are skipped and reported with *too_long. Returns FALSE at the
 * end of the file or on error. */
static gboolean
read_line (GstExotelSrc * self, gsize max, gboolean * too_long,
    gsize * length, GError ** error)
{
  State *st = &self->state;
  gboolean any = FALSE;

  g_string_truncate (st->line, 0);
  *too_long = FALSE;
  *length = 0;

  for (;;) {
    const guint8 *start, *nl;
    gsize n;

    if (st->rpos == st->rlen) {
      if (st->file_eof)
        return any;
      st->rpos = 0;
      st->rlen = fread (st->rbuf, 1, READ_BUFFER_SIZE, st->file);
      if (st->rlen < READ_BUFFER_SIZE) {
        if (ferror (st->file)) {
          int errsv = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
              "%s", g_strerror (errsv));
          return FALSE;
        }
        st->file_eof = TRUE;
      }
      if (st->rlen == 0)
        return any;
    }

    any = TRUE;
    start = st->rbuf + st->rpos;
    nl = memchr (start, '\n', st->rlen - st->rpos);
    n = nl != NULL ? (gsize) (nl - start) : st->rlen - st->rpos;
    *length += n;
    if (*length > max)
      *too_long = TRUE;
    else
      g_string_append_len (st->line, (const char *) start, n);
    st->rpos += n;
    if (nl != NULL) {
      st->rpos++;
      return TRUE;
    }
  }
}

/* Gets the next valid frame of the capture file, pacing media frames in
 * realtime mode. Returns EOS at the end of the file. */
static GstFlowReturn
next_file_frame (GstExotelSrc * self, CopilotExotelFrame ** out)
{
  State *st = &self->state;
  guint max_frame_size;

  GST_OBJECT_LOCK (self);
  max_frame_size = self->settings.max_frame_size;
  GST_OBJECT_UNLOCK (self);

  for (;;) {
    g_autoptr (GError) error = NULL;
    CopilotExotelFrame *frame;
    gboolean too_long;
    gsize length;

    if (!read_line (self, max_frame_size, &too_long, &length, &error)) {
      if (error != NULL) {
        GST_ELEMENT_ERROR (self, RESOURCE, READ,
            (_("Could not read the Exotel capture file.")),
            ("%s: %s", st->location, error->message));
        return GST_FLOW_ERROR;
      }
      GST_DEBUG_OBJECT (self, "end of %s", st->location);
      return GST_FLOW_EOS;
    }

    if (length > 0 && !too_long && st->line->str[st->line->len - 1] == '\r')
      g_string_truncate (st->line, --length);
    if (length == 0 || (!too_long
            && strspn (st->line->str, " \t") == st->line->len))
      continue;

    if (too_long) {
      stat_add (self, STAT_FRAMES_RECEIVED, 1);
      stat_add (self, STAT_BYTES, length);
      reject (self, STAT_OVERSIZED, "line of %" G_GSIZE_FORMAT " bytes "
          "exceeds max-frame-size %u", length, max_frame_size);
      continue;
    }

    frame = receive_frame (self, st->line->str, st->line->len, max_frame_size);
    if (frame == NULL)
      continue;

    /* A frame after a timestamp jump is placed, and so released, right
     * after the audio before it: the jumped time is not waited for. Late
     * frames (before the base) are not waited for either. */
    if (st->pace == GST_EXOTEL_SRC_PACE_REALTIME
        && frame->event == COPILOT_EXOTEL_EVENT_MEDIA && st->started
        && st->have_base && st->have_base_ms && frame->timestamp_ms >= 0) {
      gint64 samples = g_bytes_get_size (frame->payload) / st->bps;
      gboolean jump;
      gint64 pos = timestamp_to_position (self, frame->timestamp_ms, FALSE,
          &jump);

      if (pos >= 0) {
        GstClockTime target = st->pts_base + samples_to_time (self, pos) +
            samples_to_time (self, MIN (samples, (gint64) st->rate));
        GstFlowReturn ret = wait_until (self, target);

        if (ret != GST_FLOW_OK) {
          copilot_exotel_frame_free (frame);
          return ret;
        }
      }
    }
    *out = frame;
    return GST_FLOW_OK;
  }
}

/* Waits for a pushed frame; unlock() ends the wait with FLUSHING. */
static GstFlowReturn
next_queued_frame (GstExotelSrc * self, CopilotExotelFrame ** out)
{
  g_mutex_lock (&self->lock);
  while (self->queue.length == 0 && !self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    return GST_FLOW_FLUSHING;
  }
  *out = g_queue_pop_head (&self->queue);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_exotel_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (psrc);
  State *st = &self->state;

  for (;;) {
    g_autoptr (CopilotExotelFrame) frame = NULL;
    GstFlowReturn ret;
    GstBuffer *buffer = produce (self);

    if (buffer != NULL) {
      GST_LOG_OBJECT (self, "output %" GST_PTR_FORMAT, buffer);
      *outbuf = buffer;
      return GST_FLOW_OK;
    }
    if (st->eos)
      return GST_FLOW_EOS;

    if (st->file != NULL)
      ret = next_file_frame (self, &frame);
    else
      ret = next_queued_frame (self, &frame);

    if (ret == GST_FLOW_EOS) {
      if (st->started)
        drain (self);
      st->eos = TRUE;
      continue;
    }
    if (ret != GST_FLOW_OK)
      return ret;

    ret = handle_frame (self, frame);
    if (ret != GST_FLOW_OK)
      return ret;
  }
}

/* ---- GstBaseSrc; streaming thread or state changes. ---- */

static gboolean
gst_exotel_src_start (GstBaseSrc * bsrc)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (bsrc);
  State *st = &self->state;

  state_clear (self);
  GST_OBJECT_LOCK (self);
  st->location = g_strdup (self->settings.location);
  st->pace = self->settings.pace;
  st->track_mode = self->settings.track;
  GST_OBJECT_UNLOCK (self);

  if (st->location != NULL) {
    st->file = g_fopen (st->location, "rb");
    if (st->file == NULL) {
      int errsv = errno;

      if (errsv == ENOENT)
        GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
            (_("Exotel capture file \"%s\" not found."), st->location),
            ("%s", g_strerror (errsv)));
      else
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
            (_("Could not open Exotel capture file \"%s\" for reading."),
                st->location), ("%s", g_strerror (errsv)));
      return FALSE;
    }
    st->rbuf = g_malloc (READ_BUFFER_SIZE);
    st->line = g_string_new (NULL);
  }
  GST_DEBUG_OBJECT (self, "started (%s)", st->location != NULL ?
      st->location : "push-frame");
  return TRUE;
}

static gboolean
gst_exotel_src_stop (GstBaseSrc * bsrc)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (bsrc);

  state_clear (self);
  g_mutex_lock (&self->lock);
  g_queue_clear_full (&self->queue, (GDestroyNotify) copilot_exotel_frame_free);
  memset (self->stats, 0, sizeof (self->stats));
  self->warned = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Any thread. */
static gboolean
gst_exotel_src_unlock (GstBaseSrc * bsrc)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (bsrc);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  if (self->clock_id != NULL)
    gst_clock_id_unschedule (self->clock_id);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_exotel_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (bsrc);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Caps are only known once the start frame arrives; until then there is
 * nothing to negotiate. */
static gboolean
gst_exotel_src_negotiate (GstBaseSrc * bsrc)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (bsrc);

  if (self->state.caps == NULL)
    return TRUE;
  return gst_base_src_set_caps (bsrc, self->state.caps);
}

static GstCaps *
gst_exotel_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstCaps *caps = gst_pad_get_current_caps (GST_BASE_SRC_PAD (bsrc));

  if (caps == NULL)
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));
  if (filter != NULL) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

static gboolean
gst_exotel_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (bsrc);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live = gst_base_src_is_live (bsrc);
    GstClockTime min = 0;

    if (live) {
      GST_OBJECT_LOCK (self);
      min = self->settings.reorder_window + FRAME_LATENCY;
      GST_OBJECT_UNLOCK (self);
    }
    gst_query_set_latency (query, live, min, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (gst_exotel_src_parent_class)->query (bsrc, query);
}

/* ---- GObject ---- */

/* A capture replayed fast is not live; anything else is. */
static void
update_live (GstExotelSrc * self)
{
  gboolean live;

  GST_OBJECT_LOCK (self);
  live = self->settings.location == NULL
      || self->settings.pace == GST_EXOTEL_SRC_PACE_REALTIME;
  GST_OBJECT_UNLOCK (self);
  gst_base_src_set_live (GST_BASE_SRC (self), live);
}

static GstStructure *
dup_stats (GstExotelSrc * self)
{
  GstStructure *s = gst_structure_new_empty ("exotelsrc-stats");

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < N_STATS; i++)
    gst_structure_set (s, stat_names[i], G_TYPE_UINT64, self->stats[i], NULL);
  gst_structure_set (s, "queue-level", G_TYPE_UINT64,
      (guint64) self->queue.length, NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

static void
gst_exotel_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (object);
  Settings *settings = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (settings->location);
      settings->location = g_value_dup_string (value);
      break;
    case PROP_PACE:
      settings->pace = g_value_get_enum (value);
      break;
    case PROP_TRACK:
      settings->track = g_value_get_enum (value);
      break;
    case PROP_GAP_MODE:
      settings->gap_mode = g_value_get_enum (value);
      break;
    case PROP_REORDER_WINDOW:
      settings->reorder_window = g_value_get_uint64 (value);
      break;
    case PROP_MAX_QUEUE:
      settings->max_queue = g_value_get_uint (value);
      break;
    case PROP_MAX_FRAME_SIZE:
      settings->max_frame_size = g_value_get_uint (value);
      break;
    case PROP_SAMPLE_RATE:
      settings->sample_rate = g_value_get_uint (value);
      break;
    case PROP_MAX_GAP:
      settings->max_gap = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (prop_id == PROP_LOCATION || prop_id == PROP_PACE)
    update_live (self);
}

static void
gst_exotel_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (object);
  Settings *settings = &self->settings;

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, dup_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, settings->location);
      break;
    case PROP_PACE:
      g_value_set_enum (value, settings->pace);
      break;
    case PROP_TRACK:
      g_value_set_enum (value, settings->track);
      break;
    case PROP_GAP_MODE:
      g_value_set_enum (value, settings->gap_mode);
      break;
    case PROP_REORDER_WINDOW:
      g_value_set_uint64 (value, settings->reorder_window);
      break;
    case PROP_MAX_QUEUE:
      g_value_set_uint (value, settings->max_queue);
      break;
    case PROP_MAX_FRAME_SIZE:
      g_value_set_uint (value, settings->max_frame_size);
      break;
    case PROP_SAMPLE_RATE:
      g_value_set_uint (value, settings->sample_rate);
      break;
    case PROP_MAX_GAP:
      g_value_set_uint64 (value, settings->max_gap);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_exotel_src_finalize (GObject * object)
{
  GstExotelSrc *self = GST_EXOTEL_SRC (object);

  state_clear (self);
  g_queue_clear_full (&self->queue, (GDestroyNotify) copilot_exotel_frame_free);
  g_free (self->settings.location);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (gst_exotel_src_parent_class)->finalize (object);
}

static void
gst_exotel_src_class_init (GstExotelSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (exotel_src_debug, "exotelsrc", 0,
      "Exotel stream source");

  gobject_class->set_property = gst_exotel_src_set_property;
  gobject_class->get_property = gst_exotel_src_get_property;
  gobject_class->finalize = gst_exotel_src_finalize;

  properties[PROP_LOCATION] = g_param_spec_string ("location", "Location",
      "Capture file to replay (one JSON frame per line); unset to take "
      "frames from push-frame", DEFAULT_LOCATION,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_PACE] = g_param_spec_enum ("pace", "Pace",
      "How a location is replayed: following media timestamps against the "
      "clock (live) or as fast as possible (not live)",
      GST_TYPE_EXOTEL_SRC_PACE, DEFAULT_PACE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_TRACK] = g_param_spec_enum ("track", "Track",
      "Media track(s) to output; both gives 2 channels, inbound first",
      GST_TYPE_EXOTEL_SRC_TRACK, DEFAULT_TRACK,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_GAP_MODE] = g_param_spec_enum ("gap-mode", "Gap mode",
      "What to output where audio is missing", GST_TYPE_EXOTEL_SRC_GAP_MODE,
      DEFAULT_GAP_MODE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_REORDER_WINDOW] = g_param_spec_uint64 ("reorder-window",
      "Reorder window",
      "Audio in nanoseconds received after a missing frame before it is "
      "given up and the hole filled", 0, MAX_REORDER_WINDOW,
      DEFAULT_REORDER_WINDOW,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_QUEUE] = g_param_spec_uint ("max-queue", "Max queue",
      "Frames pushed with push-frame that may wait for the streaming thread; "
      "further frames are refused and counted", 1, G_MAXINT,
      DEFAULT_MAX_QUEUE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_FRAME_SIZE] = g_param_spec_uint ("max-frame-size",
      "Max frame size", "Largest frame accepted, in bytes of JSON text",
      MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_SAMPLE_RATE] = g_param_spec_uint ("sample-rate",
      "Sample rate",
      "Sample rate in Hz (8000, 16000 or 24000) used when the start frame "
      "has none; 0 = none", 0, 24000, DEFAULT_SAMPLE_RATE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_MAX_GAP] = g_param_spec_uint64 ("max-gap", "Max gap",
      "Longest hole in nanoseconds filled per gap-mode; a larger forward "
      "timestamp jump is a discontinuity: the audio continues without the "
      "skipped time, on a DISCONT buffer (one day disables)", 0, MAX_MAX_GAP,
      DEFAULT_MAX_GAP,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Frame counters (guint64 fields; durations in nanoseconds) and the "
      "current queue-level; reset when going to READY", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  /**
   * GstExotelSrc::push-frame:
   * @src: the exotelsrc
   * @frame: the text of one Exotel frame (JSON)
   *
   * Queues one frame; see gst_exotel_src_push_frame(). Callable from any
   * thread, never blocks.
   *
   * Returns: %TRUE if the frame was queued
   */
  signals[SIGNAL_PUSH_FRAME] = g_signal_new_class_handler ("push-frame",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (push_frame_action), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Exotel stream source", "Source/Audio/Network",
      "Turns Exotel Stream/Voicebot WebSocket frames (pushed live or "
      "replayed from a capture) into timestamped raw or mu-law audio, with "
      "reordering, gap filling and call events as element messages",
      "Copilot developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_exotel_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_exotel_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_exotel_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_exotel_src_unlock_stop);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_exotel_src_negotiate);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_exotel_src_get_caps);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_exotel_src_query);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_exotel_src_create);

  gst_type_mark_as_plugin_api (GST_TYPE_EXOTEL_SRC_PACE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_EXOTEL_SRC_TRACK, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_EXOTEL_SRC_GAP_MODE, 0);
}

static void
gst_exotel_src_init (GstExotelSrc * self)
{
  self->settings.location = DEFAULT_LOCATION;
  self->settings.pace = DEFAULT_PACE;
  self->settings.track = DEFAULT_TRACK;
  self->settings.gap_mode = DEFAULT_GAP_MODE;
  self->settings.reorder_window = DEFAULT_REORDER_WINDOW;
  self->settings.max_queue = DEFAULT_MAX_QUEUE;
  self->settings.max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->settings.sample_rate = DEFAULT_SAMPLE_RATE;
  self->settings.max_gap = DEFAULT_MAX_GAP;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
  state_clear (self);

  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
}
