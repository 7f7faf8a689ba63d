#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstVadSplitSilence:
 * @GST_VAD_SPLIT_SILENCE_DROP: silence between utterances is dropped
 * @GST_VAD_SPLIT_SILENCE_GAP: silence is replaced by GAP events
 *
 * What vadsplit does with the audio outside utterances.
 */
typedef enum
{
  GST_VAD_SPLIT_SILENCE_DROP,
  GST_VAD_SPLIT_SILENCE_GAP,
} GstVadSplitSilence;

/**
 * GstVadSplitFrameDuration:
 * @GST_VAD_SPLIT_FRAME_10MS: 10 ms frames
 * @GST_VAD_SPLIT_FRAME_20MS: 20 ms frames
 * @GST_VAD_SPLIT_FRAME_30MS: 30 ms frames
 *
 * The frame durations the WebRTC VAD accepts; the value is in ms.
 */
typedef enum
{
  GST_VAD_SPLIT_FRAME_10MS = 10,
  GST_VAD_SPLIT_FRAME_20MS = 20,
  GST_VAD_SPLIT_FRAME_30MS = 30,
} GstVadSplitFrameDuration;

#define GST_TYPE_VAD_SPLIT_SILENCE (gst_vad_split_silence_get_type ())
GType gst_vad_split_silence_get_type (void);
#define GST_TYPE_VAD_SPLIT_FRAME_DURATION \
    (gst_vad_split_frame_duration_get_type ())
GType gst_vad_split_frame_duration_get_type (void);

#define GST_TYPE_VAD_SPLIT (gst_vad_split_get_type ())
G_DECLARE_FINAL_TYPE (GstVadSplit, gst_vad_split, GST, VAD_SPLIT, GstElement)
GST_ELEMENT_REGISTER_DECLARE (vadsplit);

G_END_DECLS
