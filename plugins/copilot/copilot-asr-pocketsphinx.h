/* CopilotAsrPocketsphinx: the embedded CMU pocketsphinx engine. */
#pragma once

#include "copilot-asr-engine.h"

G_BEGIN_DECLS

#define COPILOT_TYPE_ASR_POCKETSPHINX (copilot_asr_pocketsphinx_get_type ())
G_DECLARE_FINAL_TYPE (CopilotAsrPocketsphinx, copilot_asr_pocketsphinx,
    COPILOT, ASR_POCKETSPHINX, GObject);

G_GNUC_WARN_UNUSED_RESULT
CopilotAsrPocketsphinx *copilot_asr_pocketsphinx_new (const CopilotAsrConfig *
    config, GError ** error);
gboolean copilot_asr_pocketsphinx_check_options (const char *options,
    GError ** error);

G_END_DECLS
