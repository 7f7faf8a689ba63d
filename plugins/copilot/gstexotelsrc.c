/* Placeholder while the element is written; replaced by its real implementation. */
#include "config.h"

#include "gstexotelsrc.h"

struct _GstExotelSrc
{
  GstPushSrc parent;
};

G_DEFINE_TYPE (GstExotelSrc, gst_exotel_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (exotelsrc, "exotelsrc", GST_RANK_NONE,
    GST_TYPE_EXOTEL_SRC);

static void
gst_exotel_src_class_init (GstExotelSrcClass * klass)
{
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass), "exotelsrc",
      "Generic", "placeholder", "Copilot developers");
}

static void
gst_exotel_src_init (GstExotelSrc * self)
{
}
