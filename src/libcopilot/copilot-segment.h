#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define COPILOT_TYPE_SEGMENT (copilot_segment_get_type ())
/**
 * COPILOT_SEGMENT_TIME_NONE:
 *
 * A start or end time that is not known.
 *
 * Since: 0.1
 */
#define COPILOT_SEGMENT_TIME_NONE G_MAXUINT64
typedef struct _CopilotSegment CopilotSegment;

G_GNUC_CONST
GType copilot_segment_get_type (void);

G_GNUC_WARN_UNUSED_RESULT
CopilotSegment *copilot_segment_new (const char *segment_id,
    const char *speaker, const char *text, guint64 start, guint64 end,
    double confidence, gboolean is_final);

CopilotSegment *copilot_segment_ref (CopilotSegment * self);
void copilot_segment_unref (CopilotSegment * self);

const char *copilot_segment_get_id (const CopilotSegment * self);
const char *copilot_segment_get_speaker (const CopilotSegment * self);
const char *copilot_segment_get_text (const CopilotSegment * self);
guint64 copilot_segment_get_start (const CopilotSegment * self);
guint64 copilot_segment_get_end (const CopilotSegment * self);
double copilot_segment_get_confidence (const CopilotSegment * self);
gboolean copilot_segment_is_final (const CopilotSegment * self);

gboolean copilot_segment_equal (const CopilotSegment * a,
    const CopilotSegment * b);

G_GNUC_WARN_UNUSED_RESULT
JsonNode *copilot_segment_to_json (const CopilotSegment * self);
G_GNUC_WARN_UNUSED_RESULT
char *copilot_segment_to_json_string (const CopilotSegment * self);
G_GNUC_WARN_UNUSED_RESULT
CopilotSegment *copilot_segment_new_from_json (JsonNode * node,
    GError ** error);
G_GNUC_WARN_UNUSED_RESULT
CopilotSegment *copilot_segment_new_from_json_string (const char *json,
    gssize length, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotSegment, copilot_segment_unref)
    G_END_DECLS
