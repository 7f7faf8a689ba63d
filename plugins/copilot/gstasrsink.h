#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_ASR_SINK (gst_asr_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstAsrSink, gst_asr_sink, GST, ASR_SINK, GstBaseSink)
GST_ELEMENT_REGISTER_DECLARE (asrsink);

G_END_DECLS
