#include "config.h"

#include "copilot-segment.h"
#include "copilot-error.h"
#include "copilot-json.h"

#include <math.h>
#include <string.h>

/* Limits applied to segments read from JSON, which may come from an untrusted
 * peer (a REST client or another node). */
#define MAX_ID_LENGTH 256
#define MAX_SPEAKER_LENGTH 64
#define MAX_TEXT_LENGTH (64 * 1024)
/* A segment is one flat object; json-glib's parser recurses per level, so
 * deeper documents are refused before parsing. */
#define MAX_DOCUMENT_LENGTH (1024 * 1024)
#define MAX_NESTING 16

/**
 * CopilotSegment:
 *
 * One piece of transcript: what a speaker said between two instants of the
 * call's audio, as recognised so far (a partial hypothesis) or for good (a
 * final one).
 *
 * Segments are immutable and reference counted, so they can be handed from a
 * decoding thread to a main context without copying. Times are in
 * nanoseconds of call audio (running time of the stream); either may be
 * %COPILOT_SEGMENT_TIME_NONE when unknown.
 *
 * Since: 0.1
 */
struct _CopilotSegment
{
  gatomicrefcount ref_count;
  char *id;
  char *speaker;
  char *text;
  guint64 start;
  guint64 end;
  double confidence;
  gboolean is_final;
};

G_DEFINE_BOXED_TYPE (CopilotSegment, copilot_segment, copilot_segment_ref,
    copilot_segment_unref);

/**
 * copilot_segment_new:
 * @segment_id: identifier of the segment, unique within a call; partials and
 *   the final of one utterance share it
 * @speaker: (nullable): speaker label such as "agent" or "customer";
 *   %NULL means "unknown"
 * @text: the recognised text (UTF-8)
 * @start: start of the segment in nanoseconds, or %COPILOT_SEGMENT_TIME_NONE
 * @end: end of the segment in nanoseconds, or %COPILOT_SEGMENT_TIME_NONE
 * @confidence: recogniser confidence, clamped to 0..1
 * @is_final: whether this is the final result for the utterance
 *
 * Creates a new segment.
 *
 * Returns: (transfer full): a new segment
 *
 * Since: 0.1
 */
CopilotSegment *
copilot_segment_new (const char *segment_id, const char *speaker,
    const char *text, guint64 start, guint64 end, double confidence,
    gboolean is_final)
{
  CopilotSegment *self;

  g_return_val_if_fail (segment_id != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  self = g_new0 (CopilotSegment, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->id = g_strdup (segment_id);
  self->speaker = g_strdup (speaker != NULL ? speaker : "unknown");
  self->text = g_strdup (text);
  self->start = start;
  self->end = end;
  if (isnan (confidence))
    confidence = 0.0;
  self->confidence = CLAMP (confidence, 0.0, 1.0);
  self->is_final = is_final ? TRUE : FALSE;
  return self;
}

/**
 * copilot_segment_ref:
 * @self: a segment
 *
 * Returns: (transfer full): @self with one more reference
 *
 * Since: 0.1
 */
CopilotSegment *
copilot_segment_ref (CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * copilot_segment_unref:
 * @self: (transfer full): a segment
 *
 * Drops a reference, freeing the segment when it was the last one.
 *
 * Since: 0.1
 */
void
copilot_segment_unref (CopilotSegment * self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->id);
  g_free (self->speaker);
  g_free (self->text);
  g_free (self);
}

/**
 * copilot_segment_get_id:
 * @self: a segment
 *
 * Returns: (transfer none): the segment identifier
 *
 * Since: 0.1
 */
const char *
copilot_segment_get_id (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->id;
}

/**
 * copilot_segment_get_speaker:
 * @self: a segment
 *
 * Returns: (transfer none): the speaker label ("unknown" when none was given)
 *
 * Since: 0.1
 */
const char *
copilot_segment_get_speaker (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->speaker;
}

/**
 * copilot_segment_get_text:
 * @self: a segment
 *
 * Returns: (transfer none): the recognised text
 *
 * Since: 0.1
 */
const char *
copilot_segment_get_text (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->text;
}

/**
 * copilot_segment_get_start:
 * @self: a segment
 *
 * Returns: the start in nanoseconds, or %COPILOT_SEGMENT_TIME_NONE
 *
 * Since: 0.1
 */
guint64
copilot_segment_get_start (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, COPILOT_SEGMENT_TIME_NONE);
  return self->start;
}

/**
 * copilot_segment_get_end:
 * @self: a segment
 *
 * Returns: the end in nanoseconds, or %COPILOT_SEGMENT_TIME_NONE
 *
 * Since: 0.1
 */
guint64
copilot_segment_get_end (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, COPILOT_SEGMENT_TIME_NONE);
  return self->end;
}

/**
 * copilot_segment_get_confidence:
 * @self: a segment
 *
 * Returns: the confidence, between 0 and 1
 *
 * Since: 0.1
 */
double
copilot_segment_get_confidence (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, 0.0);
  return self->confidence;
}

/**
 * copilot_segment_is_final:
 * @self: a segment
 *
 * Returns: %TRUE for the final result of an utterance, %FALSE for a partial
 *
 * Since: 0.1
 */
gboolean
copilot_segment_is_final (const CopilotSegment * self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->is_final;
}

/**
 * copilot_segment_equal:
 * @a: a segment
 * @b: another segment
 *
 * Compares two segments member by member. Confidences are compared to
 * within 1e-9 so that a JSON round trip compares equal.
 *
 * Returns: %TRUE if @a and @b hold the same values
 *
 * Since: 0.1
 */
gboolean
copilot_segment_equal (const CopilotSegment * a, const CopilotSegment * b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return g_str_equal (a->id, b->id) && g_str_equal (a->speaker, b->speaker)
      && g_str_equal (a->text, b->text) && a->start == b->start
      && a->end == b->end && fabs (a->confidence - b->confidence) < 1e-9
      && a->is_final == b->is_final;
}

static void
add_time_member (JsonBuilder * builder, const char *name, guint64 t)
{
  json_builder_set_member_name (builder, name);
  if (t == COPILOT_SEGMENT_TIME_NONE || t > (guint64) G_MAXINT64)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, (gint64) t);
}

/**
 * copilot_segment_to_json:
 * @self: a segment
 *
 * Serialises the segment as a JSON object with the members `segment_id`,
 * `speaker`, `text`, `start_ns`, `end_ns` (integers, or null when unknown),
 * `confidence` and `is_final`.
 *
 * Returns: (transfer full): a new JSON object node
 *
 * Since: 0.1
 */
JsonNode *
copilot_segment_to_json (const CopilotSegment * self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "segment_id");
  json_builder_add_string_value (builder, self->id);
  json_builder_set_member_name (builder, "speaker");
  json_builder_add_string_value (builder, self->speaker);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, self->text);
  add_time_member (builder, "start_ns", self->start);
  add_time_member (builder, "end_ns", self->end);
  json_builder_set_member_name (builder, "confidence");
  json_builder_add_double_value (builder, self->confidence);
  json_builder_set_member_name (builder, "is_final");
  json_builder_add_boolean_value (builder, self->is_final);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * copilot_segment_to_json_string:
 * @self: a segment
 *
 * Serialises the segment as compact JSON text, see
 * [method@Copilot.Segment.to_json].
 *
 * Returns: (transfer full): a newly allocated string
 *
 * Since: 0.1
 */
char *
copilot_segment_to_json_string (const CopilotSegment * self)
{
  g_autoptr (JsonNode) node = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  node = copilot_segment_to_json (self);
  return json_to_string (node, FALSE);
}

static gboolean
read_string (JsonObject * obj, const char *name, gsize max_len,
    gboolean required, const char **out, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, name);
  const char *s;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required) {
      g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
          "member \"%s\" is missing", name);
      return FALSE;
    }
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "member \"%s\" is not a string", name);
    return FALSE;
  }
  s = json_node_get_string (node);
  if (strlen (s) > max_len) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_TOO_LARGE,
        "member \"%s\" is longer than %" G_GSIZE_FORMAT " bytes", name,
        max_len);
    return FALSE;
  }
  *out = s;
  return TRUE;
}

static gboolean
read_time (JsonObject * obj, const char *name, guint64 * out, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, name);
  gint64 v;

  *out = COPILOT_SEGMENT_TIME_NONE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "member \"%s\" is not an integer", name);
    return FALSE;
  }
  v = json_node_get_int (node);
  if (v < 0) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "member \"%s\" is negative", name);
    return FALSE;
  }
  *out = (guint64) v;
  return TRUE;
}

/**
 * copilot_segment_new_from_json:
 * @node: a JSON node, as written by [method@Copilot.Segment.to_json]
 * @error: return location for a #GError
 *
 * Reads a segment from JSON. The input is treated as untrusted: members
 * have the wrong type, are out of range (confidence outside 0..1, end
 * before start) or too long (text over 64 KiB) fail with a
 * %COPILOT_ERROR error. Unknown members are ignored.
 *
 * Returns: (transfer full): a new segment, or %NULL with @error set
 *
 * Since: 0.1
 */
CopilotSegment *
copilot_segment_new_from_json (JsonNode * node, GError ** error)
{
  JsonObject *obj;
  JsonNode *member;
  const char *id, *speaker, *text;
  guint64 start, end;
  double confidence = 0.0;
  gboolean is_final = FALSE;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "not a JSON object");
    goto fail;
  }
  obj = json_node_get_object (node);

  if (!read_string (obj, "segment_id", MAX_ID_LENGTH, TRUE, &id, error)
      || !read_string (obj, "speaker", MAX_SPEAKER_LENGTH, FALSE, &speaker,
          error)
      || !read_string (obj, "text", MAX_TEXT_LENGTH, TRUE, &text, error)
      || !read_time (obj, "start_ns", &start, error)
      || !read_time (obj, "end_ns", &end, error))
    goto fail;

  if (start != COPILOT_SEGMENT_TIME_NONE && end != COPILOT_SEGMENT_TIME_NONE
      && end < start) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
        "end_ns %" G_GUINT64_FORMAT " is before start_ns %" G_GUINT64_FORMAT,
        end, start);
    goto fail;
  }

  member = json_object_get_member (obj, "confidence");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member)) {
    GType t = JSON_NODE_HOLDS_VALUE (member) ?
        json_node_get_value_type (member) : G_TYPE_INVALID;

    if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) {
      g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
          "member \"confidence\" is not a number");
      goto fail;
    }
    confidence = json_node_get_double (member);
    if (!(confidence >= 0.0 && confidence <= 1.0)) {
      g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
          "confidence %g is outside 0..1", confidence);
      goto fail;
    }
  }

  member = json_object_get_member (obj, "is_final");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member)) {
    if (!JSON_NODE_HOLDS_VALUE (member)
        || json_node_get_value_type (member) != G_TYPE_BOOLEAN) {
      g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
          "member \"is_final\" is not a boolean");
      goto fail;
    }
    is_final = json_node_get_boolean (member);
  }

  return copilot_segment_new (id, speaker, text, start, end, confidence,
      is_final);

fail:
  g_prefix_error (error, "Invalid transcript segment: ");
  return NULL;
}

/**
 * copilot_segment_new_from_json_string:
 * @json: JSON text
 * @length: length of @json in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * Parses JSON text and reads a segment from it, see
 * [ctor@Copilot.Segment.new_from_json]. Documents over 1 MiB or nested
 * more than 16 levels deep are refused with %COPILOT_ERROR_TOO_LARGE
 * before parsing.
 *
 * Returns: (transfer full): a new segment, or %NULL with @error set
 *
 * Since: 0.1
 */
CopilotSegment *
copilot_segment_new_from_json_string (const char *json, gssize length,
    GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length < 0)
    length = strlen (json);
  if ((gsize) length > MAX_DOCUMENT_LENGTH) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_TOO_LARGE,
        "Invalid transcript segment: document larger than %d bytes",
        MAX_DOCUMENT_LENGTH);
    return NULL;
  }
  if (!copilot_json_nesting_ok (json, length, MAX_NESTING)) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_TOO_LARGE,
        "Invalid transcript segment: nested deeper than %d levels",
        MAX_NESTING);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, json, length, &local_error)) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_PARSE,
        "Invalid transcript segment: %s", local_error->message);
    return NULL;
  }
  if (json_parser_get_root (parser) == NULL) {
    g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_PARSE,
        "Invalid transcript segment: empty document");
    return NULL;
  }
  return copilot_segment_new_from_json (json_parser_get_root (parser), error);
}
