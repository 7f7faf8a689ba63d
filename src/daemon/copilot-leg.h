/* One leg (speaker) of a call: an Exotel stream's audio pipeline. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define COPILOT_TYPE_LEG (copilot_leg_get_type ())
G_DECLARE_FINAL_TYPE (CopilotLeg, copilot_leg, COPILOT, LEG, GObject)

G_GNUC_WARN_UNUSED_RESULT
CopilotLeg *copilot_leg_new (const char *call_id, const char *speaker,
    const char *track, gboolean mulaw, guint sample_rate,
    guint max_frame_size, gboolean asr, GError ** error);

gboolean copilot_leg_push_frame (CopilotLeg * self, const char *frame,
    gsize length);

void copilot_leg_finish (CopilotLeg * self, const char *reason,
    guint drain_timeout_ms);

void copilot_leg_stop (CopilotLeg * self, const char *reason);

const char *copilot_leg_get_speaker (CopilotLeg * self);

gboolean copilot_leg_is_ended (CopilotLeg * self);

const char *copilot_leg_get_end_reason (CopilotLeg * self);

gint64 copilot_leg_get_started_ms (CopilotLeg * self);

void copilot_leg_set_default_decoder_options (const char *options);

G_END_DECLS
