/* Small JSON helpers shared by the daemon's endpoints. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

G_GNUC_WARN_UNUSED_RESULT
JsonNode *copilot_json_parse_object (const char *data, gsize length,
    GError ** error);

const char *copilot_json_get_string (JsonObject * obj, const char *member);

G_GNUC_WARN_UNUSED_RESULT
char *copilot_json_error (const char *message);

gboolean copilot_json_valid_call_id (const char *id);

G_END_DECLS
