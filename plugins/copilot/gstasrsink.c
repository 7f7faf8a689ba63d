/* Placeholder while the element is written; replaced by its real implementation. */
#include "config.h"

#include "gstasrsink.h"

struct _GstAsrSink
{
  GstBaseSink parent;
};

G_DEFINE_TYPE (GstAsrSink, gst_asr_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (asrsink, "asrsink", GST_RANK_NONE,
    GST_TYPE_ASR_SINK);

static void
gst_asr_sink_class_init (GstAsrSinkClass * klass)
{
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass), "asrsink",
      "Generic", "placeholder", "Copilot developers");
}

static void
gst_asr_sink_init (GstAsrSink * self)
{
}
