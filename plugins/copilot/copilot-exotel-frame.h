/* Parser for the JSON text frames of the Exotel Stream / Voicebot
 * (AgentStream) WebSocket protocol. Pure: no GStreamer, no I/O, no state. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define COPILOT_EXOTEL_ERROR (copilot_exotel_error_quark ())
GQuark copilot_exotel_error_quark (void);

/**
 * CopilotExotelError:
 * @COPILOT_EXOTEL_ERROR_JSON: not valid UTF-8 JSON, not an object, or nested
 *   too deeply
 * @COPILOT_EXOTEL_ERROR_UNKNOWN_EVENT: the `event` member names no known event
 * @COPILOT_EXOTEL_ERROR_FIELD: a required member is missing or has the wrong
 *   type or value
 * @COPILOT_EXOTEL_ERROR_BASE64: the media payload is not valid base64
 * @COPILOT_EXOTEL_ERROR_FORMAT: unsupported encoding or sample rate
 * @COPILOT_EXOTEL_ERROR_TOO_LARGE: a number is out of any plausible range
 *
 * Error codes in the %COPILOT_EXOTEL_ERROR domain; each one is a separate
 * counter in exotelsrc's statistics.
 */
typedef enum
{
  COPILOT_EXOTEL_ERROR_JSON,
  COPILOT_EXOTEL_ERROR_UNKNOWN_EVENT,
  COPILOT_EXOTEL_ERROR_FIELD,
  COPILOT_EXOTEL_ERROR_BASE64,
  COPILOT_EXOTEL_ERROR_FORMAT,
  COPILOT_EXOTEL_ERROR_TOO_LARGE,
} CopilotExotelError;

typedef enum
{
  COPILOT_EXOTEL_EVENT_CONNECTED,
  COPILOT_EXOTEL_EVENT_START,
  COPILOT_EXOTEL_EVENT_MEDIA,
  COPILOT_EXOTEL_EVENT_DTMF,
  COPILOT_EXOTEL_EVENT_MARK,
  COPILOT_EXOTEL_EVENT_STOP,
} CopilotExotelEvent;

typedef enum
{
  COPILOT_EXOTEL_ENCODING_S16LE,
  COPILOT_EXOTEL_ENCODING_MULAW,
} CopilotExotelEncoding;

typedef enum
{
  COPILOT_EXOTEL_TRACK_NONE,
  COPILOT_EXOTEL_TRACK_INBOUND,
  COPILOT_EXOTEL_TRACK_OUTBOUND,
} CopilotExotelTrack;

/* Largest media timestamp accepted: one day, in milliseconds. */
#define COPILOT_EXOTEL_MAX_TIMESTAMP_MS (G_GINT64_CONSTANT (86400000))

/* Integer members that are absent are -1, strings that are absent NULL. */
typedef struct
{
  CopilotExotelEvent event;
  gint64 sequence_number;
  char *stream_sid;

  /* start */
  char *call_sid;
  char *account_sid;
  char *from;
  char *to;
  char *custom_parameters_json; /* the object re-serialised, or NULL */
  GPtrArray *custom_parameters; /* key, value, key, value...; values are
                                 * strings, other JSON re-serialised */
  char *encoding_name;          /* as received */
  CopilotExotelEncoding encoding;
  guint sample_rate;            /* 0 when absent */
  char *bit_rate;               /* free-form, e.g. "128kbps" */

  /* media */
  gint64 chunk;
  gint64 timestamp_ms;
  CopilotExotelTrack track;
  GBytes *payload;

  /* dtmf */
  char *digit;
  gint64 duration_ms;

  /* mark */
  char *mark_name;

  /* stop */
  char *reason;
} CopilotExotelFrame;

void copilot_exotel_frame_free (CopilotExotelFrame * frame);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotExotelFrame, copilot_exotel_frame_free);

G_GNUC_WARN_UNUSED_RESULT
    CopilotExotelFrame * copilot_exotel_frame_parse (const char *data,
    gsize length, GError ** error);

gboolean copilot_exotel_parse_encoding (const char *name,
    CopilotExotelEncoding * encoding);

const char *copilot_exotel_event_to_string (CopilotExotelEvent event);

const char *copilot_exotel_track_to_string (CopilotExotelTrack track);

G_END_DECLS
