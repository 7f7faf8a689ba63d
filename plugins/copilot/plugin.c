/* The copilot GStreamer plugin: exotelsrc, vadsplit and asrsink. */
#include "config.h"

#include <gst/gst.h>
#include <glib/gi18n-lib.h>

#include "gstexotelsrc.h"
#include "gstvadsplit.h"
#include "gstasrsink.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  ret |= GST_ELEMENT_REGISTER (exotelsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (vadsplit, plugin);
  ret |= GST_ELEMENT_REGISTER (asrsink, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, copilot,
    "Real-time agent assist: Exotel stream source, voice activity splitter "
    "and speech recognition sink", plugin_init, VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
