/* Placeholder while the element is written. */
#include "config.h"

#undef G_DISABLE_ASSERT
#include <gst/gst.h>

static void
test_create (void)
{
  g_autoptr (GstElement) e = gst_element_factory_make ("exotelsrc", NULL);

  g_assert_nonnull (e);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/exotelsrc/create", test_create);
  return g_test_run ();
}
