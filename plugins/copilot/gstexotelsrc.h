#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

/**
 * GstExotelSrcPace:
 * @GST_EXOTEL_SRC_PACE_REALTIME: release captured frames following their media
 *   timestamps against the pipeline clock (live source)
 * @GST_EXOTEL_SRC_PACE_FAST: release captured frames as fast as downstream
 *   takes them (non-live source)
 *
 * How a capture file given with #GstExotelSrc:location is replayed.
 */
typedef enum
{
  GST_EXOTEL_SRC_PACE_REALTIME,
  GST_EXOTEL_SRC_PACE_FAST,
} GstExotelSrcPace;

/**
 * GstExotelSrcTrack:
 * @GST_EXOTEL_SRC_TRACK_AUTO: mono; lock onto the track of the first media
 *   frame (frames without a track count as inbound)
 * @GST_EXOTEL_SRC_TRACK_INBOUND: mono; the caller's audio (and untagged frames)
 * @GST_EXOTEL_SRC_TRACK_OUTBOUND: mono; the audio sent to the caller
 * @GST_EXOTEL_SRC_TRACK_BOTH: stereo; inbound on channel 0, outbound on 1
 *
 * Which media track(s) become audio.
 */
typedef enum
{
  GST_EXOTEL_SRC_TRACK_AUTO,
  GST_EXOTEL_SRC_TRACK_INBOUND,
  GST_EXOTEL_SRC_TRACK_OUTBOUND,
  GST_EXOTEL_SRC_TRACK_BOTH,
} GstExotelSrcTrack;

/**
 * GstExotelSrcGapMode:
 * @GST_EXOTEL_SRC_GAP_MODE_SILENCE: fill missing audio with silence buffers
 *   (flagged %GST_BUFFER_FLAG_GAP)
 * @GST_EXOTEL_SRC_GAP_MODE_GAP: send a GAP event over missing audio (mono only;
 *   stereo output always fills the missing channel with silence)
 *
 * What the element outputs where the stream has no audio.
 */
typedef enum
{
  GST_EXOTEL_SRC_GAP_MODE_SILENCE,
  GST_EXOTEL_SRC_GAP_MODE_GAP,
} GstExotelSrcGapMode;

GType gst_exotel_src_pace_get_type (void);
GType gst_exotel_src_track_get_type (void);
GType gst_exotel_src_gap_mode_get_type (void);
#define GST_TYPE_EXOTEL_SRC_PACE (gst_exotel_src_pace_get_type ())
#define GST_TYPE_EXOTEL_SRC_TRACK (gst_exotel_src_track_get_type ())
#define GST_TYPE_EXOTEL_SRC_GAP_MODE (gst_exotel_src_gap_mode_get_type ())

#define GST_TYPE_EXOTEL_SRC (gst_exotel_src_get_type ())
G_DECLARE_FINAL_TYPE (GstExotelSrc, gst_exotel_src, GST, EXOTEL_SRC, GstPushSrc)
GST_ELEMENT_REGISTER_DECLARE (exotelsrc);

gboolean gst_exotel_src_push_frame (GstExotelSrc * self, const char *frame,
    gssize length);

G_END_DECLS
