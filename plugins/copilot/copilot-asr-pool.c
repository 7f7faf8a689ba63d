#include "config.h"

#include <gst/gst.h>

#include "copilot-asr-pool.h"

GST_DEBUG_CATEGORY_STATIC (asr_pool_debug);
#define GST_CAT_DEFAULT asr_pool_debug

typedef struct
{
  char *key;
  CopilotAsrPoolGrantFunc grant;
  gpointer user_data;
  GDestroyNotify destroy;
} Waiter;

typedef struct
{
  GMutex lock;
  guint max_decoders;
  guint n_decoders;             /* created, being created or reserved */
  GHashTable *idle;             /* config key → GQueue of CopilotAsrEngine */
  GQueue waiters;               /* Waiter, FIFO */
} Pool;

static void
waiter_free (Waiter * w)
{
  if (w->destroy)
    w->destroy (w->user_data);
  g_free (w->key);
  g_free (w);
}

static void
idle_queue_free (gpointer data)
{
  g_queue_free_full (data, g_object_unref);
}

static guint
default_max_decoders (void)
{
  const char *env = g_getenv ("COPILOT_ASR_DECODERS");
  guint64 n;

  if (env && g_ascii_string_to_unsigned (env, 10, 1, 1024, &n, NULL))
    return n;
  return MAX (1, g_get_num_processors ());
}

/* The pool lives for the whole process, like the decoders' models. */
static Pool *
get_pool (void)
{
  static Pool *pool = NULL;

  if (g_once_init_enter (&pool)) {
    Pool *p = g_new0 (Pool, 1);

    GST_DEBUG_CATEGORY_INIT (asr_pool_debug, "asrsink-pool", 0,
        "speech decoder pool");
    g_mutex_init (&p->lock);
    p->max_decoders = default_max_decoders ();
    p->idle = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        idle_queue_free);
    g_queue_init (&p->waiters);
    g_once_init_leave (&pool, p);
  }
  return pool;
}

typedef struct
{
  GFunc func;
  gpointer data;
} Work;

static void
run_work (gpointer data, gpointer user_data)
{
  Work *w = data;

  w->func (w->data, NULL);
  g_free (w);
}

/**
 * copilot_asr_pool_push_work:
 * @func: the job
 * @data: its argument
 *
 * Runs @func on one of the pool's decoding threads.
 */
void
copilot_asr_pool_push_work (GFunc func, gpointer data)
{
  static GThreadPool *workers = NULL;
  Work *w = g_new0 (Work, 1);

  /* Shared, unbounded threads: concurrency is bounded by the number of
   * decoders, since only a stream holding one has real work to do. */
  if (g_once_init_enter (&workers)) {
    GThreadPool *t = g_thread_pool_new (run_work, NULL, -1, FALSE, NULL);

    g_once_init_leave (&workers, t);
  }
  w->func = func;
  w->data = data;
  g_thread_pool_push (workers, w, NULL);
}

void
copilot_asr_pool_set_max_decoders (guint max_decoders)
{
  Pool *p = get_pool ();
  GQueue granted = G_QUEUE_INIT;
  Waiter *w;

  g_mutex_lock (&p->lock);
  p->max_decoders = MAX (1, max_decoders);
  /* A larger pool lets queued requests create decoders now. */
  while (p->n_decoders < p->max_decoders
      && (w = g_queue_pop_head (&p->waiters)) != NULL) {
    p->n_decoders++;
    g_queue_push_tail (&granted, w);
  }
  g_mutex_unlock (&p->lock);
  while ((w = g_queue_pop_head (&granted)) != NULL) {
    w->grant (NULL, w->user_data);
    waiter_free (w);
  }
}

guint
copilot_asr_pool_get_max_decoders (void)
{
  Pool *p = get_pool ();
  guint n;

  g_mutex_lock (&p->lock);
  n = p->max_decoders;
  g_mutex_unlock (&p->lock);
  return n;
}

guint
copilot_asr_pool_get_n_decoders (void)
{
  Pool *p = get_pool ();
  guint n;

  g_mutex_lock (&p->lock);
  n = p->n_decoders;
  g_mutex_unlock (&p->lock);
  return n;
}

/* Called with the lock held: an idle decoder of another configuration
 * that may be destroyed to make room, or NULL. */
static CopilotAsrEngine *
steal_idle_other (Pool * p, const char *key)
{
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, p->idle);
  while (g_hash_table_iter_next (&iter, &k, &v)) {
    if (!g_str_equal (k, key) && !g_queue_is_empty (v))
      return g_queue_pop_head (v);
  }
  return NULL;
}

/* Gives a freed slot (no decoder) to the first waiter, or returns it to
 * the pool. */
static void
slot_freed (Pool * p)
{
  Waiter *w;

  g_mutex_lock (&p->lock);
  if (p->n_decoders > p->max_decoders) {
    p->n_decoders--;
    w = NULL;
  } else {
    w = g_queue_pop_head (&p->waiters);
    if (w == NULL)
      p->n_decoders--;
  }
  g_mutex_unlock (&p->lock);
  if (w) {
    GST_DEBUG ("slot handed to waiter %p", w->user_data);
    w->grant (NULL, w->user_data);
    waiter_free (w);
  }
}

/**
 * copilot_asr_pool_acquire:
 * @config: the configuration the decoder must have
 * @have_slot: %TRUE when a grant with a %NULL engine reserved a slot
 * @grant: called later if the request has to wait
 * @user_data: passed to @grant, and the handle for copilot_asr_pool_cancel()
 * @destroy: frees @user_data once the waiter is done with
 * @error: return location for an error
 *
 * Returns an idle decoder, creates one (slowly, on the calling thread) if
 * the pool has room, or queues the request.  Call it from a worker thread.
 *
 * Returns: (transfer full) (nullable): a decoder; %NULL with @error set if
 *   creating one failed, %NULL without error if the request was queued
 */
CopilotAsrEngine *
copilot_asr_pool_acquire (const CopilotAsrConfig * config,
    gboolean have_slot, CopilotAsrPoolGrantFunc grant, gpointer user_data,
    GDestroyNotify destroy, GError ** error)
{
  Pool *p = get_pool ();
  g_autofree char *key = copilot_asr_config_to_key (config);
  g_autoptr (CopilotAsrEngine) victim = NULL;
  CopilotAsrEngine *engine = NULL;
  GQueue *idle;

  g_mutex_lock (&p->lock);
  if (!have_slot) {
    idle = g_hash_table_lookup (p->idle, key);
    if (idle && !g_queue_is_empty (idle)) {
      engine = g_queue_pop_head (idle);
      g_mutex_unlock (&p->lock);
      if (destroy)
        destroy (user_data);
      return engine;
    }
    if (p->n_decoders < p->max_decoders && g_queue_is_empty (&p->waiters)) {
      p->n_decoders++;
    } else if (g_queue_is_empty (&p->waiters)
        && (victim = steal_idle_other (p, key)) != NULL) {
      /* The slot of the idle decoder is reused for the new one. */
    } else {
      Waiter *w = g_new0 (Waiter, 1);

      w->key = g_steal_pointer (&key);
      w->grant = grant;
      w->user_data = user_data;
      w->destroy = destroy;
      g_queue_push_tail (&p->waiters, w);
      GST_DEBUG ("request %p queued (%u waiting, %u/%u decoders)", user_data,
          g_queue_get_length (&p->waiters), p->n_decoders, p->max_decoders);
      g_mutex_unlock (&p->lock);
      return NULL;
    }
  }
  g_mutex_unlock (&p->lock);

  if (destroy)
    destroy (user_data);
  g_clear_object (&victim);
  GST_INFO ("creating a decoder for request %p", user_data);
  engine = copilot_asr_engine_new (config, error);
  if (engine == NULL)
    slot_freed (p);
  return engine;
}

/**
 * copilot_asr_pool_release:
 * @config: the configuration @engine was created with
 * @engine: (transfer full): a decoder from copilot_asr_pool_acquire()
 *
 * Hands @engine to the first waiter, or keeps it idle.
 */
void
copilot_asr_pool_release (const CopilotAsrConfig * config,
    CopilotAsrEngine * engine)
{
  Pool *p = get_pool ();
  g_autofree char *key = copilot_asr_config_to_key (config);
  Waiter *w = NULL;
  GQueue *idle;

  g_mutex_lock (&p->lock);
  if (p->n_decoders > p->max_decoders) {
    /* The pool was shrunk. */
    p->n_decoders--;
    g_mutex_unlock (&p->lock);
    g_object_unref (engine);
    return;
  }
  w = g_queue_pop_head (&p->waiters);
  if (w == NULL) {
    idle = g_hash_table_lookup (p->idle, key);
    if (idle == NULL) {
      idle = g_queue_new ();
      g_hash_table_insert (p->idle, g_steal_pointer (&key), idle);
    }
    /* Most recently used first: a stream often gets its decoder back. */
    g_queue_push_head (idle, engine);
    g_mutex_unlock (&p->lock);
    return;
  }
  g_mutex_unlock (&p->lock);

  if (g_str_equal (w->key, key)) {
    w->grant (engine, w->user_data);
  } else {
    /* The waiter needs another configuration: this decoder's slot is its. */
    g_object_unref (engine);
    w->grant (NULL, w->user_data);
  }
  waiter_free (w);
}

/**
 * copilot_asr_pool_release_slot:
 *
 * Gives back a slot reserved by a grant with a %NULL engine without
 * creating a decoder.
 */
void
copilot_asr_pool_release_slot (void)
{
  slot_freed (get_pool ());
}

/**
 * copilot_asr_pool_cancel:
 * @user_data: the requester passed to copilot_asr_pool_acquire()
 *
 * Removes a queued request.
 *
 * Returns: %TRUE if it was still queued (its destroy notify has run);
 *   %FALSE if it was granted meanwhile or never queued
 */
gboolean
copilot_asr_pool_cancel (gpointer user_data)
{
  Pool *p = get_pool ();
  Waiter *found = NULL;

  g_mutex_lock (&p->lock);
  for (GList * l = p->waiters.head; l != NULL; l = l->next) {
    Waiter *w = l->data;

    if (w->user_data == user_data) {
      found = w;
      g_queue_delete_link (&p->waiters, l);
      break;
    }
  }
  g_mutex_unlock (&p->lock);
  if (found)
    waiter_free (found);
  return found != NULL;
}

/* Worker thread. */
static void
prewarm_work (gpointer data, gpointer user_data)
{
  g_autoptr (CopilotAsrConfig) config = data;
  g_autofree char *key = copilot_asr_config_to_key (config);
  g_autoptr (GError) error = NULL;
  Pool *p = get_pool ();
  CopilotAsrEngine *engine;
  GQueue *idle;
  gboolean create;

  g_mutex_lock (&p->lock);
  idle = g_hash_table_lookup (p->idle, key);
  create = (idle == NULL || g_queue_is_empty (idle))
      && p->n_decoders < p->max_decoders && g_queue_is_empty (&p->waiters);
  if (create)
    p->n_decoders++;
  g_mutex_unlock (&p->lock);
  if (!create)
    return;

  GST_INFO ("creating a decoder ahead of use");
  engine = copilot_asr_engine_new (config, &error);
  if (engine == NULL) {
    /* The first real request fails the same way and reports it. */
    GST_INFO ("could not create a decoder ahead of use: %s", error->message);
    slot_freed (p);
    return;
  }
  copilot_asr_pool_release (config, engine);
}

/**
 * copilot_asr_pool_prewarm:
 * @config: a configuration about to be used
 *
 * Creates, on a worker thread, one decoder for @config if none is idle and
 * the pool has room, so that the first utterance of a stream does not wait
 * seconds for a model to load.  Returns at once.
 */
void
copilot_asr_pool_prewarm (const CopilotAsrConfig * config)
{
  copilot_asr_pool_push_work (prewarm_work, copilot_asr_config_copy (config));
}
