/* CopilotAsrEngine: one speech recognition decoder, one utterance at a time.
 *
 * An engine instance is expensive (a loaded model); CopilotAsrPool shares
 * them between streams.  The calls of one utterance come from one thread at
 * a time, but not always the same thread, so implementations must not use
 * thread-local state.  Every engine takes 16 kHz signed 16-bit mono
 * samples; asrsink resamples before feeding. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define COPILOT_ASR_ENGINE_RATE 16000
#define COPILOT_ASR_ERROR (copilot_asr_error_quark ())

/**
 * CopilotAsrError:
 * @COPILOT_ASR_ERROR_NOT_FOUND: a model file is missing or unreadable
 * @COPILOT_ASR_ERROR_SETTINGS: the configuration is invalid (a model file
 *   that cannot be loaded, an unknown engine)
 * @COPILOT_ASR_ERROR_DECODE: decoding failed
 */
typedef enum
{
  COPILOT_ASR_ERROR_NOT_FOUND,
  COPILOT_ASR_ERROR_SETTINGS,
  COPILOT_ASR_ERROR_DECODE,
} CopilotAsrError;

GQuark copilot_asr_error_quark (void);

/**
 * CopilotAsrConfig:
 * @engine: engine name ("pocketsphinx")
 * @hmm: acoustic model directory
 * @lm: generic language model
 * @dict: pronunciation dictionary
 * @domain_lm: domain language model interpolated with @lm, or %NULL
 * @domain_weight: interpolation weight of @domain_lm, 0..1
 * @options: extra engine arguments ("-name value ..."), or %NULL
 *
 * Everything that makes two decoders interchangeable.
 */
typedef struct
{
  char *engine;
  char *hmm;
  char *lm;
  char *dict;
  char *domain_lm;
  double domain_weight;
  char *options;
} CopilotAsrConfig;

G_GNUC_WARN_UNUSED_RESULT
CopilotAsrConfig *copilot_asr_config_copy (const CopilotAsrConfig * config);
void copilot_asr_config_free (CopilotAsrConfig * config);
G_GNUC_WARN_UNUSED_RESULT
char *copilot_asr_config_to_key (const CopilotAsrConfig * config);
gboolean copilot_asr_config_check_files (const CopilotAsrConfig * config,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotAsrConfig, copilot_asr_config_free);

#define COPILOT_TYPE_ASR_ENGINE (copilot_asr_engine_get_type ())
G_DECLARE_INTERFACE (CopilotAsrEngine, copilot_asr_engine, COPILOT,
    ASR_ENGINE, GObject);

/**
 * CopilotAsrEngineInterface:
 * @start_utterance: begin a new utterance
 * @process: feed 16 kHz S16 mono samples of the current utterance
 * @get_partial: the best hypothesis so far (transfer full, %NULL if none)
 * @end_utterance: finish the utterance; @text (transfer full, never %NULL
 *   on success) and @confidence (0..1) describe the final result
 * @get_channel_state: (optional) what the engine has learnt about the
 *   current audio channel (e.g. cepstral means), to be handed back with
 *   @set_channel_state before the same stream's next utterance
 * @set_channel_state: (optional) prepares the engine for a stream's next
 *   utterance: @state from @get_channel_state, or %NULL for a stream that
 *   has none yet, in which case @narrowband says whether the audio was
 *   upsampled from telephone bandwidth (8 kHz)
 */
struct _CopilotAsrEngineInterface
{
  GTypeInterface parent_iface;

  gboolean (*start_utterance) (CopilotAsrEngine * self, GError ** error);
  gboolean (*process) (CopilotAsrEngine * self, const gint16 * samples,
      gsize n_samples, GError ** error);
  char *(*get_partial) (CopilotAsrEngine * self);
  gboolean (*end_utterance) (CopilotAsrEngine * self, char **text,
      double *confidence, GError ** error);
  GBytes *(*get_channel_state) (CopilotAsrEngine * self);
  void (*set_channel_state) (CopilotAsrEngine * self, GBytes * state,
      gboolean narrowband);
};

G_GNUC_WARN_UNUSED_RESULT
CopilotAsrEngine *copilot_asr_engine_new (const CopilotAsrConfig * config,
    GError ** error);
gboolean copilot_asr_engine_start_utterance (CopilotAsrEngine * self,
    GError ** error);
gboolean copilot_asr_engine_process (CopilotAsrEngine * self,
    const gint16 * samples, gsize n_samples, GError ** error);
G_GNUC_WARN_UNUSED_RESULT
char *copilot_asr_engine_get_partial (CopilotAsrEngine * self);
gboolean copilot_asr_engine_end_utterance (CopilotAsrEngine * self,
    char **text, double *confidence, GError ** error);

G_GNUC_WARN_UNUSED_RESULT
GBytes *copilot_asr_engine_get_channel_state (CopilotAsrEngine * self);
void copilot_asr_engine_set_channel_state (CopilotAsrEngine * self,
    GBytes * state, gboolean narrowband);

G_END_DECLS
