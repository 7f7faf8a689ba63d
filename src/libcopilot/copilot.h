/* Copilot: real-time agent assist.  Public umbrella header. */
#pragma once

#define COPILOT_INSIDE
#include "copilot-error.h"
#include "copilot-json.h"
#include "copilot-segment.h"
#undef COPILOT_INSIDE
