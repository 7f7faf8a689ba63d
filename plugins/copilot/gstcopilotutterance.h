/* The contract between vadsplit and whatever consumes its output (asrsink).
 *
 * vadsplit brackets every utterance with two serialized custom downstream
 * events.  Both carry the utterance index (counting from 0 per stream) and
 * the running time of the boundary; the end event also says why the
 * utterance ended.  Buffers between a start and its end are the utterance's
 * audio (pre-roll included).  Nothing else is pushed outside utterances
 * except, when vadsplit's "silence" property asks for it, GAP events. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define COPILOT_UTTERANCE_START_NAME "copilot-utterance-start"
#define COPILOT_UTTERANCE_END_NAME "copilot-utterance-end"
/**
 * CopilotUtteranceEndReason:
 * @COPILOT_UTTERANCE_END_SILENCE: the hangover of silence elapsed
 * @COPILOT_UTTERANCE_END_MAX_LENGTH: forced cut at the maximum length
 * @COPILOT_UTTERANCE_END_EOS: the stream ended inside the utterance
 * @COPILOT_UTTERANCE_END_FLUSH: a flush or a caps change interrupted it
 */
typedef enum
{
  COPILOT_UTTERANCE_END_SILENCE,
  COPILOT_UTTERANCE_END_MAX_LENGTH,
  COPILOT_UTTERANCE_END_EOS,
  COPILOT_UTTERANCE_END_FLUSH,
} CopilotUtteranceEndReason;

GstEvent *copilot_utterance_start_event_new (guint64 index,
    GstClockTime running_time);
GstEvent *copilot_utterance_end_event_new (guint64 index,
    GstClockTime running_time, GstClockTime duration,
    CopilotUtteranceEndReason reason);

gboolean copilot_utterance_event_is_start (GstEvent * event);
gboolean copilot_utterance_event_is_end (GstEvent * event);

/* Both return FALSE when @event is not of the expected kind or lacks a
 * field; any out parameter may be NULL. */
gboolean copilot_utterance_start_event_parse (GstEvent * event,
    guint64 * index, GstClockTime * running_time);
gboolean copilot_utterance_end_event_parse (GstEvent * event,
    guint64 * index, GstClockTime * running_time, GstClockTime * duration,
    CopilotUtteranceEndReason * reason);

const char *copilot_utterance_end_reason_to_string (CopilotUtteranceEndReason
    reason);

G_END_DECLS
