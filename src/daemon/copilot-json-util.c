/* Small JSON helpers shared by the daemon's endpoints. */
#include "config.h"

#include "copilot-json-util.h"
#include "copilot-error.h"
#include "copilot-json.h"

#include <string.h>

/* json-glib's parser recurses once per nesting level; peers' documents are
 * refused before parsing when they nest deeper than this. */
#define MAX_NESTING 32

/**
 * copilot_json_parse_object:
 * @data: text from a peer
 * @length: its length
 * @error: return location for an error
 *
 * Returns: (transfer full) (nullable): the document, an object
 */
JsonNode *
copilot_json_parse_object (const char *data, gsize length, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (length > G_MAXSSIZE
      || !copilot_json_nesting_ok (data, length, MAX_NESTING)) {
    g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_PARSE,
        "JSON nested too deeply");
    return NULL;
  }
  if (!g_utf8_validate (data, length, NULL)) {
    g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_PARSE,
        "not UTF-8 text");
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, length, &local)) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_PARSE,
        "invalid JSON: %s", local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, COPILOT_ERROR, COPILOT_ERROR_PARSE,
        "not a JSON object");
    return NULL;
  }
  return json_node_ref (root);
}

/**
 * copilot_json_get_string:
 *
 * Returns: (nullable): the string member, %NULL if absent or not a string
 */
const char *
copilot_json_get_string (JsonObject * obj, const char *member)
{
  JsonNode *node = obj ? json_object_get_member (obj, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/**
 * copilot_json_error:
 *
 * Returns: (transfer full): `{"error":message}` as text
 */
char *
copilot_json_error (const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  return json_to_string (node, FALSE);
}

/**
 * copilot_json_valid_call_id:
 * @id: (nullable): a call id from a peer (REST path, /live subscription)
 *
 * Call ids are 1 to 128 characters of ASCII letters, digits and "-_.:", so
 * they are safe in paths, logs and JSON without escaping.
 *
 * Returns: whether the daemon accepts @id
 */
gboolean
copilot_json_valid_call_id (const char *id)
{
  if (id == NULL || id[0] == '\0' || strlen (id) > 128)
    return FALSE;
  for (const char *p = id; *p != '\0'; p++) {
    if (!g_ascii_isalnum (*p) && strchr ("-_.:", *p) == NULL)
      return FALSE;
  }
  return TRUE;
}
