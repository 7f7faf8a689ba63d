/* CopilotAsrStream: the decoding side of one asrsink.
 *
 * The streaming thread opens utterances, appends 16 kHz samples to them and
 * closes them; a pool worker (one at a time per stream, so the order is
 * kept) borrows a decoder from CopilotAsrPool when an utterance is ready to
 * be decoded, feeds it, reports partial and final results and gives the
 * decoder back after each final. */
#pragma once

#include <gst/gst.h>

#include "copilot-asr-engine.h"

G_BEGIN_DECLS

typedef struct _CopilotAsrStream CopilotAsrStream;

/**
 * CopilotAsrResult:
 * @index: the utterance's number in the stream, from 0
 * @start: running time of the utterance start
 * @end: running time of its end (finals) or of the audio decoded so far
 * @text: the hypothesis
 * @confidence: 0..1 (finals); partials have 0
 * @is_final: whether this is the utterance's final
 * @latency: finals: wall-clock nanoseconds from copilot_asr_stream_end()
 *   to the final
 */
typedef struct
{
  guint64 index;
  GstClockTime start;
  GstClockTime end;
  const char *text;
  double confidence;
  gboolean is_final;
  GstClockTimeDiff latency;
} CopilotAsrResult;

typedef struct
{
  guint64 utterances;
  guint64 finals;
  guint64 partials;
  double audio_seconds;         /* decoded */
  double cpu_seconds;           /* decoder thread CPU time */
  double wall_seconds;          /* decoder wall time */
  double dropped_seconds;
  GstClockTime max_delay;
  GstClockTime backlog;         /* audio not decoded yet */
} CopilotAsrStreamStats;

/* Both called from a pool worker thread, never with a lock held. */
typedef void (*CopilotAsrResultFunc) (const CopilotAsrResult * result,
    gpointer user_data);
typedef void (*CopilotAsrErrorFunc) (const GError * error, gpointer user_data);

G_GNUC_WARN_UNUSED_RESULT
CopilotAsrStream *copilot_asr_stream_new (const CopilotAsrConfig * config,
    GstClockTime partial_interval, GstClockTime max_backlog,
    CopilotAsrResultFunc result_func, CopilotAsrErrorFunc error_func,
    gpointer user_data);
CopilotAsrStream *copilot_asr_stream_ref (CopilotAsrStream * self);
void copilot_asr_stream_stop (CopilotAsrStream * self);
void copilot_asr_stream_unref (CopilotAsrStream * self);

void copilot_asr_stream_begin (CopilotAsrStream * self, GstClockTime start);
gboolean copilot_asr_stream_in_utterance (CopilotAsrStream * self);
GstClockTime copilot_asr_stream_utterance_duration (CopilotAsrStream * self);
GstFlowReturn copilot_asr_stream_push (CopilotAsrStream * self,
    const gint16 * samples, gsize n_samples, gboolean block, gsize * dropped);
void copilot_asr_stream_end (CopilotAsrStream * self, GstClockTime end);
void copilot_asr_stream_cancel (CopilotAsrStream * self);
gboolean copilot_asr_stream_drain (CopilotAsrStream * self);
void copilot_asr_stream_set_flushing (CopilotAsrStream * self,
    gboolean flushing);
void copilot_asr_stream_get_stats (CopilotAsrStream * self,
    CopilotAsrStreamStats * stats);
void copilot_asr_stream_set_narrowband (CopilotAsrStream * self,
    gboolean narrowband);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotAsrStream, copilot_asr_stream_unref);

G_END_DECLS
