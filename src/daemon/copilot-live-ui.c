/* The /live agent view: GET /live is the page, GET /live/<asset> its
 * scripts and styles, all read from the GResource that ui/meson.build
 * compiles into copilotd. The page itself talks to /live/ws and the REST
 * API; nothing here knows about calls.
 *
 * Main context only (SoupServer handlers). */
#include "config.h"

#include "copilot-live-ui.h"
#include "copilot-ui-resources.h"

#include <string.h>

#define RESOURCE_PREFIX "/copilot/ui/"
#define INDEX_NAME "index.html"

/* The page only loads its own files and talks to its own origin; event
 * text is inserted as text, and this stops anything else if that slips. */
#define CONTENT_SECURITY_POLICY \
  "default-src 'none'; script-src 'self'; style-src 'self'; " \
  "img-src 'self' data:; connect-src 'self'; base-uri 'none'; " \
  "form-action 'none'; frame-ancestors 'none'"

static const struct
{
  const char *suffix;
  const char *type;
} content_types[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
  {".ico", "image/x-icon"},
};

static const char *
content_type_for (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (content_types); i++) {
    if (g_str_has_suffix (name, content_types[i].suffix))
      return content_types[i].type;
  }
  return NULL;
}

/* Asset names are flat: letters, digits, '-', '_' and one '.', so no path
 * from the request can reach outside the UI's resource directory. */
static gboolean
valid_asset_name (const char *name)
{
  gboolean dot = FALSE;

  if (name[0] == '\0' || name[0] == '.' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++) {
    if (*p == '.') {
      if (dot)
        return FALSE;
      dot = TRUE;
    } else if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_') {
      return FALSE;
    }
  }
  return dot;
}

static void
respond_text (SoupServerMessage * msg, guint status, const char *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_COPY, text, strlen (text));
}

static void
live_ui_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  const char *prefix = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers;
  const char *name = NULL;
  const char *type;
  gboolean is_index = FALSE;
  g_autofree char *resource_path = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize prefix_len = strlen (prefix);

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, HEAD");
    respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Use GET.\n");
    return;
  }

  /* The handler is registered on the prefix, so path is the prefix itself,
   * the prefix plus "/", or the prefix plus "/" and more. */
  g_assert (g_str_has_prefix (path, prefix));
  if (path[prefix_len] == '\0' || g_str_equal (path + prefix_len, "/")) {
    name = INDEX_NAME;
    is_index = TRUE;
  } else if (path[prefix_len] == '/'
      && valid_asset_name (path + prefix_len + 1))
    name = path + prefix_len + 1;

  type = name != NULL ? content_type_for (name) : NULL;
  if (type != NULL) {
    resource_path = g_strconcat (RESOURCE_PREFIX, name, NULL);
    bytes = g_resource_lookup_data (copilot_ui_get_resource (), resource_path,
        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  }
  if (bytes == NULL) {
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "Not found.\n");
    return;
  }

  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  if (is_index)
    soup_message_headers_replace (headers, "Content-Security-Policy",
        CONTENT_SECURITY_POLICY);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY,
      g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/**
 * copilot_live_ui_add_handler:
 * @server: the server
 * @path: (not nullable): where the page lives, e.g. "/live"; must outlive
 *   the server (a string literal)
 *
 * Serves the agent view at @path and its assets at @path/<name>. A more
 * specific handler (the /live/ws WebSocket) keeps its own path.
 */
void
copilot_live_ui_add_handler (SoupServer * server, const char *path)
{
  g_return_if_fail (SOUP_IS_SERVER (server));
  g_return_if_fail (path != NULL && path[0] == '/');

  soup_server_add_handler (server, path, live_ui_cb, (gpointer) path, NULL);
}
