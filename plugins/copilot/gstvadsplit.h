#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_VAD_SPLIT (gst_vad_split_get_type ())
G_DECLARE_FINAL_TYPE (GstVadSplit, gst_vad_split, GST, VAD_SPLIT, GstElement)
GST_ELEMENT_REGISTER_DECLARE (vadsplit);

G_END_DECLS
