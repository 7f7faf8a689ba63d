/* The pocketsphinx engine (the 0.8+5prealpha C API).
 *
 * ps_init() is given the acoustic model and dictionary only; the language
 * model is attached afterwards with ps_set_lm(), either the generic model
 * alone or an interpolation of it with the domain model built by
 * copilot-lm-build (ngram_model_set_init() with weights
 * (1 - domain_weight, domain_weight)).  Both models are read with the
 * decoder's own logmath, which ngram_model_set_init() requires.
 *
 * Confidence: pocketsphinx runs a lattice best-path search at the end of an
 * utterance (-bestpath yes) and computes the forward-backward posterior of
 * every lattice link.  The confidence of a final is the mean posterior
 * probability (logmath_exp of ps_seg_prob) of the recognised words, fillers
 * and silences excluded; 0 when no word was recognised. */
#include "config.h"

#include <gst/gst.h>
#include <pocketsphinx.h>
#include <err.h>
#include <ngram_model.h>
#include <logmath.h>
#include <feat.h>
#include <cmn.h>

#include "copilot-asr-pocketsphinx.h"

GST_DEBUG_CATEGORY_STATIC (asr_ps_debug);
#define GST_CAT_DEFAULT asr_ps_debug

#define SEARCH_NAME "copilot"

struct _CopilotAsrPocketsphinx
{
  GObject parent;

  ps_decoder_t *ps;
  gboolean in_utterance;
  /* The acoustic model's initial cepstral mean (its -cmninit), restored for
   * a wideband stream that has no channel state of its own yet. */
  GBytes *wideband_cmn;
};

/* Initial live cepstral mean for telephone audio upsampled from 8 kHz.  The
 * en-us model's -cmninit describes wideband speech; upsampled narrowband
 * audio has no energy above 4 kHz, which shifts every cepstral mean, and
 * the first utterance of a stream decoded with the wideband prior was
 * mostly wrong.  These are the converged live means (logged at
 * GST_DEBUG=asrsink-pocketsphinx:5) averaged over 39 utterances of domain
 * sentences spoken by flite's kal16 voice through the simulated phone line
 * of scripts/make-calls.py (300-3400 Hz, 8 kHz, -45 dBFS noise): a voice
 * and sentences that the test calls of the bench do not use. */
static const mfcc_t narrowband_cmn[] = {
  43.42, 26.51, -37.85, 27.98, -23.56, -15.46, 6.54, -34.63, 6.15, -13.37,
  -10.77, 5.35, -15.94,
};

static void engine_iface_init (CopilotAsrEngineInterface * iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CopilotAsrPocketsphinx,
    copilot_asr_pocketsphinx, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (COPILOT_TYPE_ASR_ENGINE, engine_iface_init));

/* sphinxbase logs process-wide to stderr by default; route it into the
 * GStreamer debug log instead (GST_DEBUG=asrsink-pocketsphinx:6). */
static void
G_GNUC_PRINTF (3, 4)
sphinx_log_cb (void *user_data, err_lvl_t level, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  GstDebugLevel gst_level;

  switch (level) {
    case ERR_ERROR:
    case ERR_FATAL:
      gst_level = GST_LEVEL_WARNING;
      break;
    case ERR_WARN:
      gst_level = GST_LEVEL_INFO;
      break;
    default:
      gst_level = GST_LEVEL_LOG;
      break;
  }
  if (gst_level > gst_debug_category_get_threshold (asr_ps_debug))
    return;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_strchomp (msg);
  if (msg[0] != '\0')
    GST_CAT_LEVEL_LOG (asr_ps_debug, gst_level, NULL, "%s", msg);
}

static void
init_once (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized)) {
    GST_DEBUG_CATEGORY_INIT (asr_ps_debug, "asrsink-pocketsphinx", 0,
        "pocketsphinx speech recognition engine");
    /* Some output (the configuration dump) bypasses the callback and goes
     * to the log file: disable that too. */
    err_set_logfp (NULL);
    err_set_callback (sphinx_log_cb, NULL);
    g_once_init_leave (&initialized, 1);
  }
}

static void
copilot_asr_pocketsphinx_finalize (GObject * object)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (object);

  if (self->in_utterance)
    ps_end_utt (self->ps);
  if (self->ps)
    ps_free (self->ps);
  g_clear_pointer (&self->wideband_cmn, g_bytes_unref);
  G_OBJECT_CLASS (copilot_asr_pocketsphinx_parent_class)->finalize (object);
}

static void
copilot_asr_pocketsphinx_class_init (CopilotAsrPocketsphinxClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = copilot_asr_pocketsphinx_finalize;
}

static void
copilot_asr_pocketsphinx_init (CopilotAsrPocketsphinx * self)
{
}

static gboolean
ps_start_utterance (CopilotAsrEngine * engine, GError ** error)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (engine);

  if (self->in_utterance) {
    ps_end_utt (self->ps);
    self->in_utterance = FALSE;
  }
  if (ps_start_utt (self->ps) < 0) {
    g_set_error_literal (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_DECODE,
        "pocketsphinx could not start an utterance");
    return FALSE;
  }
  self->in_utterance = TRUE;
  return TRUE;
}

static gboolean
ps_process (CopilotAsrEngine * engine, const gint16 * samples,
    gsize n_samples, GError ** error)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (engine);

  if (!self->in_utterance) {
    g_set_error_literal (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_DECODE,
        "audio fed outside an utterance");
    return FALSE;
  }
  if (ps_process_raw (self->ps, samples, n_samples, FALSE, FALSE) < 0) {
    g_set_error_literal (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_DECODE,
        "pocketsphinx failed to process audio");
    return FALSE;
  }
  return TRUE;
}

static char *
ps_partial (CopilotAsrEngine * engine)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (engine);
  const char *hyp;

  if (!self->in_utterance)
    return NULL;
  hyp = ps_get_hyp (self->ps, NULL);
  return (hyp && hyp[0]) ? g_strdup (hyp) : NULL;
}

static gboolean
is_filler (const char *word)
{
  return word == NULL || word[0] == '<' || word[0] == '['
      || g_str_equal (word, "(NULL)");
}

/* Called after ps_end_utt(): the mean posterior of the recognised words. */
static double
mean_word_posterior (CopilotAsrPocketsphinx * self)
{
  logmath_t *lmath = ps_get_logmath (self->ps);
  ps_seg_t *seg;
  double sum = 0.0;
  guint n = 0;

  for (seg = ps_seg_iter (self->ps); seg != NULL; seg = ps_seg_next (seg)) {
    int32 ascr, lscr, lback;

    if (is_filler (ps_seg_word (seg)))
      continue;
    sum += logmath_exp (lmath, ps_seg_prob (seg, &ascr, &lscr, &lback));
    n++;
  }
  return n > 0 ? sum / n : 0.0;
}

static gboolean
ps_end_utterance (CopilotAsrEngine * engine, char **text, double *confidence,
    GError ** error)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (engine);
  const char *hyp;

  if (!self->in_utterance) {
    g_set_error_literal (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_DECODE,
        "no utterance to end");
    return FALSE;
  }
  self->in_utterance = FALSE;
  if (ps_end_utt (self->ps) < 0) {
    g_set_error_literal (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_DECODE,
        "pocketsphinx failed to end the utterance");
    return FALSE;
  }
  hyp = ps_get_hyp (self->ps, NULL);
  *text = g_strdup (hyp ? hyp : "");
  *confidence = (*text)[0] ? mean_word_posterior (self) : 0.0;
  GST_DEBUG ("final \"%s\" confidence %.3f (utterance posterior %.3f)", *text,
      *confidence, logmath_exp (ps_get_logmath (self->ps),
          ps_get_prob (self->ps)));
  return TRUE;
}

static cmn_t *
get_cmn (CopilotAsrPocketsphinx * self)
{
  feat_t *feat = ps_get_feat (self->ps);

  return feat ? feat->cmn_struct : NULL;
}

static GBytes *
ps_get_channel_state (CopilotAsrEngine * engine)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (engine);
  cmn_t *cmn = get_cmn (self);
  mfcc_t *vec;

  if (cmn == NULL || cmn->veclen <= 0)
    return NULL;
  vec = g_new (mfcc_t, cmn->veclen);
  cmn_live_get (cmn, vec);
  if (GST_LEVEL_DEBUG <= gst_debug_category_get_threshold (asr_ps_debug)) {
    g_autoptr (GString) str = g_string_new (NULL);

    for (int i = 0; i < cmn->veclen; i++)
      g_string_append_printf (str, "%s%.2f", i ? "," : "", vec[i]);
    GST_DEBUG ("live cepstral mean: %s", str->str);
  }
  return g_bytes_new_take (vec, cmn->veclen * sizeof (mfcc_t));
}

static void
ps_set_channel_state (CopilotAsrEngine * engine, GBytes * state,
    gboolean narrowband)
{
  CopilotAsrPocketsphinx *self = COPILOT_ASR_POCKETSPHINX (engine);
  cmn_t *cmn = get_cmn (self);
  gsize size = cmn ? cmn->veclen * sizeof (mfcc_t) : 0;

  if (cmn == NULL)
    return;
  if (state != NULL && g_bytes_get_size (state) == size)
    cmn_live_set (cmn, g_bytes_get_data (state, NULL));
  else if (narrowband && G_N_ELEMENTS (narrowband_cmn) == (gsize) cmn->veclen)
    cmn_live_set (cmn, narrowband_cmn);
  else if (self->wideband_cmn && g_bytes_get_size (self->wideband_cmn) == size)
    cmn_live_set (cmn, g_bytes_get_data (self->wideband_cmn, NULL));
}

static void
engine_iface_init (CopilotAsrEngineInterface * iface)
{
  iface->get_channel_state = ps_get_channel_state;
  iface->set_channel_state = ps_set_channel_state;
  iface->start_utterance = ps_start_utterance;
  iface->process = ps_process;
  iface->get_partial = ps_partial;
  iface->end_utterance = ps_end_utterance;
}

/* pocketsphinx exits the process on some missing acoustic model files
 * (E_FATAL), so check the ones it needs before ps_init(). */
static gboolean
check_hmm_dir (const char *hmm, GError ** error)
{
  static const char *const required[] = { "mdef", "means", "variances",
    "transition_matrices", "feat.params",
  };

  for (guint i = 0; i < G_N_ELEMENTS (required); i++) {
    g_autofree char *path = g_build_filename (hmm, required[i], NULL);

    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_NOT_FOUND,
          "%s is not a pocketsphinx acoustic model (no %s)", hmm, required[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static ngram_model_t *
read_lm (CopilotAsrPocketsphinx * self, cmd_ln_t * cfg, const char *path,
    GError ** error)
{
  ngram_model_t *lm = ngram_model_read (cfg, path, NGRAM_AUTO,
      ps_get_logmath (self->ps));

  if (lm == NULL)
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "%s is not a valid language model", path);
  return lm;
}

/* Attaches the generic LM, interpolated with the domain LM if any. */
static gboolean
set_language_model (CopilotAsrPocketsphinx * self,
    const CopilotAsrConfig * config, GError ** error)
{
  cmd_ln_t *cfg = ps_get_config (self->ps);
  ngram_model_t *generic, *domain, *lm;
  int ret;

  generic = read_lm (self, cfg, config->lm, error);
  if (generic == NULL)
    return FALSE;
  if (config->domain_lm == NULL) {
    lm = generic;
  } else if (config->domain_weight >= 1.0) {
    ngram_model_free (generic);
    lm = read_lm (self, cfg, config->domain_lm, error);
    if (lm == NULL)
      return FALSE;
  } else {
    ngram_model_t *models[2];
    char *names[2] = { (char *) "generic", (char *) "domain" };
    float32 weights[2];

    domain = read_lm (self, cfg, config->domain_lm, error);
    if (domain == NULL) {
      ngram_model_free (generic);
      return FALSE;
    }
    models[0] = generic;
    models[1] = domain;
    weights[0] = 1.0 - config->domain_weight;
    weights[1] = config->domain_weight;
    /* The set takes references of its own on both models (checked with
     * LeakSanitizer: without dropping ours, destroying a decoder leaked
     * both language models). */
    lm = ngram_model_set_init (cfg, models, names, weights, 2);
    ngram_model_free (generic);
    ngram_model_free (domain);
    if (lm == NULL) {
      g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
          "Cannot interpolate %s with %s", config->lm, config->domain_lm);
      return FALSE;
    }
  }
  /* ps_set_lm() keeps its own reference. */
  ret = ps_set_lm (self->ps, SEARCH_NAME, lm);
  ngram_model_free (lm);
  if (ret < 0 || ps_set_search (self->ps, SEARCH_NAME) < 0) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "pocketsphinx rejected the language model %s%s%s", config->lm,
        config->domain_lm ? " + " : "",
        config->domain_lm ? config->domain_lm : "");
    return FALSE;
  }
  return TRUE;
}

/* The arguments that asrsink sets itself (models, search, logging). */
static const char *const reserved_options[] = {
  "-hmm", "-dict", "-lm", "-lmctl", "-lmname", "-jsgf", "-fsg", "-kws",
  "-keyphrase", "-allphone", "-logfn", "-samprate", "-input_endian",
  "-argfile",
};

/* Builds the argument vector of a decoder: the model files, then @options
 * ("-name value ..." in shell quoting).  argv[0] is a program name, which
 * cmd_ln_parse_r() skips. */
static char **
build_argv (const CopilotAsrConfig * config, const char *options,
    GError ** error)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) extra = NULL;
  int n_extra = 0;

  g_ptr_array_add (args, g_strdup ("copilot"));
  if (config != NULL) {
    g_ptr_array_add (args, g_strdup ("-hmm"));
    g_ptr_array_add (args, g_strdup (config->hmm));
    g_ptr_array_add (args, g_strdup ("-dict"));
    g_ptr_array_add (args, g_strdup (config->dict));
  }
  g_ptr_array_add (args, g_strdup ("-bestpath"));
  g_ptr_array_add (args, g_strdup ("yes"));
  if (options != NULL && options[0] != '\0') {
    g_autoptr (GError) local = NULL;

    if (!g_shell_parse_argv (options, &n_extra, &extra, &local)) {
      g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
          "Invalid decoder options \"%s\": %s", options, local->message);
      return NULL;
    }
  }
  if (n_extra % 2 != 0) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "Invalid decoder options \"%s\": expected \"-name value\" pairs",
        options);
    return NULL;
  }
  for (int i = 0; i < n_extra; i += 2) {
    if (extra[i][0] != '-') {
      g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
          "Invalid decoder options \"%s\": \"%s\" is not an option name",
          options, extra[i]);
      return NULL;
    }
    for (guint r = 0; r < G_N_ELEMENTS (reserved_options); r++) {
      if (g_str_equal (extra[i], reserved_options[r])) {
        g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
            "Invalid decoder options \"%s\": %s is set by asrsink itself",
            options, extra[i]);
        return NULL;
      }
    }
    g_ptr_array_add (args, g_strdup (extra[i]));
    g_ptr_array_add (args, g_strdup (extra[i + 1]));
  }
  g_ptr_array_add (args, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&args), FALSE);
}

/**
 * copilot_asr_pocketsphinx_check_options:
 * @options: (nullable): extra decoder arguments, "-name value ..."
 * @error: return location for an error
 *
 * Checks, without loading any model, that @options are pocketsphinx
 * arguments that asrsink lets a user set, with valid values.
 *
 * Returns: %TRUE if they are
 */
gboolean
copilot_asr_pocketsphinx_check_options (const char *options, GError ** error)
{
  g_auto (GStrv) argv = NULL;
  cmd_ln_t *cfg;

  if (options == NULL || options[0] == '\0')
    return TRUE;
  init_once ();
  argv = build_argv (NULL, options, error);
  if (argv == NULL)
    return FALSE;
  cfg = cmd_ln_parse_r (NULL, ps_args (), g_strv_length (argv), argv, TRUE);
  if (cfg == NULL) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "Invalid decoder options \"%s\": unknown option or bad value", options);
    return FALSE;
  }
  cmd_ln_free_r (cfg);
  return TRUE;
}

/**
 * copilot_asr_pocketsphinx_new:
 * @config: the model files; @config->domain_lm %NULL for generic only
 * @error: return location for an error
 *
 * Loads a decoder.  Takes a second or more and ~100 MB with the generic
 * en-us model.
 *
 * Returns: (transfer full): a new engine, or %NULL with @error set
 */
CopilotAsrPocketsphinx *
copilot_asr_pocketsphinx_new (const CopilotAsrConfig * config, GError ** error)
{
  g_autoptr (CopilotAsrPocketsphinx) self = NULL;
  cmd_ln_t *cfg;

  init_once ();
  if (!check_hmm_dir (config->hmm, error))
    return NULL;
  {
    g_auto (GStrv) argv = build_argv (config, config->options, error);

    if (argv == NULL)
      return NULL;
    cfg = cmd_ln_parse_r (NULL, ps_args (), g_strv_length (argv), argv, TRUE);
  }
  if (cfg == NULL) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "Invalid pocketsphinx configuration (decoder options \"%s\")",
        config->options ? config->options : "");
    return NULL;
  }
  self = g_object_new (COPILOT_TYPE_ASR_POCKETSPHINX, NULL);
  self->ps = ps_init (cfg);
  cmd_ln_free_r (cfg);
  if (self->ps == NULL) {
    g_set_error (error, COPILOT_ASR_ERROR, COPILOT_ASR_ERROR_SETTINGS,
        "pocketsphinx cannot load the model %s with dictionary %s",
        config->hmm, config->dict);
    return NULL;
  }
  if (!set_language_model (self, config, error))
    return NULL;
  self->wideband_cmn = ps_get_channel_state (COPILOT_ASR_ENGINE (self));
  GST_INFO ("decoder %p loaded: %s, %s%s%s (weight %.2f)", self,
      config->hmm, config->lm, config->domain_lm ? " + " : "",
      config->domain_lm ? config->domain_lm : "", config->domain_weight);
  return g_steal_pointer (&self);
}
