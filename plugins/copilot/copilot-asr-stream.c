#include "config.h"

#include <string.h>
#include <time.h>

#include "copilot-asr-stream.h"
#include "copilot-asr-pool.h"

GST_DEBUG_CATEGORY_STATIC (asr_stream_debug);
#define GST_CAT_DEFAULT asr_stream_debug

/* Audio is fed in steps of at most this many samples (250 ms), so that
 * stop() never waits for more than one step of decoding. */
#define STEP_SAMPLES (COPILOT_ASR_ENGINE_RATE / 4)

#define SAMPLES_TO_TIME(n) \
  gst_util_uint64_scale_int ((n), GST_SECOND, COPILOT_ASR_ENGINE_RATE)

typedef struct
{
  guint64 index;
  GstClockTime start;
  GstClockTime end;
  GArray *pending;              /* gint16 samples not fed yet */
  guint64 n_samples;            /* appended so far */
  guint64 fed;                  /* fed to the decoder so far */
  gboolean started;             /* the decoder has begun it */
  gboolean ended;               /* no more audio will come */
  gboolean cancelled;           /* decode nothing, report nothing */
  gint64 ended_at;              /* monotonic µs */
} Utterance;

struct _CopilotAsrStream
{
  gatomicrefcount ref;

  /* Immutable after construction. */
  CopilotAsrConfig *config;
  GstClockTime partial_interval;
  gsize max_backlog;            /* samples */
  CopilotAsrResultFunc result_func;
  CopilotAsrErrorFunc error_func;
  gpointer user_data;

  /* Everything below is protected by lock.  Lock order: the pool's lock is
   * never taken with this one held, and vice versa. */
  GMutex lock;
  GCond cond;
  GQueue utterances;            /* Utterance; head is decoded next */
  Utterance *open;              /* receiving audio, also in utterances */
  guint64 next_index;
  gsize backlog;                /* samples queued and not fed */
  CopilotAsrEngine *engine;     /* borrowed from the pool */
  gboolean slot;                /* the pool reserved a slot for us */
  gboolean waiting;             /* queued in the pool */
  gboolean scheduled;           /* a job is queued or running */
  gboolean running;             /* a job is running */
  gboolean stopping;
  gboolean flushing;
  gboolean failed;
  char *last_partial;
  gint64 last_partial_time;     /* monotonic µs */
  GBytes *channel_state;        /* engine's channel adaptation, see
                                 * copilot_asr_engine_get_channel_state() */
  gboolean narrowband;          /* audio upsampled from 8 kHz */
  CopilotAsrStreamStats stats;
};

static void
utterance_free (Utterance * u)
{
  g_array_unref (u->pending);
  g_free (u);
}

static double
thread_cpu_seconds (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0.0;
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

CopilotAsrStream *
copilot_asr_stream_ref (CopilotAsrStream * self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
copilot_asr_stream_unref (CopilotAsrStream * self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  g_queue_clear_full (&self->utterances, (GDestroyNotify) utterance_free);
  g_clear_object (&self->engine);
  g_free (self->last_partial);
  g_clear_pointer (&self->channel_state, g_bytes_unref);
  copilot_asr_config_free (self->config);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

static void stream_job (gpointer data, gpointer unused);

/* Called with the lock held. */
static void
schedule (CopilotAsrStream * self)
{
  if (self->scheduled || self->waiting || self->stopping || self->failed)
    return;
  self->scheduled = TRUE;
  copilot_asr_pool_push_work (stream_job, copilot_asr_stream_ref (self));
}

/* Called by the pool from the thread that released a decoder or a slot. */
static void
grant_cb (CopilotAsrEngine * engine, gpointer user_data)
{
  CopilotAsrStream *self = user_data;

  g_mutex_lock (&self->lock);
  self->waiting = FALSE;
  if (self->stopping) {
    g_mutex_unlock (&self->lock);
    if (engine)
      copilot_asr_pool_release (self->config, engine);
    else
      copilot_asr_pool_release_slot ();
    return;
  }
  GST_DEBUG ("stream %p granted %s", self, engine ? "a decoder" : "a slot");
  if (engine)
    self->engine = engine;
  else
    self->slot = TRUE;
  g_cond_broadcast (&self->cond);
  schedule (self);
  g_mutex_unlock (&self->lock);
}

/* Called with the lock held; drops it around the callback. */
static void
report (CopilotAsrStream * self, const CopilotAsrResult * result)
{
  g_mutex_unlock (&self->lock);
  self->result_func (result, self->user_data);
  g_mutex_lock (&self->lock);
}

/* Called with the lock held: whether a job would find something to do,
 * so that the job may only end when this is FALSE (see stream_job()). */
static gboolean
has_work (CopilotAsrStream * self)
{
  Utterance *u = g_queue_peek_head (&self->utterances);

  if (self->stopping || self->failed)
    return FALSE;
  /* A decoder granted while no utterance needs it must go back. */
  if (self->engine != NULL && (u == NULL || !u->started))
    return TRUE;
  if (u == NULL || (!u->ended && u->pending->len == 0))
    return FALSE;
  /* Queued in the pool: grant_cb() schedules a job. */
  return self->engine != NULL || self->slot || !self->waiting;
}

/* One pass of the decoding loop.  Called with the lock held, drops it
 * around decoding and callbacks, returns with it held. */
static void
decode (CopilotAsrStream * self)
{
  g_autoptr (GError) error = NULL;
  CopilotAsrEngine *broken = NULL, *idle = NULL;

  while (!self->stopping && !self->failed) {
    Utterance *u = g_queue_peek_head (&self->utterances);

    if (u == NULL)
      break;

    /* Nothing to decode: no audio, or a flushed utterance. */
    if (u->ended && (u->cancelled || (!u->started && u->pending->len == 0))) {
      self->backlog -= u->pending->len;
      utterance_free (g_queue_pop_head (&self->utterances));
      g_cond_broadcast (&self->cond);
      continue;
    }
    if (!u->ended && u->pending->len == 0)
      break;

    if (self->engine == NULL) {
      CopilotAsrEngine *engine;
      gboolean have_slot = self->slot;

      if (self->waiting)
        break;
      self->slot = FALSE;
      /* Set before asking: the grant may come before acquire() returns. */
      self->waiting = TRUE;
      g_mutex_unlock (&self->lock);
      engine = copilot_asr_pool_acquire (self->config, have_slot, grant_cb,
          copilot_asr_stream_ref (self),
          (GDestroyNotify) copilot_asr_stream_unref, &error);
      g_mutex_lock (&self->lock);
      if (engine) {
        self->waiting = FALSE;
        self->engine = engine;
      } else if (error) {
        self->waiting = FALSE;
        self->failed = TRUE;
      }
      continue;
    }

    if (!u->started) {
      gboolean ok;

      g_autoptr (GBytes) state = self->channel_state ?
          g_bytes_ref (self->channel_state) : NULL;
      gboolean narrowband = self->narrowband;

      g_mutex_unlock (&self->lock);
      copilot_asr_engine_set_channel_state (self->engine, state, narrowband);
      ok = copilot_asr_engine_start_utterance (self->engine, &error);
      g_mutex_lock (&self->lock);
      if (!ok) {
        self->failed = TRUE;
        broken = g_steal_pointer (&self->engine);
        break;
      }
      u->started = TRUE;
      g_clear_pointer (&self->last_partial, g_free);
      self->last_partial_time = g_get_monotonic_time ();
      continue;
    }

    if (u->pending->len > 0) {
      gsize n = MIN (u->pending->len, STEP_SAMPLES);
      g_autofree gint16 *step = g_memdup2 (u->pending->data, n * 2);
      g_autofree char *partial = NULL;
      gboolean want_partial, ok;
      double cpu;
      gint64 wall, now;

      g_array_remove_range (u->pending, 0, n);
      self->backlog -= n;
      g_cond_broadcast (&self->cond);
      now = g_get_monotonic_time ();
      want_partial = GST_CLOCK_TIME_IS_VALID (self->partial_interval)
          && (now - self->last_partial_time) * 1000 >=
          (gint64) self->partial_interval;

      g_mutex_unlock (&self->lock);
      cpu = thread_cpu_seconds ();
      wall = g_get_monotonic_time ();
      ok = copilot_asr_engine_process (self->engine, step, n, &error);
      if (ok && want_partial)
        partial = copilot_asr_engine_get_partial (self->engine);
      cpu = thread_cpu_seconds () - cpu;
      wall = g_get_monotonic_time () - wall;
      g_mutex_lock (&self->lock);

      self->stats.cpu_seconds += cpu;
      self->stats.wall_seconds += wall / 1e6;
      self->stats.audio_seconds += (double) n / COPILOT_ASR_ENGINE_RATE;
      u->fed += n;
      if (!ok) {
        self->failed = TRUE;
        broken = g_steal_pointer (&self->engine);
        break;
      }
      if (want_partial) {
        self->last_partial_time = g_get_monotonic_time ();
        if (partial && g_strcmp0 (partial, self->last_partial) != 0
            && !u->cancelled) {
          CopilotAsrResult r = { u->index, u->start,
            u->start + SAMPLES_TO_TIME (u->fed), partial, 0.0, FALSE, 0,
          };

          g_free (self->last_partial);
          self->last_partial = g_strdup (partial);
          self->stats.partials++;
          report (self, &r);
        }
      }
      continue;
    }

    /* Ended and fully fed: the final. */
    {
      g_autofree char *text = NULL;
      g_autoptr (GBytes) state = NULL;
      CopilotAsrEngine *engine;
      double confidence = 0.0, cpu;
      gboolean ok;
      gint64 wall;

      g_mutex_unlock (&self->lock);
      cpu = thread_cpu_seconds ();
      wall = g_get_monotonic_time ();
      ok = copilot_asr_engine_end_utterance (self->engine, &text,
          &confidence, &error);
      state = ok ? copilot_asr_engine_get_channel_state (self->engine) : NULL;
      cpu = thread_cpu_seconds () - cpu;
      wall = g_get_monotonic_time () - wall;
      g_mutex_lock (&self->lock);

      self->stats.cpu_seconds += cpu;
      self->stats.wall_seconds += wall / 1e6;
      if (state != NULL) {
        g_clear_pointer (&self->channel_state, g_bytes_unref);
        self->channel_state = g_steal_pointer (&state);
      }
      g_queue_pop_head (&self->utterances);
      engine = g_steal_pointer (&self->engine);
      if (!ok) {
        utterance_free (u);
        self->failed = TRUE;
        broken = engine;
        break;
      }

      /* Give the decoder back first: another stream may be waiting. */
      g_mutex_unlock (&self->lock);
      copilot_asr_pool_release (self->config, engine);
      g_mutex_lock (&self->lock);

      if (!u->cancelled && text[0] != '\0' && !self->stopping) {
        GstClockTimeDiff latency =
            (g_get_monotonic_time () - u->ended_at) * 1000;
        CopilotAsrResult r = { u->index, u->start, u->end, text, confidence,
          TRUE, latency,
        };

        self->stats.finals++;
        self->stats.max_delay = MAX (self->stats.max_delay,
            (GstClockTime) MAX (latency, 0));
        report (self, &r);
      } else {
        GST_DEBUG ("utterance %" G_GUINT64_FORMAT " gave no final", u->index);
      }
      utterance_free (u);
      g_cond_broadcast (&self->cond);
    }
  }

  /* Keep the decoder only inside an utterance it has begun. */
  if (self->engine != NULL && !self->stopping) {
    Utterance *head = g_queue_peek_head (&self->utterances);

    if (head == NULL || !head->started)
      idle = g_steal_pointer (&self->engine);
  }
  g_mutex_unlock (&self->lock);
  if (idle)
    copilot_asr_pool_release (self->config, idle);
  if (broken) {
    /* A decoder that failed is not trusted again; its slot is freed. */
    g_object_unref (broken);
    copilot_asr_pool_release_slot ();
  }
  if (error) {
    GST_WARNING ("stream %p: %s", self, error->message);
    self->error_func (error, self->user_data);
  }
  g_mutex_lock (&self->lock);
}

/* The decoding job, on a pool worker; one per stream at a time. */
static void
stream_job (gpointer data, gpointer unused)
{
  CopilotAsrStream *self = data;

  g_mutex_lock (&self->lock);
  if (self->stopping) {
    self->scheduled = FALSE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    copilot_asr_stream_unref (self);
    return;
  }
  self->running = TRUE;
  /* While scheduled is set, schedule() does nothing: push(), end() or
   * grant_cb() may have added work while decode() had the lock dropped.
   * Deciding to end and clearing scheduled under one hold of the lock
   * loses no wake-up. */
  do
    decode (self);
  while (has_work (self));
  self->running = FALSE;
  self->scheduled = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  copilot_asr_stream_unref (self);
}

/**
 * copilot_asr_stream_new:
 * @config: the decoder configuration
 * @partial_interval: minimum wall-clock time between two partial results,
 *   or %GST_CLOCK_TIME_NONE for no partials
 * @max_backlog: audio that may wait for decoding before
 *   copilot_asr_stream_push() blocks or drops
 * @result_func: receives partials and finals, from a worker thread
 * @error_func: receives a fatal decoding error, from a worker thread
 * @user_data: for both callbacks; must stay valid until
 *   copilot_asr_stream_stop() returns
 *
 * Returns: (transfer full): a new stream
 */
CopilotAsrStream *
copilot_asr_stream_new (const CopilotAsrConfig * config,
    GstClockTime partial_interval, GstClockTime max_backlog,
    CopilotAsrResultFunc result_func, CopilotAsrErrorFunc error_func,
    gpointer user_data)
{
  CopilotAsrStream *self = g_new0 (CopilotAsrStream, 1);
  static gsize debug_init = 0;

  if (g_once_init_enter (&debug_init)) {
    GST_DEBUG_CATEGORY_INIT (asr_stream_debug, "asrsink-stream", 0,
        "speech decoding scheduler");
    g_once_init_leave (&debug_init, 1);
  }
  g_atomic_ref_count_init (&self->ref);
  self->config = copilot_asr_config_copy (config);
  self->partial_interval = partial_interval;
  self->max_backlog = MAX (STEP_SAMPLES,
      gst_util_uint64_scale (max_backlog, COPILOT_ASR_ENGINE_RATE, GST_SECOND));
  self->result_func = result_func;
  self->error_func = error_func;
  self->user_data = user_data;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->utterances);
  return self;
}

/**
 * copilot_asr_stream_stop:
 * @self: a stream
 *
 * Drops every pending utterance without results, waits for the running
 * decoding step (at most STEP_SAMPLES of audio) and returns the decoder.
 * No callback runs after this returns.  Must not be called from a
 * callback.
 */
void
copilot_asr_stream_stop (CopilotAsrStream * self)
{
  CopilotAsrEngine *engine;
  gboolean slot, waiting;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  while (self->running)
    g_cond_wait (&self->cond, &self->lock);
  engine = g_steal_pointer (&self->engine);
  slot = self->slot;
  self->slot = FALSE;
  waiting = self->waiting;
  g_queue_clear_full (&self->utterances, (GDestroyNotify) utterance_free);
  self->open = NULL;
  self->backlog = 0;
  g_mutex_unlock (&self->lock);

  /* If the grant raced with us, grant_cb() gives the decoder back. */
  if (waiting)
    copilot_asr_pool_cancel (self);
  if (engine)
    copilot_asr_pool_release (self->config, engine);
  if (slot)
    copilot_asr_pool_release_slot ();
}

/**
 * copilot_asr_stream_begin:
 * @self: a stream
 * @start: running time of the utterance start
 *
 * Opens an utterance; an open one is ended first.  Streaming thread.
 */
void
copilot_asr_stream_begin (CopilotAsrStream * self, GstClockTime start)
{
  Utterance *u = g_new0 (Utterance, 1);

  copilot_asr_stream_end (self, start);
  u->start = start;
  u->end = GST_CLOCK_TIME_NONE;
  u->pending = g_array_new (FALSE, FALSE, sizeof (gint16));
  g_mutex_lock (&self->lock);
  u->index = self->next_index++;
  self->open = u;
  g_queue_push_tail (&self->utterances, u);
  self->stats.utterances++;
  g_mutex_unlock (&self->lock);
}

gboolean
copilot_asr_stream_in_utterance (CopilotAsrStream * self)
{
  gboolean ret;

  g_mutex_lock (&self->lock);
  ret = self->open != NULL;
  g_mutex_unlock (&self->lock);
  return ret;
}

/* The audio appended to the open utterance, 0 if none is open. */
GstClockTime
copilot_asr_stream_utterance_duration (CopilotAsrStream * self)
{
  GstClockTime ret;

  g_mutex_lock (&self->lock);
  ret = self->open ? SAMPLES_TO_TIME (self->open->n_samples) : 0;
  g_mutex_unlock (&self->lock);
  return ret;
}

/**
 * copilot_asr_stream_push:
 * @self: a stream
 * @samples: 16 kHz S16 samples for the open utterance
 * @n_samples: their number
 * @block: never drop: wait, while this stream is being decoded, for the
 *   backlog to fall below the maximum
 * @dropped: (out): samples dropped because of the backlog
 *
 * Streaming thread.  Audio that finds the backlog empty is always queued.
 * Never waits for other streams: with @block, a stream queued for a
 * decoder queues the audio beyond the maximum instead; without, what
 * exceeds the backlog is dropped.
 *
 * Returns: %GST_FLOW_OK, %GST_FLOW_FLUSHING when interrupted, or
 *   %GST_FLOW_ERROR after a decoding error (already reported)
 */
GstFlowReturn
copilot_asr_stream_push (CopilotAsrStream * self, const gint16 * samples,
    gsize n_samples, gboolean block, gsize * dropped)
{
  GstFlowReturn ret = GST_FLOW_OK;

  *dropped = 0;
  g_mutex_lock (&self->lock);
  /* An empty backlog always takes the buffer, however large: waiting for
   * room that can never come would block for ever. */
  while (block && self->backlog > 0
      && self->backlog + n_samples > self->max_backlog
      && (self->engine != NULL || self->scheduled) && !self->waiting
      && !self->flushing && !self->stopping && !self->failed)
    g_cond_wait (&self->cond, &self->lock);
  if (self->failed) {
    ret = GST_FLOW_ERROR;
  } else if (self->flushing || self->stopping) {
    ret = GST_FLOW_FLUSHING;
  } else if (self->open == NULL) {
    /* Nothing to attach the audio to. */
  } else if (!block && self->backlog > 0
      && self->backlog + n_samples > self->max_backlog) {
    *dropped = n_samples;
    self->stats.dropped_seconds += (double) n_samples / COPILOT_ASR_ENGINE_RATE;
  } else {
    g_array_append_vals (self->open->pending, samples, n_samples);
    self->open->n_samples += n_samples;
    self->backlog += n_samples;
    schedule (self);
  }
  g_mutex_unlock (&self->lock);
  return ret;
}

/**
 * copilot_asr_stream_end:
 * @self: a stream
 * @end: running time of the utterance end
 *
 * Closes the open utterance, if any: its final follows once decoded.
 */
void
copilot_asr_stream_end (CopilotAsrStream * self, GstClockTime end)
{
  g_mutex_lock (&self->lock);
  if (self->open) {
    self->open->ended = TRUE;
    self->open->end = end;
    self->open->ended_at = g_get_monotonic_time ();
    self->open = NULL;
    schedule (self);
  }
  g_mutex_unlock (&self->lock);
}

/* Drops the open utterance without a final (flush). */
void
copilot_asr_stream_cancel (CopilotAsrStream * self)
{
  g_mutex_lock (&self->lock);
  if (self->open) {
    self->open->ended = TRUE;
    self->open->cancelled = TRUE;
    self->open = NULL;
    schedule (self);
  }
  g_mutex_unlock (&self->lock);
}

/**
 * copilot_asr_stream_drain:
 * @self: a stream
 *
 * Waits until every closed utterance has been decoded and reported.
 * Interrupted by copilot_asr_stream_set_flushing() and stop().
 *
 * Returns: %TRUE if everything was decoded
 */
gboolean
copilot_asr_stream_drain (CopilotAsrStream * self)
{
  gboolean ret;

  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->utterances) && self->open == NULL
      && !self->flushing && !self->stopping && !self->failed)
    g_cond_wait (&self->cond, &self->lock);
  ret = g_queue_is_empty (&self->utterances);
  g_mutex_unlock (&self->lock);
  return ret;
}

void
copilot_asr_stream_set_flushing (CopilotAsrStream * self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
copilot_asr_stream_get_stats (CopilotAsrStream * self,
    CopilotAsrStreamStats * stats)
{
  g_mutex_lock (&self->lock);
  *stats = self->stats;
  stats->backlog = SAMPLES_TO_TIME (self->backlog);
  g_mutex_unlock (&self->lock);
}

/**
 * copilot_asr_stream_set_narrowband:
 * @self: a stream
 * @narrowband: whether the audio is upsampled from telephone bandwidth
 *
 * Tells the engine what kind of channel a stream with no history is.  A
 * change forgets what was learnt about the previous channel.  Called from
 * the streaming thread (caps).
 */
void
copilot_asr_stream_set_narrowband (CopilotAsrStream * self, gboolean narrowband)
{
  g_mutex_lock (&self->lock);
  if (self->narrowband != narrowband) {
    self->narrowband = narrowband;
    g_clear_pointer (&self->channel_state, g_bytes_unref);
  }
  g_mutex_unlock (&self->lock);
}
