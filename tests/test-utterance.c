#include "config.h"

#undef G_DISABLE_ASSERT
#include <gst/gst.h>

#include "gstcopilotutterance.h"

static void
test_round_trip (void)
{
  g_autoptr (GstEvent) start = copilot_utterance_start_event_new (3,
      2 * GST_SECOND);
  g_autoptr (GstEvent) end = copilot_utterance_end_event_new (3,
      5 * GST_SECOND, 3 * GST_SECOND, COPILOT_UTTERANCE_END_MAX_LENGTH);
  guint64 index = 0;
  GstClockTime rt = 0, dur = 0;
  CopilotUtteranceEndReason reason = COPILOT_UTTERANCE_END_SILENCE;

  g_assert_true (GST_EVENT_IS_SERIALIZED (start));
  g_assert_true (GST_EVENT_IS_DOWNSTREAM (start));
  g_assert_true (copilot_utterance_event_is_start (start));
  g_assert_false (copilot_utterance_event_is_end (start));
  g_assert_true (copilot_utterance_start_event_parse (start, &index, &rt));
  g_assert_cmpuint (index, ==, 3);
  g_assert_cmpuint (rt, ==, 2 * GST_SECOND);

  g_assert_false (copilot_utterance_start_event_parse (end, NULL, NULL));
  g_assert_true (copilot_utterance_end_event_parse (end, &index, &rt, &dur,
          &reason));
  g_assert_cmpuint (index, ==, 3);
  g_assert_cmpuint (rt, ==, 5 * GST_SECOND);
  g_assert_cmpuint (dur, ==, 3 * GST_SECOND);
  g_assert_cmpint (reason, ==, COPILOT_UTTERANCE_END_MAX_LENGTH);
}

static void
test_foreign_event (void)
{
  g_autoptr (GstEvent) other =
      gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
      gst_structure_new_empty ("something-else"));
  g_autoptr (GstEvent) broken =
      gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
      gst_structure_new (COPILOT_UTTERANCE_END_NAME, "index", G_TYPE_UINT64,
          (guint64) 1, NULL));

  g_assert_false (copilot_utterance_event_is_start (other));
  g_assert_false (copilot_utterance_event_is_end (other));
  g_assert_true (copilot_utterance_event_is_end (broken));
  g_assert_false (copilot_utterance_end_event_parse (broken, NULL, NULL, NULL,
          NULL));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/utterance/round-trip", test_round_trip);
  g_test_add_func ("/utterance/foreign-event", test_foreign_event);
  return g_test_run ();
}
