/* Placeholder while the element is written; replaced by its real implementation. */
#include "config.h"

#include "gstvadsplit.h"

struct _GstVadSplit
{
  GstElement parent;
};

G_DEFINE_TYPE (GstVadSplit, gst_vad_split, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (vadsplit, "vadsplit", GST_RANK_NONE,
    GST_TYPE_VAD_SPLIT);

static void
gst_vad_split_class_init (GstVadSplitClass * klass)
{
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass), "vadsplit",
      "Generic", "placeholder", "Copilot developers");
}

static void
gst_vad_split_init (GstVadSplit * self)
{
}
