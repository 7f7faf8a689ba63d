#include "config.h"

#include "copilot-json.h"

/**
 * copilot_json_nesting_ok:
 * @data: (array length=length) (element-type guint8): JSON text from a peer
 * @length: length of @data in bytes
 * @max_depth: deepest nesting of arrays and objects allowed
 *
 * Checks, without parsing, that JSON text nests arrays and objects at most
 * @max_depth deep (brackets inside string literals do not count).
 * json-glib's parser recurses once per level, so text from a peer must pass
 * this before it is parsed: 200,000 `[` overflow the stack.
 *
 * Returns: %TRUE if @data nests at most @max_depth deep
 *
 * Since: 0.1
 */
gboolean
copilot_json_nesting_ok (const char *data, gsize length, guint max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  for (gsize i = 0; i < length; i++) {
    char c = data[i];

    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return FALSE;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return TRUE;
}
