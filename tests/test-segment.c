#include "config.h"

#undef G_DISABLE_ASSERT
#include <string.h>

#include <copilot.h>

static void
test_new_and_getters (void)
{
  g_autoptr (CopilotSegment) seg = copilot_segment_new ("call1-agent-3",
      "agent", "hello there", 1500000000, 2750000000, 0.83, TRUE);

  g_assert_cmpstr (copilot_segment_get_id (seg), ==, "call1-agent-3");
  g_assert_cmpstr (copilot_segment_get_speaker (seg), ==, "agent");
  g_assert_cmpstr (copilot_segment_get_text (seg), ==, "hello there");
  g_assert_cmpuint (copilot_segment_get_start (seg), ==, 1500000000);
  g_assert_cmpuint (copilot_segment_get_end (seg), ==, 2750000000);
  g_assert_cmpfloat_with_epsilon (copilot_segment_get_confidence (seg), 0.83,
      1e-12);
  g_assert_true (copilot_segment_is_final (seg));
}

static void
test_defaults_and_clamping (void)
{
  g_autoptr (CopilotSegment) a = copilot_segment_new ("s", NULL, "", 0, 0,
      7.0, FALSE);
  g_autoptr (CopilotSegment) b = copilot_segment_new ("s", "x", "", 0, 0,
      -1.0, FALSE);

  g_assert_cmpstr (copilot_segment_get_speaker (a), ==, "unknown");
  g_assert_cmpfloat (copilot_segment_get_confidence (a), ==, 1.0);
  g_assert_cmpfloat (copilot_segment_get_confidence (b), ==, 0.0);
}

static void
test_boxed (void)
{
  g_autoptr (CopilotSegment) seg = copilot_segment_new ("s", "customer", "hi",
      0, 10, 0.5, FALSE);
  CopilotSegment *copy = g_boxed_copy (COPILOT_TYPE_SEGMENT, seg);

  /* Segments are immutable, so a boxed copy is a new reference. */
  g_assert_true (copy == seg);
  g_boxed_free (COPILOT_TYPE_SEGMENT, copy);
  g_assert_cmpstr (copilot_segment_get_text (seg), ==, "hi");
}

static void
test_json_round_trip (void)
{
  g_autoptr (CopilotSegment) seg = copilot_segment_new ("c-customer-12",
      "customer", "my card ending \"4321\" is blocked \xe2\x82\xb9",
      12345678901, 22345678901, 0.25, TRUE);
  g_autoptr (CopilotSegment) unknown_times = copilot_segment_new ("u", "agent",
      "x", COPILOT_SEGMENT_TIME_NONE, COPILOT_SEGMENT_TIME_NONE, 0.0, FALSE);
  g_autofree char *json = copilot_segment_to_json_string (seg);
  g_autofree char *json2 = copilot_segment_to_json_string (unknown_times);
  g_autoptr (GError) error = NULL;
  g_autoptr (CopilotSegment) back = NULL;
  g_autoptr (CopilotSegment) back2 = NULL;

  back = copilot_segment_new_from_json_string (json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (copilot_segment_equal (seg, back));

  g_assert_nonnull (strstr (json2, "\"start_ns\":null"));
  back2 = copilot_segment_new_from_json_string (json2, -1, &error);
  g_assert_no_error (error);
  g_assert_true (copilot_segment_equal (unknown_times, back2));
  g_assert_cmpuint (copilot_segment_get_start (back2), ==,
      COPILOT_SEGMENT_TIME_NONE);
}

static void
test_json_bad_input (void)
{
  const struct
  {
    const char *json;
    int code;
  } cases[] = {
    {"", COPILOT_ERROR_PARSE},
    {"{\"segment_id\":", COPILOT_ERROR_PARSE},
    {"[1,2]", COPILOT_ERROR_INVALID},
    {"{\"text\":\"a\"}", COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\"}", COPILOT_ERROR_INVALID},
    {"{\"segment_id\":1,\"text\":\"a\"}", COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"start_ns\":\"1\"}",
        COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"start_ns\":-5}",
        COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"start_ns\":9,\"end_ns\":3}",
        COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"confidence\":1.5}",
        COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"confidence\":\"high\"}",
        COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"is_final\":1}",
        COPILOT_ERROR_INVALID},
    {"{\"segment_id\":\"a\",\"text\":\"a\",\"speaker\":[]}",
        COPILOT_ERROR_INVALID},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (CopilotSegment) seg =
        copilot_segment_new_from_json_string (cases[i].json, -1, &error);

    g_test_message ("case %u: %s", i, cases[i].json);
    g_assert_null (seg);
    g_assert_error (error, COPILOT_ERROR, cases[i].code);
    g_assert_true (g_str_has_prefix (error->message,
            "Invalid transcript segment: "));
  }
}

static void
test_json_too_long (void)
{
  g_autofree char *big = g_strnfill (64 * 1024 + 1, 'a');
  g_autofree char *json =
      g_strdup_printf ("{\"segment_id\":\"a\",\"text\":\"%s\"}", big);
  g_autoptr (GError) error = NULL;
  g_autoptr (CopilotSegment) seg =
      copilot_segment_new_from_json_string (json, -1, &error);

  g_assert_null (seg);
  g_assert_error (error, COPILOT_ERROR, COPILOT_ERROR_TOO_LARGE);
}

/* Deep nesting would recurse in the parser: refused before parsing, while
 * brackets inside strings do not count. */
static void
test_json_deep_nesting (void)
{
  g_autofree char *deep = g_strnfill (200000, '[');
  g_autofree char *big = g_strnfill (2 * 1024 * 1024, ' ');
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autoptr (GError) error3 = NULL;
  g_autoptr (CopilotSegment) seg = NULL;
  g_autoptr (CopilotSegment) seg2 = NULL;
  g_autoptr (CopilotSegment) ok = NULL;

  seg = copilot_segment_new_from_json_string (deep, -1, &error);
  g_assert_null (seg);
  g_assert_error (error, COPILOT_ERROR, COPILOT_ERROR_TOO_LARGE);

  seg2 = copilot_segment_new_from_json_string (big, -1, &error2);
  g_assert_null (seg2);
  g_assert_error (error2, COPILOT_ERROR, COPILOT_ERROR_TOO_LARGE);

  ok = copilot_segment_new_from_json_string ("{\"segment_id\":\"a\","
      "\"text\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{{\"}", -1,
      &error3);
  g_assert_no_error (error3);
  g_assert_true (g_str_has_prefix (copilot_segment_get_text (ok), "[[[["));
}

static void
test_json_nesting_ok (void)
{
  g_autofree char *deep = g_strnfill (17, '{');

  g_assert_true (copilot_json_nesting_ok ("", 0, 0));
  g_assert_true (copilot_json_nesting_ok ("[[1]]", 5, 2));
  g_assert_false (copilot_json_nesting_ok ("[[1]]", 5, 1));
  g_assert_false (copilot_json_nesting_ok (deep, 17, 16));
  g_assert_true (copilot_json_nesting_ok (deep, 16, 16));
  /* Brackets in strings, escaped quotes included, do not count. */
  g_assert_true (copilot_json_nesting_ok ("[\"[[[\\\"[[\"]", 11, 1));
  g_assert_false (copilot_json_nesting_ok ("[\"\\\"\",[[]]]", 11, 2));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/segment/new", test_new_and_getters);
  g_test_add_func ("/segment/defaults", test_defaults_and_clamping);
  g_test_add_func ("/segment/boxed", test_boxed);
  g_test_add_func ("/segment/json/round-trip", test_json_round_trip);
  g_test_add_func ("/segment/json/bad-input", test_json_bad_input);
  g_test_add_func ("/segment/json/too-long", test_json_too_long);
  g_test_add_func ("/segment/json/deep-nesting", test_json_deep_nesting);
  g_test_add_func ("/json/nesting-ok", test_json_nesting_ok);
  return g_test_run ();
}
