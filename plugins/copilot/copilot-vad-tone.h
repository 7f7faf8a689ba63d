/* A detector of steady tones (ringback, hold beeps, DTMF-like dual tones,
 * plain sines) for vadsplit.  The WebRTC VAD counts such tones as speech;
 * this helper recognises them by their spectrum: almost all the energy sits
 * in one or two narrow peaks that stay at the same frequency from one
 * analysis window to the next, whereas voiced speech spreads its energy
 * over many harmonics whose frequencies follow the moving pitch. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CopilotVadTone CopilotVadTone;

G_GNUC_WARN_UNUSED_RESULT
CopilotVadTone *copilot_vad_tone_new (guint rate);
void copilot_vad_tone_free (CopilotVadTone * self);
void copilot_vad_tone_reset (CopilotVadTone * self);

guint copilot_vad_tone_process (CopilotVadTone * self,
    const gint16 * samples, gsize n_samples, gdouble * concentration);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotVadTone, copilot_vad_tone_free);

G_END_DECLS
