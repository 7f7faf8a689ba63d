#include "config.h"

#include "copilot-error.h"

/**
 * copilot_error_quark:
 *
 * Returns: the quark of the %COPILOT_ERROR domain
 *
 * Since: 0.1
 */
GQuark
copilot_error_quark (void)
{
  return g_quark_from_static_string ("copilot-error-quark");
}
