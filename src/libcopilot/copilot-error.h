#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * COPILOT_ERROR:
 *
 * Error domain for libcopilot. Errors in this domain are from the
 * [error@Copilot.Error] enumeration.
 *
 * Since: 0.1
 */
#define COPILOT_ERROR (copilot_error_quark ())
/**
 * CopilotError:
 * @COPILOT_ERROR_FAILED: generic failure
 * @COPILOT_ERROR_PARSE: input is not well-formed (JSON, numbers, ...)
 * @COPILOT_ERROR_INVALID: input is well-formed but a value is out of range
 *   or a required member is missing
 * @COPILOT_ERROR_PROTOCOL: a peer broke the protocol (wrong event order, ...)
 * @COPILOT_ERROR_TOO_LARGE: input exceeds a configured size limit
 *
 * Error codes in the %COPILOT_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum
{
  COPILOT_ERROR_FAILED,
  COPILOT_ERROR_PARSE,
  COPILOT_ERROR_INVALID,
  COPILOT_ERROR_PROTOCOL,
  COPILOT_ERROR_TOO_LARGE,
} CopilotError;

GQuark copilot_error_quark (void);

G_END_DECLS
