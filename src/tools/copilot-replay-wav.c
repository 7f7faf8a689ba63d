/* copilot-replay-wav: reads the calls copilot-replay plays.
 *
 * Only what Exotel itself can carry is accepted: 16-bit linear PCM
 * (WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), one
 * or two channels, 8000 or 16000 Hz. Anything else is refused with a message
 * saying what was found, so that the user converts the file instead of
 * hearing noise on the daemon side. */
#include "config.h"

#include "copilot-replay-wav.h"

#include <string.h>

G_DEFINE_QUARK (copilot-replay-error-quark, copilot_replay_error);

#define WAVE_FORMAT_PCM 0x0001
#define WAVE_FORMAT_EXTENSIBLE 0xfffe

static guint16
read_u16 (const guint8 * p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
read_u32 (const guint8 * p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16)
      | ((guint32) p[3] << 24);
}

void
copilot_replay_wav_free (CopilotReplayWav * wav)
{
  if (wav == NULL)
    return;
  g_free (wav->samples);
  g_free (wav);
}

CopilotReplayWav *
copilot_replay_wav_parse (const guint8 * data, gsize len, GError ** error)
{
  g_autoptr (CopilotReplayWav) wav = g_new0 (CopilotReplayWav, 1);
  const guint8 *fmt = NULL, *pcm = NULL;
  gsize fmt_len = 0, pcm_len = 0, pos = 12;
  guint16 tag, bits;
  gsize i, n_samples;

  if (len < 12 || memcmp (data, "RIFF", 4) != 0
      || memcmp (data + 8, "WAVE", 4) != 0) {
    g_set_error_literal (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_NOT_WAV, "not a WAV file (no RIFF/WAVE header)");
    return NULL;
  }

  /* Chunks are word aligned. A data chunk whose size runs past the end of
   * the file (a recording that was cut off, or a streamed WAV with a
   * placeholder size) is read up to the end of the file. */
  while (pos + 8 <= len && pcm == NULL) {
    const guint8 *id = data + pos;
    gsize size = read_u32 (data + pos + 4);
    gsize avail = len - pos - 8;

    if (memcmp (id, "fmt ", 4) == 0) {
      fmt = data + pos + 8;
      fmt_len = MIN (size, avail);
    } else if (memcmp (id, "data", 4) == 0) {
      pcm = data + pos + 8;
      pcm_len = MIN (size, avail);
    }
    if (size > avail)
      break;
    pos += 8 + size + (size & 1);
  }

  if (fmt == NULL || fmt_len < 16) {
    g_set_error_literal (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_NOT_WAV, "WAV file without a format chunk");
    return NULL;
  }
  if (pcm == NULL) {
    g_set_error_literal (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_NOT_WAV, "WAV file without a data chunk");
    return NULL;
  }

  tag = read_u16 (fmt);
  wav->channels = read_u16 (fmt + 2);
  wav->rate = read_u32 (fmt + 4);
  bits = read_u16 (fmt + 14);
  /* The extensible format names the real one in the first two bytes of its
   * sub-format GUID. */
  if (tag == WAVE_FORMAT_EXTENSIBLE && fmt_len >= 26)
    tag = read_u16 (fmt + 24);

  if (tag != WAVE_FORMAT_PCM || bits != 16) {
    g_set_error (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_UNSUPPORTED,
        "unsupported WAV encoding (format tag 0x%04x, %u bits); "
        "16-bit PCM is needed", tag, bits);
    return NULL;
  }
  if (wav->channels != 1 && wav->channels != 2) {
    g_set_error (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_UNSUPPORTED,
        "unsupported channel count %u; mono (one leg) or stereo "
        "(agent left, customer right) is needed", wav->channels);
    return NULL;
  }
  if (wav->rate != 8000 && wav->rate != 16000) {
    g_set_error (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_UNSUPPORTED,
        "unsupported sample rate %u Hz; 8000 or 16000 Hz is needed", wav->rate);
    return NULL;
  }

  wav->n_frames = pcm_len / (2 * wav->channels);
  if (wav->n_frames == 0) {
    g_set_error_literal (error, COPILOT_REPLAY_ERROR,
        COPILOT_REPLAY_ERROR_UNSUPPORTED, "WAV file holds no audio");
    return NULL;
  }
  n_samples = wav->n_frames * wav->channels;
  wav->samples = g_new (gint16, n_samples);
  for (i = 0; i < n_samples; i++)
    wav->samples[i] = (gint16) read_u16 (pcm + 2 * i);

  return g_steal_pointer (&wav);
}

CopilotReplayWav *
copilot_replay_wav_load (const char *path, GError ** error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  CopilotReplayWav *wav;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  wav = copilot_replay_wav_parse ((const guint8 *) contents, len, error);
  if (wav == NULL)
    g_prefix_error (error, "%s: ", path);
  return wav;
}

/* G.711 mu-law, as in the ITU reference: bias 0x84, clip at 32635, bits
 * inverted on the wire. */
guint8
copilot_replay_mulaw_encode (gint16 sample)
{
  const int bias = 0x84, clip = 32635;
  int value = sample, sign = 0, exponent, mantissa, mask;

  if (value < 0) {
    value = -value;
    sign = 0x80;
  }
  if (value > clip)
    value = clip;
  value += bias;

  exponent = 7;
  for (mask = 0x4000; (value & mask) == 0 && exponent > 0; mask >>= 1)
    exponent--;
  mantissa = (value >> (exponent + 3)) & 0x0f;
  return (guint8) ~ (sign | (exponent << 4) | mantissa);
}
