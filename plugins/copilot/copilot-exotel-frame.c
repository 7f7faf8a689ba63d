/* Parser for the JSON text frames of the Exotel Stream / Voicebot
 * (AgentStream) WebSocket protocol.
 *
 * Exotel sends every number as a string ("sequence_number": "3"), but some
 * senders and our own captures may use JSON numbers; both are accepted. The
 * parser checks syntax and ranges only: whether a frame makes sense at this
 * point of the stream (media before start, duplicates...) is the element's
 * business, because it depends on the frames before it. */
#include "config.h"

#include "copilot-exotel-frame.h"

#include <copilot-json.h>

#include <string.h>
#include <json-glib/json-glib.h>

GQuark
copilot_exotel_error_quark (void)
{
  return g_quark_from_static_string ("copilot-exotel-error-quark");
}

/* json-glib's parser recurses once per nesting level; a frame of "[[[[..."
 * within the size limit would otherwise exhaust the stack. Real frames nest
 * three levels deep. */
#define MAX_NESTING 32

/* Largest counter (sequence_number, chunk) accepted. */
#define MAX_COUNTER G_MAXINT32

void
copilot_exotel_frame_free (CopilotExotelFrame * frame)
{
  if (frame == NULL)
    return;
  g_free (frame->stream_sid);
  g_free (frame->call_sid);
  g_free (frame->account_sid);
  g_free (frame->from);
  g_free (frame->to);
  g_free (frame->custom_parameters_json);
  g_clear_pointer (&frame->custom_parameters, g_ptr_array_unref);
  g_free (frame->encoding_name);
  g_free (frame->bit_rate);
  g_clear_pointer (&frame->payload, g_bytes_unref);
  g_free (frame->digit);
  g_free (frame->mark_name);
  g_free (frame->reason);
  g_free (frame);
}

const char *
copilot_exotel_event_to_string (CopilotExotelEvent event)
{
  switch (event) {
    case COPILOT_EXOTEL_EVENT_CONNECTED:
      return "connected";
    case COPILOT_EXOTEL_EVENT_START:
      return "start";
    case COPILOT_EXOTEL_EVENT_MEDIA:
      return "media";
    case COPILOT_EXOTEL_EVENT_DTMF:
      return "dtmf";
    case COPILOT_EXOTEL_EVENT_MARK:
      return "mark";
    case COPILOT_EXOTEL_EVENT_STOP:
      return "stop";
  }
  return "unknown";
}

const char *
copilot_exotel_track_to_string (CopilotExotelTrack track)
{
  switch (track) {
    case COPILOT_EXOTEL_TRACK_NONE:
      return "none";
    case COPILOT_EXOTEL_TRACK_INBOUND:
      return "inbound";
    case COPILOT_EXOTEL_TRACK_OUTBOUND:
      return "outbound";
  }
  return "unknown";
}

/**
 * copilot_exotel_parse_encoding:
 * @name: the `media_format.encoding` of a start frame
 * @encoding: (out): the sample format it names
 *
 * Maps Exotel's (and common) encoding names to a sample format. Exotel calls
 * its 16-bit little-endian PCM "base64" because of how it travels.
 *
 * Returns: %FALSE if @name is not a supported encoding
 */
gboolean
copilot_exotel_parse_encoding (const char *name,
    CopilotExotelEncoding * encoding)
{
  static const char *const s16le[] = {
    "base64", "raw", "slin", "slin16", "pcm", "pcm16", "linear16", "l16",
    "s16le", "audio/x-raw", "audio/l16", "audio/pcm", "audio/x-l16",
  };
  static const char *const mulaw[] = {
    "audio/x-mulaw", "mulaw", "ulaw", "pcmu", "mu-law", "g711u", "audio/pcmu",
    "audio/basic",
  };

  for (guint i = 0; i < G_N_ELEMENTS (s16le); i++) {
    if (g_ascii_strcasecmp (name, s16le[i]) == 0) {
      *encoding = COPILOT_EXOTEL_ENCODING_S16LE;
      return TRUE;
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS (mulaw); i++) {
    if (g_ascii_strcasecmp (name, mulaw[i]) == 0) {
      *encoding = COPILOT_EXOTEL_ENCODING_MULAW;
      return TRUE;
    }
  }
  return FALSE;
}

/* Reads an integer that may arrive as a JSON string or a JSON number.
 * Absent members (and JSON null) give -1. */
static gboolean
get_integer (JsonObject * obj, const char *member, gint64 max, gint64 * out,
    GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);
  gint64 value;

  *out = -1;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node))
    goto bad;

  switch (json_node_get_value_type (node)) {
    case G_TYPE_INT64:
      value = json_node_get_int (node);
      break;
    case G_TYPE_DOUBLE:{
      gdouble d = json_node_get_double (node);

      if (d != d || d < 0 || d > (gdouble) max) {
        g_set_error (error, COPILOT_EXOTEL_ERROR,
            COPILOT_EXOTEL_ERROR_TOO_LARGE, "%s out of range", member);
        return FALSE;
      }
      if (d != (gdouble) (gint64) d)
        goto bad;
      value = (gint64) d;
      break;
    }
    case G_TYPE_STRING:{
      const char *s = json_node_get_string (node);
      guint64 u;
      g_autoptr (GError) local = NULL;

      /* Digits only: no sign, no blanks, no hexadecimal. */
      if (s[0] == '\0' || strspn (s, "0123456789") != strlen (s))
        goto bad;
      if (!g_ascii_string_to_unsigned (s, 10, 0, (guint64) max, &u, &local)) {
        g_set_error (error, COPILOT_EXOTEL_ERROR,
            COPILOT_EXOTEL_ERROR_TOO_LARGE, "%s out of range: %.32s", member,
            s);
        return FALSE;
      }
      value = (gint64) u;
      break;
    }
    default:
      goto bad;
  }

  if (value < 0 || value > max) {
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_TOO_LARGE,
        "%s out of range: %" G_GINT64_FORMAT, member, value);
    return FALSE;
  }
  *out = value;
  return TRUE;

bad:
  g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FIELD,
      "%s is not a non-negative integer", member);
  return FALSE;
}

/* Copies an optional string member; a member of another type is an error. */
static gboolean
get_string (JsonObject * obj, const char *member, gboolean required,
    char **out, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (!required)
      return TRUE;
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FIELD,
        "missing %s", member);
    return FALSE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FIELD,
        "%s is not a string", member);
    return FALSE;
  }
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static JsonObject *
get_object (JsonObject * obj, const char *member, gboolean required,
    GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    return json_node_get_object (node);
  if (!required && (node == NULL || JSON_NODE_HOLDS_NULL (node)))
    return NULL;
  g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FIELD,
      "%s %s", member, node == NULL ? "missing" : "is not an object");
  return NULL;
}

/* Strict RFC 4648 base64 (standard alphabet, padding optional): GLib's
 * decoder silently skips anything it does not know. */
static GBytes *
decode_base64 (const char *text, GError ** error)
{
  gsize len = strlen (text);
  gsize pad = 0;
  gsize out_len;
  guchar *out;

  while (len > 0 && text[len - 1] == '=' && pad < 2) {
    len--;
    pad++;
  }
  if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
    goto bad;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isalnum (text[i]) && text[i] != '+' && text[i] != '/')
      goto bad;
  }

  /* g_base64_decode wants padded input. */
  if (len % 4 != 0 && pad == 0) {
    g_autofree char *padded = g_strnfill (len + (4 - len % 4), '=');

    memcpy (padded, text, len);
    out = g_base64_decode (padded, &out_len);
  } else {
    out = g_base64_decode (text, &out_len);
  }
  return g_bytes_new_take (out, out_len);

bad:
  g_set_error_literal (error, COPILOT_EXOTEL_ERROR,
      COPILOT_EXOTEL_ERROR_BASE64, "payload is not valid base64");
  return NULL;
}

static char *
node_to_text (JsonNode * node)
{
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return json_to_string (node, FALSE);
}

static gboolean
parse_start (CopilotExotelFrame * frame, JsonObject * root, GError ** error)
{
  JsonObject *start, *format, *custom;
  gint64 rate;

  start = get_object (root, "start", TRUE, error);
  if (start == NULL)
    return FALSE;

  if (frame->stream_sid == NULL
      && !get_string (start, "stream_sid", FALSE, &frame->stream_sid, error))
    return FALSE;
  if (!get_string (start, "call_sid", FALSE, &frame->call_sid, error)
      || !get_string (start, "account_sid", FALSE, &frame->account_sid, error)
      || !get_string (start, "from", FALSE, &frame->from, error)
      || !get_string (start, "to", FALSE, &frame->to, error))
    return FALSE;

  if (json_object_has_member (start, "custom_parameters")) {
    JsonNode *node = json_object_get_member (start, "custom_parameters");

    custom = get_object (start, "custom_parameters", FALSE, error);
    if (custom == NULL && !JSON_NODE_HOLDS_NULL (node))
      return FALSE;
    if (custom != NULL) {
      g_autoptr (GList) members = json_object_get_members (custom);

      frame->custom_parameters_json = json_to_string (node, FALSE);
      frame->custom_parameters = g_ptr_array_new_with_free_func (g_free);
      for (GList * l = members; l != NULL; l = l->next) {
        g_ptr_array_add (frame->custom_parameters, g_strdup (l->data));
        g_ptr_array_add (frame->custom_parameters,
            node_to_text (json_object_get_member (custom, l->data)));
      }
    }
  }

  /* The audio format is never assumed: without media_format the frame is
   * useless. */
  format = get_object (start, "media_format", TRUE, error);
  if (format == NULL)
    return FALSE;
  if (!get_string (format, "encoding", TRUE, &frame->encoding_name, error))
    return FALSE;
  if (!copilot_exotel_parse_encoding (frame->encoding_name, &frame->encoding)) {
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FORMAT,
        "unsupported encoding \"%.32s\"", frame->encoding_name);
    return FALSE;
  }
  if (!get_integer (format, "sample_rate", G_MAXINT32, &rate, error))
    return FALSE;
  if (rate != -1 && rate != 8000 && rate != 16000 && rate != 24000) {
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FORMAT,
        "unsupported sample rate %" G_GINT64_FORMAT, rate);
    return FALSE;
  }
  frame->sample_rate = rate == -1 ? 0 : (guint) rate;

  /* Exotel documents "128kbps"; keep whatever arrives, as text. */
  if (json_object_has_member (format, "bit_rate")) {
    JsonNode *node = json_object_get_member (format, "bit_rate");

    if (JSON_NODE_HOLDS_VALUE (node))
      frame->bit_rate = node_to_text (node);
  }
  return TRUE;
}

static gboolean
parse_media (CopilotExotelFrame * frame, JsonObject * root, GError ** error)
{
  JsonObject *media;
  g_autofree char *payload = NULL;
  g_autofree char *track = NULL;

  media = get_object (root, "media", TRUE, error);
  if (media == NULL)
    return FALSE;
  if (!get_integer (media, "chunk", MAX_COUNTER, &frame->chunk, error)
      || !get_integer (media, "timestamp", COPILOT_EXOTEL_MAX_TIMESTAMP_MS,
          &frame->timestamp_ms, error)
      || !get_string (media, "track", FALSE, &track, error)
      || !get_string (media, "payload", TRUE, &payload, error))
    return FALSE;

  if (track == NULL) {
    frame->track = COPILOT_EXOTEL_TRACK_NONE;
  } else if (g_ascii_strcasecmp (track, "inbound") == 0) {
    frame->track = COPILOT_EXOTEL_TRACK_INBOUND;
  } else if (g_ascii_strcasecmp (track, "outbound") == 0) {
    frame->track = COPILOT_EXOTEL_TRACK_OUTBOUND;
  } else {
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_FIELD,
        "unknown track \"%.32s\"", track);
    return FALSE;
  }

  frame->payload = decode_base64 (payload, error);
  return frame->payload != NULL;
}

static gboolean
parse_dtmf (CopilotExotelFrame * frame, JsonObject * root, GError ** error)
{
  JsonObject *dtmf = get_object (root, "dtmf", TRUE, error);

  return dtmf != NULL && get_string (dtmf, "digit", TRUE, &frame->digit, error)
      && get_integer (dtmf, "duration", G_MAXINT32, &frame->duration_ms, error);
}

static gboolean
parse_mark (CopilotExotelFrame * frame, JsonObject * root, GError ** error)
{
  JsonObject *mark = get_object (root, "mark", TRUE, error);

  return mark != NULL && get_string (mark, "name", TRUE, &frame->mark_name,
      error);
}

static gboolean
parse_stop (CopilotExotelFrame * frame, JsonObject * root, GError ** error)
{
  JsonNode *node = json_object_get_member (root, "stop");
  JsonObject *stop;

  /* Exotel always sends the stop object, but a bare {"event":"stop"} is a
   * convenient way for a daemon to end a stream. */
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  stop = get_object (root, "stop", TRUE, error);
  if (stop == NULL)
    return FALSE;
  if (frame->call_sid == NULL
      && !get_string (stop, "call_sid", FALSE, &frame->call_sid, error))
    return FALSE;
  return get_string (stop, "account_sid", FALSE, &frame->account_sid, error)
      && get_string (stop, "reason", FALSE, &frame->reason, error);
}

/**
 * copilot_exotel_frame_parse:
 * @data: the text of one frame
 * @length: its length in bytes
 * @error: return location for a %COPILOT_EXOTEL_ERROR
 *
 * Parses and validates one Exotel frame. The caller bounds @length.
 *
 * Returns: (transfer full): the frame, or %NULL with @error set
 */
CopilotExotelFrame *
copilot_exotel_frame_parse (const char *data, gsize length, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (CopilotExotelFrame) frame = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *event = NULL;
  JsonNode *root_node;
  JsonObject *root;
  gboolean ok = FALSE;

  if (length == 0 || !g_utf8_validate_len (data, length, NULL)) {
    g_set_error_literal (error, COPILOT_EXOTEL_ERROR,
        COPILOT_EXOTEL_ERROR_JSON, "frame is empty or not UTF-8 text");
    return NULL;
  }
  if (!copilot_json_nesting_ok (data, length, MAX_NESTING)) {
    g_set_error_literal (error, COPILOT_EXOTEL_ERROR,
        COPILOT_EXOTEL_ERROR_JSON, "frame nests too deeply");
    return NULL;
  }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local)) {
    g_set_error (error, COPILOT_EXOTEL_ERROR, COPILOT_EXOTEL_ERROR_JSON,
        "invalid JSON: %s", local->message);
    return NULL;
  }
  root_node = json_parser_get_root (parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node)) {
    g_set_error_literal (error, COPILOT_EXOTEL_ERROR,
        COPILOT_EXOTEL_ERROR_JSON, "frame is not a JSON object");
    return NULL;
  }
  root = json_node_get_object (root_node);

  frame = g_new0 (CopilotExotelFrame, 1);
  frame->sequence_number = frame->chunk = frame->timestamp_ms = -1;
  frame->duration_ms = -1;

  if (!get_string (root, "event", TRUE, &event, error)
      || !get_integer (root, "sequence_number", MAX_COUNTER,
          &frame->sequence_number, error)
      || !get_string (root, "stream_sid", FALSE, &frame->stream_sid, error))
    return NULL;

  if (g_str_equal (event, "connected")) {
    frame->event = COPILOT_EXOTEL_EVENT_CONNECTED;
    ok = TRUE;
  } else if (g_str_equal (event, "start")) {
    frame->event = COPILOT_EXOTEL_EVENT_START;
    ok = parse_start (frame, root, error);
  } else if (g_str_equal (event, "media")) {
    frame->event = COPILOT_EXOTEL_EVENT_MEDIA;
    ok = parse_media (frame, root, error);
  } else if (g_str_equal (event, "dtmf")) {
    frame->event = COPILOT_EXOTEL_EVENT_DTMF;
    ok = parse_dtmf (frame, root, error);
  } else if (g_str_equal (event, "mark")) {
    frame->event = COPILOT_EXOTEL_EVENT_MARK;
    ok = parse_mark (frame, root, error);
  } else if (g_str_equal (event, "stop")) {
    frame->event = COPILOT_EXOTEL_EVENT_STOP;
    ok = parse_stop (frame, root, error);
  } else {
    g_set_error (error, COPILOT_EXOTEL_ERROR,
        COPILOT_EXOTEL_ERROR_UNKNOWN_EVENT, "unknown event \"%.32s\"", event);
  }

  if (!ok)
    return NULL;
  return g_steal_pointer (&frame);
}
