#include "config.h"

#include "copilot-asr-engine.h"
#include "copilot-asr-pocketsphinx.h"

GQuark
copilot_asr_error_quark (void)
{
  return g_quark_from_static_string ("copilot-asr-error-quark");
}

G_DEFINE_INTERFACE (CopilotAsrEngine, copilot_asr_engine, G_TYPE_OBJECT);

static void
copilot_asr_engine_default_init (CopilotAsrEngineInterface * iface)
{
}

CopilotAsrConfig *
copilot_asr_config_copy (const CopilotAsrConfig * config)
{
  CopilotAsrConfig *copy = g_new0 (CopilotAsrConfig, 1);

  copy->engine = g_strdup (config->engine);
  copy->hmm = g_strdup (config->hmm);
  copy->lm = g_strdup (config->lm);
  copy->dict = g_strdup (config->dict);
  copy->domain_lm = g_strdup (config->domain_lm);
  copy->domain_weight = config->domain_weight;
  copy->options = g_strdup (config->options);
  return copy;
}

void
copilot_asr_config_free (CopilotAsrConfig * config)
{
  if (config == NULL)
    return;
  g_free (config->engine);
  g_free (config->hmm);
  g_free (config->lm);
  g_free (config->dict);
  g_free (config->domain_lm);
  g_free (config->options);
  g_free (config);
}

/* Whether the domain LM takes part at all: an empty path or a zero weight
 * both mean "generic only", and must share one pool key. */
static gboolean
config_uses_domain (const CopilotAsrConfig * config)
{
  return config->domain_lm != NULL && config->domain_lm[0] != '\0'
      && config->domain_weight > 0.0;
}

/* Two configurations with the same key load identical decoders. */
char *
copilot_asr_config_to_key (const CopilotAsrConfig * config)
{
  gboolean domain = config_uses_domain (config);

  return g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%.4f\n%s",
      config->engine ? config->engine : "pocketsphinx",
      config->hmm ? config->hmm : "", config->lm ? config->lm : "",
      config->dict ? config->dict : "",
      domain ? config->domain_lm : "", domain ? config->domain_weight : 0.0,
      config->options ? config->options : "");
}

static gboolean
check_path (const char *what, const char *path, GFileTest test, GError ** error)
{
  if (path == NULL || path[0] == '\0') {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "No %s configured", what);
    return FALSE;
  }
  if (!g_file_test (path, test)) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_NOT_FOUND,
        "The %s %s does not exist", what, path);
    return FALSE;
  }
  return TRUE;
}

/* A cheap check that every configured file exists, so a typo fails at
 * start() instead of on the first utterance.  Whether the files can be
 * loaded is only known once a decoder is created. */
gboolean
copilot_asr_config_check_files (const CopilotAsrConfig * config,
    GError ** error)
{
  if (config->engine != NULL && g_strcmp0 (config->engine, "pocketsphinx") != 0) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "Unknown speech recognition engine \"%s\"", config->engine);
    return FALSE;
  }
  if (!check_path ("acoustic model directory", config->hmm,
          G_FILE_TEST_IS_DIR, error)
      || !check_path ("language model", config->lm, G_FILE_TEST_IS_REGULAR,
          error)
      || !check_path ("pronunciation dictionary", config->dict,
          G_FILE_TEST_IS_REGULAR, error))
    return FALSE;
  if (config_uses_domain (config)
      && !check_path ("domain language model", config->domain_lm,
          G_FILE_TEST_IS_REGULAR, error))
    return FALSE;
  return copilot_asr_pocketsphinx_check_options (config->options, error);
}

/**
 * copilot_asr_engine_new:
 * @config: the configuration
 * @error: return location for an error
 *
 * Loads a decoder for @config.  Slow (a second or more for pocketsphinx):
 * never call it from a streaming thread or a main context.
 *
 * Returns: (transfer full): a new engine, or %NULL with @error set
 */
CopilotAsrEngine *
copilot_asr_engine_new (const CopilotAsrConfig * config, GError ** error)
{
  CopilotAsrConfig effective = *config;

  if (!copilot_asr_config_check_files (config, error))
    return NULL;
  if (!config_uses_domain (config))
    effective.domain_lm = NULL;
  return COPILOT_ASR_ENGINE (copilot_asr_pocketsphinx_new (&effective, error));
}

gboolean
copilot_asr_engine_start_utterance (CopilotAsrEngine * self, GError ** error)
{
  g_return_val_if_fail (COPILOT_IS_ASR_ENGINE (self), FALSE);
  return COPILOT_ASR_ENGINE_GET_IFACE (self)->start_utterance (self, error);
}

gboolean
copilot_asr_engine_process (CopilotAsrEngine * self, const gint16 * samples,
    gsize n_samples, GError ** error)
{
  g_return_val_if_fail (COPILOT_IS_ASR_ENGINE (self), FALSE);
  if (n_samples == 0)
    return TRUE;
  return COPILOT_ASR_ENGINE_GET_IFACE (self)->process (self, samples,
      n_samples, error);
}

char *
copilot_asr_engine_get_partial (CopilotAsrEngine * self)
{
  g_return_val_if_fail (COPILOT_IS_ASR_ENGINE (self), NULL);
  return COPILOT_ASR_ENGINE_GET_IFACE (self)->get_partial (self);
}

gboolean
copilot_asr_engine_end_utterance (CopilotAsrEngine * self, char **text,
    double *confidence, GError ** error)
{
  g_autofree char *t = NULL;
  double c = 0.0;

  g_return_val_if_fail (COPILOT_IS_ASR_ENGINE (self), FALSE);
  if (!COPILOT_ASR_ENGINE_GET_IFACE (self)->end_utterance (self, &t, &c, error))
    return FALSE;
  if (text)
    *text = t ? g_steal_pointer (&t) : g_strdup ("");
  if (confidence)
    *confidence = CLAMP (c, 0.0, 1.0);
  return TRUE;
}

/* Decoders are shared between streams, so what a decoder adapts to one
 * channel (pocketsphinx's live cepstral mean) must travel with the stream:
 * the stream saves it after each final and restores it before its next
 * utterance.  Engines without channel state return NULL / ignore it. */
GBytes *
copilot_asr_engine_get_channel_state (CopilotAsrEngine * self)
{
  CopilotAsrEngineInterface *iface;

  g_return_val_if_fail (COPILOT_IS_ASR_ENGINE (self), NULL);
  iface = COPILOT_ASR_ENGINE_GET_IFACE (self);
  return iface->get_channel_state ? iface->get_channel_state (self) : NULL;
}

void
copilot_asr_engine_set_channel_state (CopilotAsrEngine * self, GBytes * state,
    gboolean narrowband)
{
  CopilotAsrEngineInterface *iface;

  g_return_if_fail (COPILOT_IS_ASR_ENGINE (self));
  iface = COPILOT_ASR_ENGINE_GET_IFACE (self);
  if (iface->set_channel_state)
    iface->set_channel_state (self, state, narrowband);
}
