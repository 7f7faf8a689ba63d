/* copilot-replay-wav: the WAV input of copilot-replay (16-bit PCM, mono or
 * stereo, 8 or 16 kHz) and the G.711 mu-law encoder it sends with. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define COPILOT_REPLAY_ERROR (copilot_replay_error_quark ())

typedef enum
{
  COPILOT_REPLAY_ERROR_NOT_WAV,
  COPILOT_REPLAY_ERROR_UNSUPPORTED,
} CopilotReplayError;

typedef struct
{
  guint rate;                   /* Hz: 8000 or 16000 */
  guint channels;               /* 1 or 2 */
  gsize n_frames;               /* samples per channel */
  gint16 *samples;              /* interleaved, host byte order */
} CopilotReplayWav;

GQuark copilot_replay_error_quark (void);

G_GNUC_WARN_UNUSED_RESULT
CopilotReplayWav *copilot_replay_wav_parse (const guint8 * data, gsize len,
    GError ** error);

G_GNUC_WARN_UNUSED_RESULT
CopilotReplayWav *copilot_replay_wav_load (const char *path, GError ** error);

void copilot_replay_wav_free (CopilotReplayWav * wav);

guint8 copilot_replay_mulaw_encode (gint16 sample);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotReplayWav, copilot_replay_wav_free)

G_END_DECLS
