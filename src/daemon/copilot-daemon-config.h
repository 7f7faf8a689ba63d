/* copilotd configuration: a key file with defaults for every key. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * CopilotDaemonConfig:
 *
 * The daemon's settings. Every member has a default (see data/copilot.conf),
 * so an empty key file is a valid configuration. Times are in seconds.
 */
typedef struct
{
  /* [server] */
  char *address;
  guint port;
  char *data_dir;
  guint keepalive_interval;     /* seconds, 0 = off */

  /* [exotel] */
  char *exotel_path;
  char *username;               /* NULL: no Basic auth */
  char *password;
  GPtrArray *allow_ips;         /* GInetAddressMask, empty: any address */
  guint max_calls;
  guint max_frame_size;         /* bytes */
  guint max_frames_per_second;
  double idle_timeout;          /* seconds */
  double drain_timeout;         /* seconds */
  char *mono_leg;               /* "customer" or "agent" */
  guint sample_rate;            /* used when neither start nor query has one */
  gboolean asr;                 /* FALSE: ingest + VAD only */
  char *decoder_options;        /* asrsink decoder-options, or NULL */

  /* [live] */
  guint live_max_queue;         /* messages waiting per client */
  guint live_max_message_size;  /* bytes, client -> server */
  guint live_max_clients;       /* /live/ws sockets open at once */

  /* [events] */
  guint max_events_per_call;
  guint max_ended_calls;

  /* [api] */
  guint max_body_size;          /* bytes */
} CopilotDaemonConfig;

G_GNUC_WARN_UNUSED_RESULT
CopilotDaemonConfig *copilot_daemon_config_new (void);

G_GNUC_WARN_UNUSED_RESULT
CopilotDaemonConfig *copilot_daemon_config_new_from_key_file (GKeyFile * kf,
    GError ** error);

G_GNUC_WARN_UNUSED_RESULT
CopilotDaemonConfig *copilot_daemon_config_new_from_file (const char *path,
    GError ** error);

G_GNUC_WARN_UNUSED_RESULT
CopilotDaemonConfig *copilot_daemon_config_new_from_data (const char *data,
    GError ** error);

gboolean copilot_daemon_config_has_auth (const CopilotDaemonConfig * self);

void copilot_daemon_config_free (CopilotDaemonConfig * self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CopilotDaemonConfig, copilot_daemon_config_free)

G_END_DECLS
