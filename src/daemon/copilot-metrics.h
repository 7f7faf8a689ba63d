/* Counters of the daemon, rendered as Prometheus text. Main context only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define COPILOT_METRICS_N_BUCKETS 10

typedef struct
{
  guint64 frames_received;
  guint64 frames_dropped;
  guint64 events;
  guint64 calls;
  guint64 streams_refused;
  guint64 streams_refused_busy;  /* closed at max-calls (1008) */
  guint64 frames_oversized;     /* streams closed with 1009 */
  /* transcript.final latency_ms histogram */
  guint64 latency_buckets[COPILOT_METRICS_N_BUCKETS];
  guint64 latency_count;
  double latency_sum_s;
} CopilotMetrics;

void copilot_metrics_observe_latency (CopilotMetrics * self,
    double latency_ms);

G_GNUC_WARN_UNUSED_RESULT
char *copilot_metrics_to_prometheus (const CopilotMetrics * self,
    guint active_calls);

G_END_DECLS
