/* Counters of the daemon, rendered as Prometheus text. Main context only. */
#include "config.h"

#include "copilot-metrics.h"

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[COPILOT_METRICS_N_BUCKETS - 1] = {
  0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0,
};

void
copilot_metrics_observe_latency (CopilotMetrics * self, double latency_ms)
{
  double s = latency_ms / 1000.0;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bounds) && s > bounds[i]; i++);
  self->latency_buckets[i]++;
  self->latency_count++;
  self->latency_sum_s += s;
}

static void
counter (GString * out, const char *name, const char *help, guint64 value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s counter\n%s %"
      G_GUINT64_FORMAT "\n", name, help, name, name, value);
}

char *
copilot_metrics_to_prometheus (const CopilotMetrics * self, guint active_calls)
{
  GString *out = g_string_new (NULL);
  guint64 cumulative = 0;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "# HELP copilot_active_calls Calls in "
      "progress\n# TYPE copilot_active_calls gauge\ncopilot_active_calls %u\n",
      active_calls);
  counter (out, "copilot_calls_total", "Calls created", self->calls);
  counter (out, "copilot_frames_received_total",
      "WebSocket frames received on the ingest endpoint",
      self->frames_received);
  counter (out, "copilot_frames_dropped_total",
      "Ingest frames refused (invalid, out of order, binary, over a limit)",
      self->frames_dropped);
  counter (out, "copilot_frames_oversized_total",
      "Ingest frames over max-frame-size (the stream is closed with 1009)",
      self->frames_oversized);
  counter (out, "copilot_events_total", "Events emitted", self->events);
  counter (out, "copilot_streams_refused_total",
      "Ingest streams refused (limits, duplicates)", self->streams_refused);

  g_string_append (out, "# HELP copilot_transcript_final_latency_seconds "
      "From the end of an utterance to its transcript.final\n"
      "# TYPE copilot_transcript_final_latency_seconds histogram\n");
  for (guint i = 0; i < COPILOT_METRICS_N_BUCKETS; i++) {
    cumulative += self->latency_buckets[i];
    if (i < G_N_ELEMENTS (bounds))
      g_ascii_dtostr (buf, sizeof buf, bounds[i]);
    else
      g_strlcpy (buf, "+Inf", sizeof buf);
    g_string_append_printf (out, "copilot_transcript_final_latency_seconds_"
        "bucket{le=\"%s\"} %" G_GUINT64_FORMAT "\n", buf, cumulative);
  }
  g_ascii_dtostr (buf, sizeof buf, self->latency_sum_s);
  g_string_append_printf (out,
      "copilot_transcript_final_latency_seconds_sum %s\n"
      "copilot_transcript_final_latency_seconds_count %" G_GUINT64_FORMAT
      "\n", buf, self->latency_count);
  return g_string_free (out, FALSE);
}
