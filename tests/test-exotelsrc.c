/* Tests of exotelsrc: caps, timing, reordering, gaps, events, bad input,
 * queueing, capture replay and state changes. */
#include "config.h"

#undef G_DISABLE_ASSERT
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#include "gstexotelsrc.h"
#include "copilot-exotel-frame.h"

#define SID "stream-1"

/* ---- Frame builders ---- */

static char *
start_json (const char *encoding, const char *rate)
{
  g_autofree char *rate_member = rate != NULL ?
      g_strdup_printf (",\"sample_rate\":%s", rate) : g_strdup ("");

  return g_strdup_printf ("{\"event\":\"start\",\"sequence_number\":\"1\","
      "\"stream_sid\":\"" SID "\",\"start\":{\"stream_sid\":\"" SID "\","
      "\"call_sid\":\"call-1\",\"account_sid\":\"acct-1\","
      "\"from\":\"09999900001\",\"to\":\"08047000000\","
      "\"custom_parameters\":{\"lang\":\"hi\",\"priority\":2,"
      "\"bad key\":\"x\"},"
      "\"media_format\":{\"encoding\":\"%s\"%s,\"bit_rate\":\"128kbps\"}}}",
      encoding, rate_member);
}

/* Sample i of chunk @seed: a value that says where it came from. */
static gint16
sample_value (guint seed, guint i)
{
  return (gint16) (seed * 1000 + i);
}

static guint8
mulaw_value (guint seed, guint i)
{
  return (guint8) (seed * 16 + i);
}

static char *
media_json_full (gint64 chunk, gint64 ts, const char *track, guint seed,
    guint samples, gboolean mulaw)
{
  g_autofree guint8 *data = g_malloc (samples * 2 + 1);
  g_autofree char *payload = NULL;
  g_autofree char *track_member = track != NULL ?
      g_strdup_printf (",\"track\":\"%s\"", track) : g_strdup ("");
  g_autofree char *ts_member = ts >= 0 ?
      g_strdup_printf (",\"timestamp\":\"%" G_GINT64_FORMAT "\"", ts) :
      g_strdup ("");

  for (guint i = 0; i < samples; i++) {
    if (mulaw) {
      data[i] = mulaw_value (seed, i);
    } else {
      gint16 v = GINT16_TO_LE (sample_value (seed, i));

      memcpy (data + 2 * i, &v, 2);
    }
  }
  payload = g_base64_encode (data, mulaw ? samples : samples * 2);
  return g_strdup_printf ("{\"event\":\"media\",\"sequence_number\":\"%"
      G_GINT64_FORMAT "\",\"stream_sid\":\"" SID "\",\"media\":{\"chunk\":\"%"
      G_GINT64_FORMAT "\"%s%s,\"payload\":\"%s\"}}", chunk + 1, chunk,
      ts_member, track_member, payload);
}

static char *
media_json (gint64 chunk, gint64 ts, guint seed, guint samples)
{
  return media_json_full (chunk, ts, NULL, seed, samples, FALSE);
}

static const char *const stop_json =
    "{\"event\":\"stop\",\"sequence_number\":\"99\",\"stream_sid\":\"" SID
    "\",\"stop\":{\"call_sid\":\"call-1\",\"account_sid\":\"acct-1\","
    "\"reason\":\"callended\"}}";

/* ---- Harness helpers ---- */

static gboolean
push (GstHarness * h, const char *json)
{
  gboolean ret = FALSE;

  g_signal_emit_by_name (h->element, "push-frame", json, &ret);
  return ret;
}

static void
push_take (GstHarness * h, char *json)
{
  g_assert_true (push (h, json));
  g_free (json);
}

static GstHarness *
new_harness (GstBus ** bus)
{
  GstHarness *h = gst_harness_new ("exotelsrc");

  if (bus != NULL) {
    *bus = gst_bus_new ();
    gst_element_set_bus (h->element, *bus);
  }
  return h;
}

static guint64
get_stat (GstHarness * h, const char *name)
{
  g_autoptr (GstStructure) s = NULL;
  guint64 v = G_MAXUINT64;

  g_object_get (h->element, "stats", &s, NULL);
  g_assert_true (gst_structure_get_uint64 (s, name, &v));
  return v;
}

typedef struct
{
  GArray *samples;              /* gint16 or guint8, interleaved */
  GPtrArray *buffers;
  GstClockTime end;
} Output;

static void
output_clear (Output * out)
{
  g_clear_pointer (&out->samples, g_array_unref);
  g_clear_pointer (&out->buffers, g_ptr_array_unref);
}

/* Pulls buffers until EOS, checking that they follow each other, possibly
 * with GAP events (only counted when @allow_holes) in between. */
static void
collect (GstHarness * h, guint sample_size, gboolean allow_holes, Output * out)
{
  GstBuffer *buf = NULL;

  out->samples = g_array_new (FALSE, FALSE, sample_size);
  out->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  out->end = GST_CLOCK_TIME_NONE;

  while (gst_harness_pull_until_eos (h, &buf) && buf != NULL) {
    GstMapInfo map;

    g_assert_true (GST_BUFFER_PTS_IS_VALID (buf));
    g_assert_true (GST_BUFFER_DURATION_IS_VALID (buf));
    if (GST_CLOCK_TIME_IS_VALID (out->end)) {
      if (allow_holes)
        g_assert_cmpuint (GST_BUFFER_PTS (buf), >=, out->end);
      else
        g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, out->end);
    }
    out->end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_assert_cmpuint (map.size % sample_size, ==, 0);
    g_array_append_vals (out->samples, map.data, map.size / sample_size);
    gst_buffer_unmap (buf, &map);
    g_ptr_array_add (out->buffers, buf);
  }
  g_assert_null (buf);
}

/* Asserts that @n samples of chunk @seed are at @offset of mono S16 output. */
static void
assert_chunk (const Output * out, guint offset, guint seed, guint n)
{
  g_assert_cmpuint (out->samples->len, >=, offset + n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_array_index (out->samples, gint16, offset + i), ==,
        sample_value (seed, i));
}

static void
assert_silence (const Output * out, guint offset, guint n)
{
  g_assert_cmpuint (out->samples->len, >=, offset + n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_array_index (out->samples, gint16, offset + i), ==, 0);
}

static void
assert_caps (GstHarness * h, const char *media, int rate, int channels)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (h->sinkpad);
  GstStructure *s;
  int v;

  g_assert_nonnull (caps);
  s = gst_caps_get_structure (caps, 0);
  g_assert_cmpstr (gst_structure_get_name (s), ==, media);
  g_assert_true (gst_structure_get_int (s, "rate", &v));
  g_assert_cmpint (v, ==, rate);
  g_assert_true (gst_structure_get_int (s, "channels", &v));
  g_assert_cmpint (v, ==, channels);
  if (g_str_equal (media, "audio/x-raw"))
    g_assert_cmpstr (gst_structure_get_string (s, "format"), ==, "S16LE");
}

/* Pops element messages of @name from @bus (already posted). */
static GstMessage *
pop_element_message (GstBus * bus, const char *name)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) != NULL) {
    if (gst_message_has_name (msg, name))
      return msg;
    gst_message_unref (msg);
  }
  return NULL;
}

/* ---- Parser ---- */

static void
test_parser (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CopilotExotelFrame) f = NULL;
  CopilotExotelEncoding enc;
  const char *json;

  json = "{\"event\":\"media\",\"sequence_number\":3,\"stream_sid\":\"s\","
      "\"media\":{\"chunk\":2,\"timestamp\":5242.0,\"track\":\"outbound\","
      "\"payload\":\"AAEC\"}}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->event, ==, COPILOT_EXOTEL_EVENT_MEDIA);
  g_assert_cmpint (f->sequence_number, ==, 3);
  g_assert_cmpint (f->chunk, ==, 2);
  g_assert_cmpint (f->timestamp_ms, ==, 5242);
  g_assert_cmpint (f->track, ==, COPILOT_EXOTEL_TRACK_OUTBOUND);
  g_assert_cmpuint (g_bytes_get_size (f->payload), ==, 3);
  g_clear_pointer (&f, copilot_exotel_frame_free);

  /* Unpadded base64 is accepted; stray characters are not. */
  json = "{\"event\":\"media\",\"media\":{\"payload\":\"AAE\"}}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (f->payload), ==, 2);
  g_assert_cmpint (f->timestamp_ms, ==, -1);
  g_clear_pointer (&f, copilot_exotel_frame_free);
  json = "{\"event\":\"media\",\"media\":{\"payload\":\"AA*E\"}}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_BASE64);
  g_clear_error (&error);

  json = "{\"event\":\"media\",\"media\":{\"timestamp\":\"-4\","
      "\"payload\":\"AAEC\"}}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FIELD);
  g_clear_error (&error);
  json = "{\"event\":\"media\",\"media\":{\"timestamp\":1e300,"
      "\"payload\":\"AAEC\"}}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  json = "{\"event\":\"stop\"}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->event, ==, COPILOT_EXOTEL_EVENT_STOP);
  g_assert_null (f->reason);
  g_clear_pointer (&f, copilot_exotel_frame_free);

  json = "{\"event\":\"start\",\"start\":{\"media_format\":"
      "{\"encoding\":\"base64\",\"sample_rate\":\"11025\"}}}";
  f = copilot_exotel_frame_parse (json, strlen (json), &error);
  g_assert_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FORMAT);
  g_clear_error (&error);

  g_assert_true (copilot_exotel_parse_encoding ("audio/x-mulaw", &enc));
  g_assert_cmpint (enc, ==, COPILOT_EXOTEL_ENCODING_MULAW);
  g_assert_true (copilot_exotel_parse_encoding ("PCMU", &enc));
  g_assert_cmpint (enc, ==, COPILOT_EXOTEL_ENCODING_MULAW);
  for (guint i = 0; i < 5; i++) {
    const char *names[] = { "base64", "slin", "linear16", "audio/l16",
      "audio/x-raw"
    };
    g_assert_true (copilot_exotel_parse_encoding (names[i], &enc));
    g_assert_cmpint (enc, ==, COPILOT_EXOTEL_ENCODING_S16LE);
  }
  g_assert_false (copilot_exotel_parse_encoding ("opus", &enc));
}

/* ---- Caps ---- */

static void
test_caps_raw (void)
{
  const int rates[] = { 8000, 16000, 24000 };

  for (guint r = 0; r < G_N_ELEMENTS (rates); r++) {
    GstHarness *h = new_harness (NULL);
    g_autofree char *rate = g_strdup_printf ("\"%d\"", rates[r]);
    guint n = rates[r] / 50;    /* 20 ms */
    Output out;

    gst_harness_play (h);
    push_take (h, start_json ("base64", rate));
    for (guint c = 0; c < 3; c++)
      push_take (h, media_json (c + 1, 100 + 20 * c, c + 1, n));
    g_assert_true (push (h, stop_json));

    collect (h, 2, FALSE, &out);
    assert_caps (h, "audio/x-raw", rates[r], 1);
    g_assert_cmpuint (out.samples->len, ==, 3 * n);
    for (guint c = 0; c < 3; c++)
      assert_chunk (&out, c * n, c + 1, n);
    g_assert_cmpuint (out.end, ==, 60 * GST_MSECOND);
    output_clear (&out);
    gst_harness_teardown (h);
  }
}

static void
test_caps_mulaw (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;

  gst_harness_play (h);
  /* The rate arrives as a JSON number here. */
  push_take (h, start_json ("audio/x-mulaw", "16000"));
  /* Any byte count is whole mu-law samples. */
  push_take (h, media_json_full (1, 0, NULL, 1, 321, TRUE));
  push_take (h, media_json_full (2, 20, NULL, 2, 320, TRUE));
  g_assert_true (push (h, stop_json));

  collect (h, 1, FALSE, &out);
  assert_caps (h, "audio/x-mulaw", 16000, 1);
  g_assert_cmpuint (out.samples->len, ==, 641);
  for (guint i = 0; i < 321; i++)
    g_assert_cmpuint (g_array_index (out.samples, guint8, i), ==,
        mulaw_value (1, i));
  for (guint i = 0; i < 320; i++)
    g_assert_cmpuint (g_array_index (out.samples, guint8, 321 + i), ==,
        mulaw_value (2, i));
  g_assert_cmpuint (GST_BUFFER_DURATION (g_ptr_array_index (out.buffers, 0)),
      ==, gst_util_uint64_scale_int (321, GST_SECOND, 16000));
  output_clear (&out);
  gst_harness_teardown (h);
}

/* Inbound on channel 0, outbound on 1, aligned by timestamp although the
 * outbound track starts 40 ms later and its frames arrive interleaved. */
static void
test_both_tracks (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;

  gst_util_set_object_arg (G_OBJECT (h->element), "track", "both");
  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  for (guint c = 0; c < 5; c++) {
    push_take (h, media_json_full (c + 1, 1000 + 20 * c, "inbound", c + 1,
            160, FALSE));
    if (c >= 2)
      push_take (h, media_json_full (c + 1, 1000 + 20 * c, "outbound",
              c + 9, 160, FALSE));
  }
  g_assert_true (push (h, stop_json));

  collect (h, 4, FALSE, &out);
  assert_caps (h, "audio/x-raw", 8000, 2);
  g_assert_cmpuint (out.samples->len, ==, 800);
  for (guint i = 0; i < 800; i++) {
    gint16 in, outb;

    memcpy (&in, (const guint8 *) out.samples->data + 4 * i, 2);
    memcpy (&outb, (const guint8 *) out.samples->data + 4 * i + 2, 2);
    g_assert_cmpint (in, ==, sample_value (i / 160 + 1, i % 160));
    if (i < 320)
      g_assert_cmpint (outb, ==, 0);
    else
      g_assert_cmpint (outb, ==, sample_value (i / 160 + 9, i % 160));
  }
  g_assert_cmpuint (out.end, ==, 100 * GST_MSECOND);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* ---- Timing ---- */

static void
test_timestamps (void)
{
  GstHarness *h = new_harness (NULL);
  const guint sizes[] = { 160, 800, 80 };
  const gint64 ts[] = { 1000, 1020, 1120 };
  const GstClockTime pts[] = { 0, 20, 120 };
  const GstClockTime dur[] = { 20, 100, 10 };

  gst_harness_use_testclock (h);
  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  for (guint i = 0; i < 3; i++)
    push_take (h, media_json (i + 1, ts[i], i + 1, sizes[i]));
  g_assert_true (push (h, stop_json));

  for (guint i = 0; i < 3; i++) {
    GstBuffer *buf = gst_harness_pull (h);

    g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, pts[i] * GST_MSECOND);
    g_assert_cmpuint (GST_BUFFER_DURATION (buf), ==, dur[i] * GST_MSECOND);
    g_assert_cmpuint (GST_BUFFER_OFFSET (buf), ==, pts[i] * 8);
    g_assert_cmpuint (GST_BUFFER_OFFSET_END (buf), ==, (pts[i] + dur[i]) * 8);
    g_assert_cmpuint (gst_buffer_get_size (buf), ==, sizes[i] * 2);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

/* Live: the first audio is stamped with the running time it was captured. */
static void
test_live_timestamps (void)
{
  GstHarness *h = new_harness (NULL);
  GstBuffer *buf;
  GstQuery *query;
  gboolean live;
  GstClockTime min, max;

  gst_harness_use_testclock (h);
  gst_harness_play (h);
  g_assert_true (gst_harness_set_time (h, 5 * GST_SECOND));
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 300, 1, 160));
  push_take (h, media_json (2, 320, 2, 160));

  buf = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 5 * GST_SECOND - 20 *
      GST_MSECOND);
  gst_buffer_unref (buf);
  buf = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 5 * GST_SECOND);
  gst_buffer_unref (buf);

  query = gst_query_new_latency ();
  g_assert_true (gst_element_query (h->element, query));
  gst_query_parse_latency (query, &live, &min, &max);
  g_assert_true (live);
  g_assert_cmpuint (min, ==, 200 * GST_MSECOND);
  gst_query_unref (query);
  gst_harness_teardown (h);
}

/* Chunks 1, 2, (3, 4 missing), 5..@last of 20 ms at 8 kHz. */
static void
push_with_hole (GstHarness * h, guint last)
{
  push_take (h, start_json ("base64", "\"8000\""));
  for (guint c = 1; c <= last; c++) {
    if (c != 3 && c != 4)
      push_take (h, media_json (c, 20 * (c - 1), c, 160));
  }
}

static void
test_gap_silence (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;
  guint gap_buffers = 0;

  gst_harness_play (h);
  push_with_hole (h, 12);
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 12 * 160);
  for (guint c = 1; c <= 12; c++) {
    if (c == 3 || c == 4)
      assert_silence (&out, (c - 1) * 160, 160);
    else
      assert_chunk (&out, (c - 1) * 160, c, 160);
  }
  for (guint i = 0; i < out.buffers->len; i++) {
    GstBuffer *buf = g_ptr_array_index (out.buffers, i);

    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
      gap_buffers++;
      g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 40 * GST_MSECOND);
      g_assert_cmpuint (GST_BUFFER_DURATION (buf), ==, 40 * GST_MSECOND);
    }
  }
  g_assert_cmpuint (gap_buffers, ==, 1);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 1);
  g_assert_cmpuint (get_stat (h, "gap-duration"), ==, 40 * GST_MSECOND);
  g_assert_cmpuint (get_stat (h, "frames-pushed"), ==, 10);
  output_clear (&out);
  gst_harness_teardown (h);
}

static void
test_gap_event (void)
{
  GstHarness *h = new_harness (NULL);
  GstEvent *event;
  Output out;
  guint gaps = 0;

  gst_util_set_object_arg (G_OBJECT (h->element), "gap-mode", "gap");
  gst_harness_play (h);
  push_with_hole (h, 12);
  g_assert_true (push (h, stop_json));

  collect (h, 2, TRUE, &out);
  /* Only real audio in buffers; the hole is a GAP event. */
  g_assert_cmpuint (out.samples->len, ==, 10 * 160);
  assert_chunk (&out, 0, 1, 160);
  assert_chunk (&out, 160, 2, 160);
  for (guint c = 5; c <= 12; c++)
    assert_chunk (&out, (c - 3) * 160, c, 160);
  for (guint i = 0; i < out.buffers->len; i++) {
    GstBuffer *buf = g_ptr_array_index (out.buffers, i);

    g_assert_false (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
    if (i == 2) {
      g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 80 * GST_MSECOND);
      g_assert_true (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    }
  }
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
      GstClockTime ts, dur;

      gst_event_parse_gap (event, &ts, &dur);
      g_assert_cmpuint (ts, ==, 40 * GST_MSECOND);
      g_assert_cmpuint (dur, ==, 40 * GST_MSECOND);
      gaps++;
    }
    gst_event_unref (event);
  }
  g_assert_cmpuint (gaps, ==, 1);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* ---- Reordering, late and duplicate frames ---- */

static void
test_reorder (void)
{
  GstHarness *h = new_harness (NULL);
  const guint order[] = { 1, 2, 4, 3, 6, 5, 7 };
  Output out;

  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    push_take (h, media_json (order[i], 20 * (order[i] - 1), order[i], 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 7 * 160);
  for (guint c = 1; c <= 7; c++)
    assert_chunk (&out, (c - 1) * 160, c, 160);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 0);
  g_assert_cmpuint (get_stat (h, "frames-late"), ==, 0);
  g_assert_cmpuint (get_stat (h, "frames-pushed"), ==, 7);
  output_clear (&out);
  gst_harness_teardown (h);
}

static void
test_late (void)
{
  GstHarness *h = new_harness (NULL);
  GstBuffer *buf;
  Output out;

  gst_harness_play (h);
  push_with_hole (h, 12);
  /* By now more than reorder-window of audio followed the hole, so chunk 3
   * was given up; chunk 4 (in time for nothing either) follows. */
  /* Chunks 1 and 2, the silence, chunks 5 to 12. */
  for (guint i = 0; i < 11; i++) {
    buf = gst_harness_pull (h);
    gst_buffer_unref (buf);
  }
  push_take (h, media_json (3, 40, 3, 160));
  push_take (h, media_json (13, 240, 13, 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 160);
  assert_chunk (&out, 0, 13, 160);
  g_assert_cmpuint (get_stat (h, "frames-late"), ==, 1);
  g_assert_cmpuint (get_stat (h, "frames-invalid"), ==, 0);
  g_assert_cmpuint (get_stat (h, "frames-pushed"), ==, 11);
  output_clear (&out);
  gst_harness_teardown (h);
}

static void
test_duplicate (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;

  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  push_take (h, media_json (2, 20, 2, 160));
  push_take (h, media_json (2, 20, 7, 160));
  push_take (h, media_json (3, 40, 3, 160));
  push_take (h, media_json (1, 0, 8, 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 3 * 160);
  for (guint c = 1; c <= 3; c++)
    assert_chunk (&out, (c - 1) * 160, c, 160);
  g_assert_cmpuint (get_stat (h, "frames-duplicate"), ==, 2);
  g_assert_cmpuint (get_stat (h, "frames-late"), ==, 0);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* Stop drains frames still held for reordering, then EOS. */
static void
test_stop_eos (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;
  GstEvent *event;
  gboolean eos = FALSE;

  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  push_take (h, media_json (3, 40, 3, 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 3 * 160);
  assert_chunk (&out, 0, 1, 160);
  assert_silence (&out, 160, 160);
  assert_chunk (&out, 320, 3, 160);
  /* The harness flags EOS before queueing the event: wait for it. */
  while (!eos && (event = gst_harness_pull_event (h)) != NULL) {
    eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
    gst_event_unref (event);
  }
  g_assert_true (eos);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* ---- Messages ---- */

static void
test_messages (void)
{
  GstBus *bus;
  GstHarness *h = new_harness (&bus);
  const char *dtmf = "{\"event\":\"dtmf\",\"sequence_number\":\"4\","
      "\"stream_sid\":\"" SID "\",\"dtmf\":{\"digit\":\"7\","
      "\"duration\":\"120\"}}";
  const char *mark = "{\"event\":\"mark\",\"sequence_number\":\"5\","
      "\"stream_sid\":\"" SID "\",\"mark\":{\"name\":\"greeting\"}}";
  const GstStructure *s, *custom;
  g_autoptr (GstCaps) caps = NULL;
  GstMessage *msg;
  Output out;
  gint64 i64;
  guint64 u64;
  int rate;

  gst_harness_play (h);
  g_assert_true (push (h, "{\"event\":\"connected\"}"));
  push_take (h, start_json ("slin", NULL));
  push_take (h, media_json (1, 0, 1, 320));
  g_assert_true (push (h, dtmf));
  push_take (h, media_json (2, 20, 2, 320));
  g_assert_true (push (h, mark));
  g_assert_true (push (h, stop_json));
  collect (h, 2, FALSE, &out);

  /* The start frame had no sample_rate and sample-rate was still 0 then. */
  g_assert_cmpuint (out.samples->len, ==, 0);
  g_assert_cmpuint (get_stat (h, "invalid-format"), ==, 1);
  g_assert_cmpuint (get_stat (h, "media-before-start"), ==, 2);
  g_assert_nonnull ((msg = pop_element_message (bus, "exotel-dtmf")));
  gst_message_unref (msg);
  output_clear (&out);
  gst_harness_teardown (h);
  gst_object_unref (bus);

  /* Now with the property set in time. */
  h = new_harness (&bus);
  g_object_set (h->element, "sample-rate", 16000, NULL);
  gst_harness_play (h);
  g_assert_true (push (h, "{\"event\":\"connected\"}"));
  push_take (h, start_json ("slin", NULL));
  push_take (h, media_json (1, 0, 1, 320));
  g_assert_true (push (h, dtmf));
  push_take (h, media_json (2, 20, 2, 320));
  g_assert_true (push (h, mark));
  g_assert_true (push (h, stop_json));
  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 640);
  assert_caps (h, "audio/x-raw", 16000, 1);

  msg = pop_element_message (bus, "exotel-start");
  g_assert_nonnull (msg);
  s = gst_message_get_structure (msg);
  g_assert_cmpstr (gst_structure_get_string (s, "stream-sid"), ==, SID);
  g_assert_cmpstr (gst_structure_get_string (s, "call-sid"), ==, "call-1");
  g_assert_cmpstr (gst_structure_get_string (s, "account-sid"), ==, "acct-1");
  g_assert_cmpstr (gst_structure_get_string (s, "from"), ==, "09999900001");
  g_assert_cmpstr (gst_structure_get_string (s, "to"), ==, "08047000000");
  g_assert_cmpstr (gst_structure_get_string (s, "encoding"), ==, "slin");
  g_assert_cmpstr (gst_structure_get_string (s, "bit-rate"), ==, "128kbps");
  g_assert_true (gst_structure_get_int (s, "sample-rate", &rate));
  g_assert_cmpint (rate, ==, 16000);
  g_assert_true (gst_structure_get_int64 (s, "sequence-number", &i64));
  g_assert_cmpint (i64, ==, 1);
  g_assert_true (gst_structure_get (s, "caps", GST_TYPE_CAPS, &caps, NULL));
  g_assert_true (gst_caps_is_fixed (caps));
  custom = gst_value_get_structure (gst_structure_get_value (s,
          "custom-parameters"));
  g_assert_cmpstr (gst_structure_get_string (custom, "lang"), ==, "hi");
  g_assert_cmpstr (gst_structure_get_string (custom, "priority"), ==, "2");
  g_assert_false (gst_structure_has_field (custom, "bad key"));
  g_assert_nonnull (strstr (gst_structure_get_string (s,
              "custom-parameters-json"), "\"bad key\":\"x\""));
  gst_message_unref (msg);

  msg = pop_element_message (bus, "exotel-dtmf");
  g_assert_nonnull (msg);
  s = gst_message_get_structure (msg);
  g_assert_cmpstr (gst_structure_get_string (s, "digit"), ==, "7");
  g_assert_true (gst_structure_get_int64 (s, "duration", &i64));
  g_assert_cmpint (i64, ==, 120);
  g_assert_true (gst_structure_get_uint64 (s, "pts", &u64));
  g_assert_cmpuint (u64, ==, 20 * GST_MSECOND);
  gst_message_unref (msg);

  msg = pop_element_message (bus, "exotel-mark");
  g_assert_nonnull (msg);
  s = gst_message_get_structure (msg);
  g_assert_cmpstr (gst_structure_get_string (s, "name"), ==, "greeting");
  g_assert_true (gst_structure_get_uint64 (s, "pts", &u64));
  g_assert_cmpuint (u64, ==, 40 * GST_MSECOND);
  gst_message_unref (msg);

  msg = pop_element_message (bus, "exotel-stop");
  g_assert_nonnull (msg);
  s = gst_message_get_structure (msg);
  g_assert_cmpstr (gst_structure_get_string (s, "reason"), ==, "callended");
  g_assert_cmpstr (gst_structure_get_string (s, "call-sid"), ==, "call-1");
  g_assert_cmpstr (gst_structure_get_string (s, "stream-sid"), ==, SID);
  gst_message_unref (msg);

  output_clear (&out);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* ---- Bad input ---- */

static void
test_bad_input (void)
{
  GstBus *bus;
  GstHarness *h = new_harness (&bus);
  g_autofree char *deep = NULL;
  g_autofree char *huge = NULL;
  g_autofree char *long_audio = NULL;
  g_autofree char *bad_rate = start_json ("base64", "\"44100\"");
  g_autofree char *bad_encoding = start_json ("opus", "\"8000\"");
  gboolean ret = TRUE;
  GstMessage *msg;
  Output out;
  struct
  {
    const char *json;
    const char *stat;
  } bad[] = {
    {"{\"event\":\"media\",", "invalid-json"},
    {"[1,2]", "invalid-json"},
    {"{\"event\":\"media\",\"media\":{\"payload\":\"\xff\xfe\"}}",
        "invalid-json"},
    {"{\"event\":\"media\",\"media\":{\"timestamp\":\"60\","
          "\"payload\":\"A*==\"}}", "invalid-base64"},
    {"{\"event\":\"media\",\"media\":{\"timestamp\":\"60\","
          "\"payload\":\"AAEC\"}}", "invalid-payload-size"},
    {"{\"event\":\"media\",\"media\":{\"timestamp\":\"60\","
          "\"payload\":\"\"}}", "invalid-payload-size"},
    {"{\"event\":\"hangup\"}", "unknown-event"},
    {"{\"sequence_number\":\"5\"}", "invalid-field"},
    {"{\"event\":\"media\",\"media\":{\"timestamp\":\"abc\","
          "\"payload\":\"AAAA\"}}", "invalid-field"},
    {"{\"event\":\"media\",\"media\":{\"track\":\"sideways\","
          "\"payload\":\"AAAA\"}}", "invalid-field"},
    {"{\"event\":\"dtmf\",\"dtmf\":{}}", "invalid-field"},
    {"{\"event\":\"media\",\"media\":{\"timestamp\":"
          "\"99999999999999999999999\",\"payload\":\"AAAA\"}}", "oversized"},
    {"{\"event\":\"media\",\"media\":{\"chunk\":1e40,\"payload\":\"AAAA\"}}",
        "oversized"},
    {NULL, "duplicate-start"},
    {NULL, "invalid-format"},
    {NULL, "invalid-format"},
    {NULL, "invalid-json"},
    {NULL, "oversized"},
    {NULL, "oversized"},
  };
  guint n_bad = G_N_ELEMENTS (bad);
  guint64 total = 0;

  {
    GString *s = g_string_new (NULL);
    guint8 *pcm = g_malloc0 (16002);

    for (guint i = 0; i < 5000; i++)
      g_string_append_c (s, '[');
    deep = g_string_free (s, FALSE);
    huge = g_strnfill (70000, ' ');
    memcpy (huge, "{\"event\":\"connected\"", 20);
    huge[69999] = '}';
    /* 8001 samples at 8 kHz: more than one second in one frame. */
    {
      g_autofree char *payload = g_base64_encode (pcm, 16002);

      long_audio = g_strdup_printf ("{\"event\":\"media\",\"media\":"
          "{\"timestamp\":\"60\",\"payload\":\"%s\"}}", payload);
    }
    g_free (pcm);
  }
  g_object_set (h->element, "max-frame-size", 65536, NULL);
  gst_harness_play (h);

  /* Media before start. */
  push_take (h, media_json (1, 0, 50, 160));
  push_take (h, start_json ("base64", "\"8000\""));
  for (guint i = 0; i < n_bad; i++) {
    const char *json = bad[i].json;

    push_take (h, media_json (i + 1, 20 * i, i + 1, 160));
    if (json == NULL) {
      switch (i - 13) {
        case 0:
          push_take (h, start_json ("base64", "\"8000\""));
          continue;
        case 1:
          json = bad_rate;
          break;
        case 2:
          json = bad_encoding;
          break;
        case 3:
          g_signal_emit_by_name (h->element, "push-frame", NULL, &ret);
          g_assert_false (ret);
          continue;
        case 4:
          json = huge;
          break;
        case 5:
          json = long_audio;
          break;
        default:
          g_assert_not_reached ();
      }
    }
    g_signal_emit_by_name (h->element, "push-frame", json, &ret);
    /* Frames that parse are queued; the rest are refused at once. */
    if (g_str_equal (bad[i].stat, "invalid-payload-size")
        || g_str_equal (bad[i].stat, "duplicate-start")
        || json == long_audio)
      g_assert_true (ret);
    else
      g_assert_false (ret);
  }
  g_assert_false (push (h, deep));
  push_take (h, media_json (n_bad + 1, 20 * n_bad, n_bad + 1, 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, (n_bad + 1) * 160);
  for (guint c = 1; c <= n_bad + 1; c++)
    assert_chunk (&out, (c - 1) * 160, c, 160);

  for (guint i = 0; i < n_bad; i++) {
    guint64 expected = 0;

    for (guint j = 0; j < n_bad; j++)
      expected += g_str_equal (bad[j].stat, bad[i].stat);
    if (g_str_equal (bad[i].stat, "invalid-json"))
      expected++;               /* the deep one */
    g_assert_cmpuint (get_stat (h, bad[i].stat), ==, expected);
  }
  g_assert_cmpuint (get_stat (h, "media-before-start"), ==, 1);
  total = n_bad + 2;
  g_assert_cmpuint (get_stat (h, "frames-invalid"), ==, total);
  g_assert_cmpuint (get_stat (h, "frames-pushed"), ==, n_bad + 1);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 0);
  /* Every push-frame call counts as received: start, media before start,
   * n_bad media, n_bad bad ones, deep, last media, stop. */
  g_assert_cmpuint (get_stat (h, "frames-received"), ==, 2 * n_bad + 5);

  /* Only the first bad frame becomes a warning message. */
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));

  output_clear (&out);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* ---- Queue ---- */

static void
test_overflow (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *m4 = media_json (4, 60, 4, 160);
  Output out;

  /* Frames pushed before the element runs wait in the queue. */
  g_object_set (h->element, "max-queue", 3, NULL);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  push_take (h, media_json (2, 20, 2, 160));
  g_assert_false (push (h, m4));
  /* Stop may use the reserve; media may not. */
  g_assert_true (push (h, stop_json));
  g_assert_false (push (h, m4));
  g_assert_cmpuint (get_stat (h, "frames-dropped-overflow"), ==, 2);
  g_assert_cmpuint (get_stat (h, "queue-level"), ==, 4);
  g_assert_cmpuint (get_stat (h, "frames-invalid"), ==, 0);

  gst_harness_play (h);
  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 320);
  assert_chunk (&out, 0, 1, 160);
  assert_chunk (&out, 160, 2, 160);
  g_assert_cmpuint (get_stat (h, "queue-level"), ==, 0);
  g_assert_cmpuint (get_stat (h, "frames-received"), ==, 6);
  output_clear (&out);
  gst_harness_teardown (h);
}

typedef struct
{
  GstElement *element;
  guint n;
} PushData;

static gpointer
push_thread (gpointer user_data)
{
  PushData *data = user_data;
  g_autofree char *start = start_json ("base64", "\"8000\"");

  g_assert_true (gst_exotel_src_push_frame (GST_EXOTEL_SRC (data->element),
          start, -1));
  for (guint c = 1; c <= data->n; c++) {
    g_autofree char *m = media_json (c, 20 * (c - 1), c, 160);

    g_assert_true (gst_exotel_src_push_frame (GST_EXOTEL_SRC (data->element),
            m, strlen (m)));
  }
  g_assert_true (gst_exotel_src_push_frame (GST_EXOTEL_SRC (data->element),
          stop_json, -1));
  return NULL;
}

static void
test_push_thread (void)
{
  GstHarness *h = new_harness (NULL);
  PushData data = { h->element, 30 };
  GThread *thread;
  Output out;

  g_assert_true (gst_base_src_is_live (GST_BASE_SRC (h->element)));
  gst_harness_play (h);
  thread = g_thread_new ("pusher", push_thread, &data);
  collect (h, 2, FALSE, &out);
  g_thread_join (thread);
  g_assert_cmpuint (out.samples->len, ==, data.n * 160);
  for (guint c = 1; c <= data.n; c++)
    assert_chunk (&out, (c - 1) * 160, c, 160);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* Going to NULL while create() waits for frames must not hang. */
static void
test_null_while_blocked (void)
{
  GstHarness *h = new_harness (NULL);
  GstEvent *event;
  gboolean caps = FALSE;

  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  /* Once the caps are out, the streaming thread waits for the next frame. */
  while (!caps && (event = gst_harness_pull_event (h)) != NULL) {
    caps = GST_EVENT_TYPE (event) == GST_EVENT_CAPS;
    gst_event_unref (event);
  }
  g_assert_true (caps);
  g_assert_cmpint (gst_element_set_state (h->element, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_teardown (h);
}

/* ---- Capture replay ---- */

/* A file name in a new private directory: tests may run concurrently. */
static char *
tmp_path (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("exotelsrc-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, name, NULL);
}

static void
remove_tmp (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static char *
fixture_path (void)
{
  return g_test_build_filename (G_TEST_DIST, "data", "exotel",
      "call-8k.ndjson", NULL);
}

static void
test_location_fast (void)
{
  GstBus *bus;
  GstHarness *h = new_harness (&bus);
  g_autofree char *path = fixture_path ();
  GstMessage *msg;
  Output out;

  g_object_set (h->element, "location", path, "pace",
      GST_EXOTEL_SRC_PACE_FAST, NULL);
  g_assert_false (gst_base_src_is_live (GST_BASE_SRC (h->element)));
  gst_harness_play (h);
  collect (h, 2, FALSE, &out);
  assert_caps (h, "audio/x-raw", 8000, 1);
  g_assert_cmpuint (out.samples->len, ==, 1600);
  for (guint c = 1; c <= 10; c++)
    for (guint i = 0; i < 160; i++)
      g_assert_cmpint (g_array_index (out.samples, gint16, (c - 1) * 160 + i),
          ==, c * 100 + i);
  g_assert_cmpuint (GST_BUFFER_PTS (g_ptr_array_index (out.buffers, 0)), ==, 0);
  g_assert_cmpuint (out.end, ==, 200 * GST_MSECOND);
  g_assert_cmpuint (get_stat (h, "frames-received"), ==, 15);
  g_assert_cmpuint (get_stat (h, "frames-invalid"), ==, 0);
  msg = pop_element_message (bus, "exotel-dtmf");
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  msg = pop_element_message (bus, "exotel-stop");
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  output_clear (&out);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* A capture written here: CRLF, blank and broken lines, an oversized line,
 * no stop frame. */
static void
test_location_messy (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *path = tmp_path ("messy.ndjson");
  g_autofree char *start = start_json ("audio/x-mulaw", "\"8000\"");
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_strnfill (5000, 'x');
  Output out;

  g_string_append_printf (text, "%s\r\n\n   \n", start);
  for (guint c = 1; c <= 4; c++) {
    g_autofree char *m = media_json_full (c, 20 * (c - 1), NULL, c, 160, TRUE);

    g_string_append_printf (text, "%s\n", m);
    if (c == 2)
      g_string_append_printf (text, "{not json\n%s\n", big);
  }
  /* A NUL byte must not glue lines together. */
  g_string_append_len (text, "{\"event\"\0:1}\n", 13);
  {
    g_autofree char *m = media_json_full (5, 80, NULL, 5, 160, TRUE);

    g_string_append (text, m);  /* last line without newline */
  }
  g_assert_true (g_file_set_contents (path, text->str, text->len, &error));

  g_object_set (h->element, "location", path, "pace",
      GST_EXOTEL_SRC_PACE_FAST, "max-frame-size", 4096, NULL);
  gst_harness_play (h);
  collect (h, 1, FALSE, &out);
  assert_caps (h, "audio/x-mulaw", 8000, 1);
  g_assert_cmpuint (out.samples->len, ==, 5 * 160);
  for (guint c = 1; c <= 5; c++)
    for (guint i = 0; i < 160; i++)
      g_assert_cmpuint (g_array_index (out.samples, guint8, (c - 1) * 160 + i),
          ==, mulaw_value (c, i));
  g_assert_cmpuint (get_stat (h, "invalid-json"), ==, 2);
  g_assert_cmpuint (get_stat (h, "oversized"), ==, 1);
  g_assert_cmpuint (get_stat (h, "frames-received"), ==, 9);
  output_clear (&out);
  gst_harness_teardown (h);
  remove_tmp (path);
}

static void
test_location_pipeline (void)
{
  g_autofree char *path = fixture_path ();
  g_autofree char *wav = tmp_path ("call.wav");
  g_autofree char *desc = g_strdup_printf ("exotelsrc location=\"%s\" "
      "pace=fast ! audioconvert ! wavenc ! filesink location=\"%s\"", path,
      wav);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr (GstBus) bus = NULL;
  GstMessage *msg;
  GStatBuf st;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpint (g_stat (wav, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 44 + 3200);
  remove_tmp (wav);
}

/* Realtime replay: each frame waits for the clock to reach its end. */
static void
test_location_realtime (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *path = fixture_path ();
  GstTestClock *clock;
  GstBuffer *buf;

  g_object_set (h->element, "location", path, NULL);
  g_assert_true (gst_base_src_is_live (GST_BASE_SRC (h->element)));
  gst_harness_use_testclock (h);
  clock = gst_harness_get_testclock (h);
  gst_harness_play (h);

  buf = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 0);
  gst_buffer_unref (buf);
  for (guint c = 2; c <= 10; c++) {
    g_assert_true (gst_harness_crank_single_clock_wait (h));
    g_assert_cmpuint (gst_clock_get_time (GST_CLOCK (clock)), ==,
        c * 20 * GST_MSECOND);
    buf = gst_harness_pull (h);
    g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, (c - 1) * 20 * GST_MSECOND);
    gst_buffer_unref (buf);
  }
  g_assert_true (gst_harness_pull_until_eos (h, &buf));
  g_assert_null (buf);
  gst_object_unref (clock);
  gst_harness_teardown (h);
}

/* Going to NULL while waiting for the clock must not hang either. */
static void
test_location_realtime_null (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *path = tmp_path ("hour.ndjson");
  g_autofree char *start = start_json ("base64", "\"8000\"");
  g_autofree char *m1 = media_json (1, 0, 1, 160);
  g_autofree char *m2 = media_json (2, 3600 * 1000, 2, 160);
  g_autofree char *text = g_strdup_printf ("%s\n%s\n%s\n", start, m1, m2);
  GstBuffer *buf;

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  /* An hour is a hole to fill here, not a jump. */
  g_object_set (h->element, "location", path, "max-gap", 2 * 3600 * GST_SECOND,
      NULL);
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  buf = gst_harness_pull (h);
  gst_buffer_unref (buf);
  g_assert_cmpint (gst_element_set_state (h->element, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_teardown (h);
  remove_tmp (path);
}

static void
test_location_missing (void)
{
  g_autoptr (GstElement) src = gst_element_factory_make ("exotelsrc", NULL);
  g_autoptr (GstBus) bus = gst_bus_new ();
  g_autoptr (GError) error = NULL;
  GstMessage *msg;

  gst_element_set_bus (src, bus);
  g_object_set (src, "location", "/nonexistent/call.ndjson", NULL);
  g_assert_cmpint (gst_element_set_state (src, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, NULL);
  g_assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);
  /* push-frame has nothing to do while replaying a file. */
  g_assert_false (gst_exotel_src_push_frame (GST_EXOTEL_SRC (src),
          "{\"event\":\"connected\"}", -1));
}

/* ---- Timestamp jumps ---- */

/* Asserts that @buf holds chunk @seed of @n samples at @pts_ms. */
static void
assert_buffer (GstBuffer * buf, GstClockTime pts_ms, guint seed, guint n,
    gboolean discont)
{
  GstMapInfo map;

  g_assert_nonnull (buf);
  g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, pts_ms * GST_MSECOND);
  g_assert_cmpint (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT), ==,
      discont);
  g_assert_false (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_assert_cmpuint (map.size, ==, n * 2);
  for (guint i = 0; i < n; i++) {
    gint16 v;

    memcpy (&v, map.data + 2 * i, 2);
    g_assert_cmpint (GINT16_FROM_LE (v), ==, sample_value (seed, i));
  }
  gst_buffer_unmap (buf, &map);
}

/* A jump of a day is not a day of silence: the audio after it follows the
 * audio before it on a DISCONT buffer, and later frames, reordered or
 * timestamped from before the jump, are placed relative to the jump. */
static void
test_jump (void)
{
  GstHarness *h = new_harness (NULL);
  /* Almost a day: the largest timestamp allowed is a day. */
  const gint64 day = COPILOT_EXOTEL_MAX_TIMESTAMP_MS - 1000;
  GstBuffer *buf;
  Output out;

  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  push_take (h, media_json (2, day, 2, 160));
  push_take (h, media_json (4, day + 40, 4, 160));
  push_take (h, media_json (3, day + 20, 3, 160));
  push_take (h, media_json (9, 20, 9, 160));
  g_assert_true (push (h, stop_json));

  /* Checked one by one: without a bound the second buffer is silence and a
   * day of it follows. */
  buf = gst_harness_pull (h);
  assert_buffer (buf, 0, 1, 160, TRUE);
  gst_buffer_unref (buf);
  buf = gst_harness_pull (h);
  assert_buffer (buf, 20, 2, 160, TRUE);
  gst_buffer_unref (buf);

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 2 * 160);
  assert_chunk (&out, 0, 3, 160);
  assert_chunk (&out, 160, 4, 160);
  g_assert_cmpuint (GST_BUFFER_PTS (g_ptr_array_index (out.buffers, 0)), ==,
      40 * GST_MSECOND);
  g_assert_cmpuint (out.end, ==, 80 * GST_MSECOND);
  g_assert_cmpuint (get_stat (h, "discontinuities"), ==, 1);
  g_assert_cmpuint (get_stat (h, "discontinuity-duration"), ==,
      (day - 20) * GST_MSECOND);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 0);
  g_assert_cmpuint (get_stat (h, "frames-late"), ==, 1);
  g_assert_cmpuint (get_stat (h, "frames-pushed"), ==, 4);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* Holes up to max-gap are filled as before; longer ones are jumps. */
static void
run_hole (GstClockTime max_gap, const char *gap_mode, gboolean filled)
{
  GstHarness *h = new_harness (NULL);
  guint gap_events = 0;
  GstEvent *event;
  Output out;

  g_object_set (h->element, "max-gap", max_gap, NULL);
  gst_util_set_object_arg (G_OBJECT (h->element), "gap-mode", gap_mode);
  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  push_take (h, media_json (2, 3000, 2, 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, g_str_equal (gap_mode, "gap"), &out);
  assert_chunk (&out, 0, 1, 160);
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP)
      gap_events++;
    gst_event_unref (event);
  }
  if (filled) {
    GstBuffer *last = g_ptr_array_index (out.buffers, out.buffers->len - 1);

    g_assert_cmpuint (GST_BUFFER_PTS (last), ==, 3000 * GST_MSECOND);
    g_assert_true (GST_BUFFER_FLAG_IS_SET (last, GST_BUFFER_FLAG_DISCONT) ==
        g_str_equal (gap_mode, "gap"));
    g_assert_cmpuint (out.end, ==, 3020 * GST_MSECOND);
    g_assert_cmpuint (get_stat (h, "gaps"), ==, 1);
    g_assert_cmpuint (get_stat (h, "gap-duration"), ==, 2980 * GST_MSECOND);
    g_assert_cmpuint (get_stat (h, "discontinuities"), ==, 0);
    if (g_str_equal (gap_mode, "gap")) {
      g_assert_cmpuint (out.samples->len, ==, 320);
      g_assert_cmpuint (gap_events, ==, 1);
    } else {
      g_assert_cmpuint (out.samples->len, ==, 3020 * 8);
      assert_silence (&out, 160, 2980 * 8);
    }
  } else {
    GstBuffer *second = g_ptr_array_index (out.buffers, 1);

    g_assert_cmpuint (out.buffers->len, ==, 2);
    g_assert_cmpuint (GST_BUFFER_PTS (second), ==, 20 * GST_MSECOND);
    g_assert_true (GST_BUFFER_FLAG_IS_SET (second, GST_BUFFER_FLAG_DISCONT));
    assert_chunk (&out, 160, 2, 160);
    g_assert_cmpuint (get_stat (h, "gaps"), ==, 0);
    g_assert_cmpuint (get_stat (h, "discontinuities"), ==, 1);
    g_assert_cmpuint (get_stat (h, "discontinuity-duration"), ==,
        2980 * GST_MSECOND);
    g_assert_cmpuint (gap_events, ==, 0);
  }
  output_clear (&out);
  gst_harness_teardown (h);
}

static void
test_max_gap (void)
{
  GstElement *src = gst_element_factory_make ("exotelsrc", NULL);
  guint64 v;

  g_object_get (src, "max-gap", &v, NULL);
  g_assert_cmpuint (v, ==, 5 * GST_SECOND);
  gst_object_unref (src);

  run_hole (5 * GST_SECOND, "silence", TRUE);
  run_hole (5 * GST_SECOND, "gap", TRUE);
  run_hole (GST_SECOND, "silence", FALSE);
  run_hole (GST_SECOND, "gap", FALSE);
}

/* Both tracks share the timeline, so one jump moves both. */
static void
test_jump_both_tracks (void)
{
  GstHarness *h = new_harness (NULL);
  /* Almost a day: the largest timestamp allowed is a day. */
  const gint64 day = COPILOT_EXOTEL_MAX_TIMESTAMP_MS - 1000;
  GstBuffer *buf;

  gst_util_set_object_arg (G_OBJECT (h->element), "track", "both");
  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json_full (1, 0, "inbound", 1, 160, FALSE));
  push_take (h, media_json_full (1, 0, "outbound", 11, 160, FALSE));
  push_take (h, media_json_full (2, day, "inbound", 2, 160, FALSE));
  push_take (h, media_json_full (2, day, "outbound", 12, 160, FALSE));
  g_assert_true (push (h, stop_json));

  /* One buffer per pair of frames; the second follows the jump. */
  for (guint c = 1; c <= 2; c++) {
    GstMapInfo map;

    g_assert_true (gst_harness_pull_until_eos (h, &buf));
    g_assert_nonnull (buf);
    g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, (c - 1) * 20 * GST_MSECOND);
    g_assert_true (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_assert_cmpuint (map.size, ==, 160 * 4);
    for (guint i = 0; i < 160; i++) {
      gint16 in, outb;

      memcpy (&in, map.data + 4 * i, 2);
      memcpy (&outb, map.data + 4 * i + 2, 2);
      g_assert_cmpint (in, ==, sample_value (c, i));
      g_assert_cmpint (outb, ==, sample_value (c + 10, i));
    }
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  g_assert_true (gst_harness_pull_until_eos (h, &buf));
  g_assert_null (buf);
  g_assert_cmpuint (get_stat (h, "discontinuities"), ==, 1);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 0);
  gst_harness_teardown (h);
}

/* The reviewer's case: a small capture with a day-long jump replayed fast
 * gives its two buffers, not a day of silence. */
static void
test_jump_location_fast (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *path = tmp_path ("huge.ndjson");
  g_autofree char *start = start_json ("base64", "\"8000\"");
  g_autofree char *m1 = media_json (1, 0, 1, 160);
  g_autofree char *m2 = media_json (2, COPILOT_EXOTEL_MAX_TIMESTAMP_MS, 2,
      160);
  g_autofree char *text = g_strdup_printf ("%s\n%s\n%s\n%s\n", start, m1, m2,
      stop_json);
  GstBuffer *buf;

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_object_set (h->element, "location", path, "pace",
      GST_EXOTEL_SRC_PACE_FAST, NULL);
  gst_harness_play (h);
  for (guint c = 1; c <= 2; c++) {
    g_assert_true (gst_harness_pull_until_eos (h, &buf));
    assert_buffer (buf, 20 * (c - 1), c, 160, TRUE);
    gst_buffer_unref (buf);
  }
  g_assert_true (gst_harness_pull_until_eos (h, &buf));
  g_assert_null (buf);
  g_assert_cmpuint (get_stat (h, "discontinuities"), ==, 1);
  gst_harness_teardown (h);
  remove_tmp (path);
}

/* Realtime replay does not wait for the jumped time. */
static void
test_jump_location_realtime (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *path = tmp_path ("jump.ndjson");
  /* Almost a day: the largest timestamp allowed is a day. */
  const gint64 day = COPILOT_EXOTEL_MAX_TIMESTAMP_MS - 1000;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *start = start_json ("base64", "\"8000\"");
  GstTestClock *clock;
  GstBuffer *buf;

  g_string_append_printf (text, "%s\n", start);
  for (guint c = 1; c <= 3; c++) {
    g_autofree char *m = media_json (c, c == 1 ? 0 : day + 20 * (c - 2), c,
        160);

    g_string_append_printf (text, "%s\n", m);
  }
  g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));
  g_object_set (h->element, "location", path, NULL);
  gst_harness_use_testclock (h);
  clock = gst_harness_get_testclock (h);
  gst_harness_play (h);

  buf = gst_harness_pull (h);
  assert_buffer (buf, 0, 1, 160, TRUE);
  gst_buffer_unref (buf);
  for (guint c = 2; c <= 3; c++) {
    g_assert_true (gst_harness_crank_single_clock_wait (h));
    g_assert_cmpuint (gst_clock_get_time (GST_CLOCK (clock)), ==,
        c * 20 * GST_MSECOND);
    buf = gst_harness_pull (h);
    assert_buffer (buf, (c - 1) * 20, c, 160, c == 2);
    gst_buffer_unref (buf);
  }
  g_assert_true (gst_harness_pull_until_eos (h, &buf));
  g_assert_null (buf);
  gst_object_unref (clock);
  gst_harness_teardown (h);
  remove_tmp (path);
}

/* Untimestamped frames followed by a small timestamp put the base below
 * zero; it is still computed once, so later holes are kept. */
static void
test_negative_base (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;

  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, -1, 1, 160));
  push_take (h, media_json (2, -1, 2, 160));
  push_take (h, media_json (3, 10, 3, 160));
  push_take (h, media_json (4, 100, 4, 160));
  g_assert_true (push (h, stop_json));

  collect (h, 2, FALSE, &out);
  /* Chunk 4 starts 90 ms after chunk 3: 70 ms of silence between. */
  g_assert_cmpuint (out.samples->len, ==, 4 * 160 + 560);
  for (guint c = 1; c <= 3; c++)
    assert_chunk (&out, (c - 1) * 160, c, 160);
  assert_silence (&out, 480, 560);
  assert_chunk (&out, 1040, 4, 160);
  g_assert_cmpuint (get_stat (h, "gap-duration"), ==, 70 * GST_MSECOND);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* ... and realtime replay keeps pacing frames after such a base. */
static void
test_negative_base_realtime (void)
{
  GstHarness *h = new_harness (NULL);
  g_autofree char *path = tmp_path ("untimed.ndjson");
  const gint64 ts[] = { -1, -1, 10, 30 };
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *start = start_json ("base64", "\"8000\"");
  GstTestClock *clock;
  GstBuffer *buf;

  g_string_append_printf (text, "%s\n", start);
  for (guint c = 1; c <= 4; c++) {
    g_autofree char *m = media_json (c, ts[c - 1], c, 160);

    g_string_append_printf (text, "%s\n", m);
  }
  g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));
  g_object_set (h->element, "location", path, NULL);
  gst_harness_use_testclock (h);
  clock = gst_harness_get_testclock (h);
  gst_harness_play (h);

  /* Nothing to pace the first three by. */
  for (guint c = 1; c <= 3; c++) {
    buf = gst_harness_pull (h);
    g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, (c - 1) * 20 * GST_MSECOND);
    gst_buffer_unref (buf);
  }
  /* Chunk 4 lies at 60 ms: it waits for 80 ms. */
  g_assert_true (gst_test_clock_timed_wait_for_multiple_pending_ids (clock, 1,
          10000, NULL));
  g_assert_true (gst_harness_crank_single_clock_wait (h));
  g_assert_cmpuint (gst_clock_get_time (GST_CLOCK (clock)), ==,
      80 * GST_MSECOND);
  buf = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 60 * GST_MSECOND);
  gst_buffer_unref (buf);
  g_assert_true (gst_harness_pull_until_eos (h, &buf));
  g_assert_null (buf);
  gst_object_unref (clock);
  gst_harness_teardown (h);
  remove_tmp (path);
}

/* ---- Bounded reorder buffer ---- */

/* Frames repeating the start of a held frame under new chunk numbers are
 * duplicates, not more frames to hold. */
static void
test_reorder_same_position (void)
{
  GstHarness *h = new_harness (NULL);
  Output out;

  g_object_set (h->element, "max-queue", 2000, NULL);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  push_take (h, media_json (3, 40, 3, 160));
  for (guint i = 0; i < 1000; i++)
    push_take (h, media_json (100 + i, 40, 5, 160));
  push_take (h, media_json (2, 20, 2, 160));
  g_assert_true (push (h, stop_json));
  gst_harness_play (h);

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 3 * 160);
  for (guint c = 1; c <= 3; c++)
    assert_chunk (&out, (c - 1) * 160, c, 160);
  g_assert_cmpuint (get_stat (h, "frames-duplicate"), ==, 1000);
  g_assert_cmpuint (get_stat (h, "frames-late"), ==, 0);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 0);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* With a long reorder window, many small frames behind a hole are held up to
 * a bound; past it the hole is given up, so the frame that would fill it
 * comes too late. */
static void
test_reorder_bounded (void)
{
  GstHarness *h = new_harness (NULL);
  const guint n = 600;
  Output out;

  g_object_set (h->element, "max-queue", 2000, "reorder-window",
      10 * GST_SECOND, NULL);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  /* 1 ms frames from 40 ms on; 20 ms to 40 ms is missing. */
  for (guint i = 0; i < n; i++)
    push_take (h, media_json (10 + i, 40 + i, 10 + i, 8));
  push_take (h, media_json (2, 20, 2, 160));
  g_assert_true (push (h, stop_json));
  gst_harness_play (h);

  collect (h, 2, FALSE, &out);
  g_assert_cmpuint (out.samples->len, ==, 2 * 160 + n * 8);
  assert_chunk (&out, 0, 1, 160);
  assert_silence (&out, 160, 160);
  for (guint i = 0; i < n; i++)
    assert_chunk (&out, 320 + i * 8, 10 + i, 8);
  g_assert_cmpuint (get_stat (h, "reorder-overflows"), ==, 1);
  g_assert_cmpuint (get_stat (h, "frames-late"), ==, 1);
  g_assert_cmpuint (get_stat (h, "gaps"), ==, 1);
  output_clear (&out);
  gst_harness_teardown (h);
}

/* Overlapping second-long frames at distinct positions are bounded by the
 * audio they hold: reorder-window plus one second. */
static void
test_reorder_bounded_audio (void)
{
  GstHarness *h = new_harness (NULL);
  GstBuffer *buf = NULL;

  g_object_set (h->element, "max-queue", 2000, "reorder-window",
      10 * GST_SECOND, NULL);
  push_take (h, start_json ("base64", "\"8000\""));
  push_take (h, media_json (1, 0, 1, 160));
  for (guint i = 0; i < 20; i++)
    push_take (h, media_json (10 + i, 40 + 6 * i, 10 + i, 8000));
  g_assert_true (push (h, stop_json));
  gst_harness_play (h);

  while (gst_harness_pull_until_eos (h, &buf) && buf != NULL)
    gst_buffer_unref (buf);
  g_assert_null (buf);
  g_assert_cmpuint (get_stat (h, "reorder-overflows"), ==, 1);
  gst_harness_teardown (h);
}

/* ---- Track selection ---- */

static void
run_tracks (const char *mode, guint first_seed, guint64 other)
{
  GstHarness *h = new_harness (NULL);
  Output out;

  gst_util_set_object_arg (G_OBJECT (h->element), "track", mode);
  gst_harness_play (h);
  push_take (h, start_json ("base64", "\"8000\""));
  for (guint c = 1; c <= 3; c++) {
    push_take (h, media_json_full (c, 20 * (c - 1), "outbound", c + 10, 160,
            FALSE));
    push_take (h, media_json_full (c, 20 * (c - 1), "inbound", c, 160, FALSE));
  }
  g_assert_true (push (h, stop_json));
  collect (h, 2, FALSE, &out);
  assert_caps (h, "audio/x-raw", 8000, 1);
  g_assert_cmpuint (out.samples->len, ==, 480);
  for (guint c = 1; c <= 3; c++)
    assert_chunk (&out, (c - 1) * 160, first_seed + c - 1, 160);
  g_assert_cmpuint (get_stat (h, "frames-other-track"), ==, other);
  output_clear (&out);
  gst_harness_teardown (h);
}

static void
test_track_select (void)
{
  run_tracks ("inbound", 1, 3);
  run_tracks ("outbound", 11, 3);
  /* auto follows the first track seen, outbound here. */
  run_tracks ("auto", 11, 3);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/exotelsrc/parser", test_parser);
  g_test_add_func ("/exotelsrc/caps/raw", test_caps_raw);
  g_test_add_func ("/exotelsrc/caps/mulaw", test_caps_mulaw);
  g_test_add_func ("/exotelsrc/caps/both-tracks", test_both_tracks);
  g_test_add_func ("/exotelsrc/tracks/select", test_track_select);
  g_test_add_func ("/exotelsrc/timestamps", test_timestamps);
  g_test_add_func ("/exotelsrc/timestamps/live", test_live_timestamps);
  g_test_add_func ("/exotelsrc/gap/silence", test_gap_silence);
  g_test_add_func ("/exotelsrc/gap/event", test_gap_event);
  g_test_add_func ("/exotelsrc/reorder", test_reorder);
  g_test_add_func ("/exotelsrc/late", test_late);
  g_test_add_func ("/exotelsrc/duplicate", test_duplicate);
  g_test_add_func ("/exotelsrc/stop-eos", test_stop_eos);
  g_test_add_func ("/exotelsrc/messages", test_messages);
  g_test_add_func ("/exotelsrc/bad-input", test_bad_input);
  g_test_add_func ("/exotelsrc/queue/overflow", test_overflow);
  g_test_add_func ("/exotelsrc/queue/push-thread", test_push_thread);
  g_test_add_func ("/exotelsrc/state/null-while-blocked",
      test_null_while_blocked);
  g_test_add_func ("/exotelsrc/location/fast", test_location_fast);
  g_test_add_func ("/exotelsrc/location/messy", test_location_messy);
  g_test_add_func ("/exotelsrc/location/pipeline", test_location_pipeline);
  g_test_add_func ("/exotelsrc/location/realtime", test_location_realtime);
  g_test_add_func ("/exotelsrc/location/realtime-null",
      test_location_realtime_null);
  g_test_add_func ("/exotelsrc/location/missing", test_location_missing);
  g_test_add_func ("/exotelsrc/jump", test_jump);
  g_test_add_func ("/exotelsrc/jump/max-gap", test_max_gap);
  g_test_add_func ("/exotelsrc/jump/both-tracks", test_jump_both_tracks);
  g_test_add_func ("/exotelsrc/jump/location-fast", test_jump_location_fast);
  g_test_add_func ("/exotelsrc/jump/location-realtime",
      test_jump_location_realtime);
  g_test_add_func ("/exotelsrc/timestamps/negative-base", test_negative_base);
  g_test_add_func ("/exotelsrc/timestamps/negative-base-realtime",
      test_negative_base_realtime);
  g_test_add_func ("/exotelsrc/reorder/same-position",
      test_reorder_same_position);
  g_test_add_func ("/exotelsrc/reorder/bounded", test_reorder_bounded);
  g_test_add_func ("/exotelsrc/reorder/bounded-audio",
      test_reorder_bounded_audio);
  return g_test_run ();
}
