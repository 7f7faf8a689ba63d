#include "config.h"

#include "copilot-error.h"

/**
 * copilot_error_quark:
 *
 * Returns: the quark of the %COPILOT_ERROR domain
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (copilot - error - quark, copilot_error);
