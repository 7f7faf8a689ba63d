/* CopilotAsrPool: the process-wide, bounded pool of speech decoders.
 *
 * Decoders are expensive (~100 MB and a second to load for pocketsphinx),
 * so every asrsink in the process shares at most "max-decoders" of them.
 * They are created lazily, kept idle per configuration once released, and
 * handed out first come, first served: a request that cannot be served at
 * once is queued and granted later through its CopilotAsrPoolGrantFunc.
 *
 * Locking: the pool's mutex is never held while calling back into a
 * requester, and requesters must not hold their own locks while calling
 * into the pool. */
#pragma once

#include "copilot-asr-engine.h"

G_BEGIN_DECLS

/**
 * CopilotAsrPoolGrantFunc:
 * @engine: (transfer full) (nullable): the granted decoder, or %NULL when
 *   a slot was reserved for the requester, which must then call
 *   copilot_asr_pool_acquire() again with @have_slot %TRUE to create one
 * @user_data: the requester
 *
 * Called from whichever thread released a decoder or a slot.
 */
typedef void (*CopilotAsrPoolGrantFunc) (CopilotAsrEngine * engine,
    gpointer user_data);

void copilot_asr_pool_set_max_decoders (guint max_decoders);
guint copilot_asr_pool_get_max_decoders (void);
guint copilot_asr_pool_get_n_decoders (void);

G_GNUC_WARN_UNUSED_RESULT
CopilotAsrEngine *copilot_asr_pool_acquire (const CopilotAsrConfig * config,
    gboolean have_slot, CopilotAsrPoolGrantFunc grant, gpointer user_data,
    GDestroyNotify destroy, GError ** error);
void copilot_asr_pool_release (const CopilotAsrConfig * config,
    CopilotAsrEngine * engine);
void copilot_asr_pool_release_slot (void);
gboolean copilot_asr_pool_cancel (gpointer user_data);

void copilot_asr_pool_push_work (GFunc func, gpointer data);
void copilot_asr_pool_prewarm (const CopilotAsrConfig * config);

G_END_DECLS
