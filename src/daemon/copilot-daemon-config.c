/* copilotd configuration: a key file with defaults for every key. */
#include "config.h"

#include "copilot-daemon-config.h"
#include "copilot-error.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_KEEPALIVE 20
#define DEFAULT_EXOTEL_PATH "/exotel/media"
#define DEFAULT_MAX_CALLS 50
#define DEFAULT_MAX_FRAME_SIZE (256 * 1024)
#define DEFAULT_MAX_FPS 200
#define DEFAULT_IDLE_TIMEOUT 30.0
#define DEFAULT_DRAIN_TIMEOUT 20.0
#define DEFAULT_MONO_LEG "customer"
#define DEFAULT_SAMPLE_RATE 8000
#define DEFAULT_LIVE_MAX_QUEUE 2000
#define DEFAULT_LIVE_MAX_MESSAGE_SIZE (64 * 1024)
#define DEFAULT_LIVE_MAX_CLIENTS 200
#define DEFAULT_MAX_EVENTS_PER_CALL 10000
#define DEFAULT_MAX_ENDED_CALLS 100
#define DEFAULT_MAX_BODY_SIZE (64 * 1024)

/**
 * copilot_daemon_config_new:
 *
 * Returns: (transfer full): the default configuration
 */
CopilotDaemonConfig *
copilot_daemon_config_new (void)
{
  CopilotDaemonConfig *self = g_new0 (CopilotDaemonConfig, 1);

  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->keepalive_interval = DEFAULT_KEEPALIVE;
  self->exotel_path = g_strdup (DEFAULT_EXOTEL_PATH);
  self->allow_ips = g_ptr_array_new_with_free_func (g_object_unref);
  self->max_calls = DEFAULT_MAX_CALLS;
  self->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->max_frames_per_second = DEFAULT_MAX_FPS;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->drain_timeout = DEFAULT_DRAIN_TIMEOUT;
  self->mono_leg = g_strdup (DEFAULT_MONO_LEG);
  self->sample_rate = DEFAULT_SAMPLE_RATE;
  self->asr = TRUE;
  self->live_max_queue = DEFAULT_LIVE_MAX_QUEUE;
  self->live_max_message_size = DEFAULT_LIVE_MAX_MESSAGE_SIZE;
  self->live_max_clients = DEFAULT_LIVE_MAX_CLIENTS;
  self->max_events_per_call = DEFAULT_MAX_EVENTS_PER_CALL;
  self->max_ended_calls = DEFAULT_MAX_ENDED_CALLS;
  self->max_body_size = DEFAULT_MAX_BODY_SIZE;
  return self;
}

void
copilot_daemon_config_free (CopilotDaemonConfig * self)
{
  if (self == NULL)
    return;
  g_free (self->address);
  g_free (self->data_dir);
  g_free (self->exotel_path);
  g_free (self->username);
  g_free (self->password);
  g_ptr_array_unref (self->allow_ips);
  g_free (self->mono_leg);
  g_free (self->decoder_options);
  g_free (self);
}

gboolean
copilot_daemon_config_has_auth (const CopilotDaemonConfig * self)
{
  return self->username != NULL || self->allow_ips->len > 0;
}

static void
set_key_error (GError ** error, const char *group, const char *key,
    const char *message)
{
  g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_INVALID,
      "Invalid value for key \"%s\" in group [%s]: %s", key, group, message);
}

/* Reads an optional string; FALSE only when the key is there but unusable. */
static gboolean
get_string (GKeyFile * kf, const char *group, const char *key, char **out,
    GError ** error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *value = NULL;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  value = g_key_file_get_string (kf, group, key, &local);
  if (value == NULL) {
    set_key_error (error, group, key, local->message);
    return FALSE;
  }
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
get_uint (GKeyFile * kf, const char *group, const char *key, guint min,
    guint max, guint * out, GError ** error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *value = NULL;
  guint64 v;

  if (!get_string (kf, group, key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (!g_ascii_string_to_unsigned (value, 10, min, max, &v, &local)) {
    set_key_error (error, group, key, local->message);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_seconds (GKeyFile * kf, const char *group, const char *key, double min,
    double max, double *out, GError ** error)
{
  g_autofree char *value = NULL;
  char *end = NULL;
  double v;

  if (!get_string (kf, group, key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  v = g_ascii_strtod (value, &end);
  if (end == value || *end != '\0' || !isfinite (v) || v < min || v > max) {
    g_autofree char *msg = g_strdup_printf ("\"%s\" is not a number of "
        "seconds between %g and %g", value, min, max);

    set_key_error (error, group, key, msg);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
get_boolean (GKeyFile * kf, const char *group, const char *key,
    gboolean * out, GError ** error)
{
  g_autoptr (GError) local = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, group, key, &local);
  if (local != NULL) {
    set_key_error (error, group, key, local->message);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
get_allow_ips (GKeyFile * kf, CopilotDaemonConfig * self, GError ** error)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) list = NULL;

  if (!g_key_file_has_key (kf, "exotel", "allow-ips", NULL))
    return TRUE;
  list = g_key_file_get_string_list (kf, "exotel", "allow-ips", NULL, &local);
  if (list == NULL) {
    set_key_error (error, "exotel", "allow-ips", local->message);
    return FALSE;
  }
  for (guint i = 0; list[i] != NULL; i++) {
    GInetAddressMask *mask;

    g_strstrip (list[i]);
    if (list[i][0] == '\0')
      continue;
    mask = g_inet_address_mask_new_from_string (list[i], &local);
    if (mask == NULL) {
      set_key_error (error, "exotel", "allow-ips", local->message);
      return FALSE;
    }
    g_ptr_array_add (self->allow_ips, mask);
  }
  return TRUE;
}

/**
 * copilot_daemon_config_new_from_key_file:
 * @kf: a loaded key file
 * @error: return location for an error naming the offending key
 *
 * Returns: (transfer full) (nullable): the configuration, defaults for every
 *   missing key
 */
CopilotDaemonConfig *
copilot_daemon_config_new_from_key_file (GKeyFile * kf, GError ** error)
{
  g_autoptr (CopilotDaemonConfig) self = copilot_daemon_config_new ();

  if (!get_string (kf, "server", "address", &self->address, error)
      || !get_uint (kf, "server", "port", 0, 65535, &self->port, error)
      || !get_string (kf, "server", "data-dir", &self->data_dir, error)
      || !get_uint (kf, "server", "keepalive-interval", 0, 3600,
          &self->keepalive_interval, error)
      || !get_string (kf, "exotel", "path", &self->exotel_path, error)
      || !get_string (kf, "exotel", "username", &self->username, error)
      || !get_string (kf, "exotel", "password", &self->password, error)
      || !get_allow_ips (kf, self, error)
      || !get_uint (kf, "exotel", "max-calls", 1, 100000, &self->max_calls,
          error)
      || !get_uint (kf, "exotel", "max-frame-size", 256, 64 * 1024 * 1024,
          &self->max_frame_size, error)
      || !get_uint (kf, "exotel", "max-frames-per-second", 1, 100000,
          &self->max_frames_per_second, error)
      || !get_seconds (kf, "exotel", "idle-timeout", 0.01, 86400,
          &self->idle_timeout, error)
      || !get_seconds (kf, "exotel", "drain-timeout", 0.01, 3600,
          &self->drain_timeout, error)
      || !get_string (kf, "exotel", "mono-leg", &self->mono_leg, error)
      || !get_uint (kf, "exotel", "sample-rate", 8000, 24000,
          &self->sample_rate, error)
      || !get_boolean (kf, "asr", "enabled", &self->asr, error)
      || !get_string (kf, "asr", "decoder-options", &self->decoder_options,
          error)
      || !get_uint (kf, "live", "max-queue", 1, 10000000,
          &self->live_max_queue, error)
      || !get_uint (kf, "live", "max-message-size", 64, 16 * 1024 * 1024,
          &self->live_max_message_size, error)
      || !get_uint (kf, "live", "max-live-clients", 1, 100000,
          &self->live_max_clients, error)
      || !get_uint (kf, "events", "max-events-per-call", 10, 10000000,
          &self->max_events_per_call, error)
      || !get_uint (kf, "events", "max-ended-calls", 0, 1000000,
          &self->max_ended_calls, error)
      || !get_uint (kf, "api", "max-body-size", 64, 64 * 1024 * 1024,
          &self->max_body_size, error))
    return NULL;

  if (self->address[0] == '\0' || !(g_hostname_is_ip_address (self->address)
          || g_str_equal (self->address, "localhost"))) {
    set_key_error (error, "server", "address",
        "not an IP address or \"localhost\"");
    return NULL;
  }
  if (self->exotel_path[0] != '/') {
    set_key_error (error, "exotel", "path", "must start with \"/\"");
    return NULL;
  }
  if ((self->username == NULL) != (self->password == NULL)) {
    set_key_error (error, "exotel", self->username ? "password" : "username",
        "username and password must be given together");
    return NULL;
  }
  if (self->username != NULL && (self->username[0] == '\0'
          || strchr (self->username, ':') != NULL)) {
    set_key_error (error, "exotel", "username",
        "must be non-empty and contain no \":\"");
    return NULL;
  }
  if (!g_str_equal (self->mono_leg, "customer")
      && !g_str_equal (self->mono_leg, "agent")) {
    set_key_error (error, "exotel", "mono-leg",
        "must be \"customer\" or \"agent\"");
    return NULL;
  }
  if (self->sample_rate != 8000 && self->sample_rate != 16000
      && self->sample_rate != 24000) {
    set_key_error (error, "exotel", "sample-rate",
        "must be 8000, 16000 or 24000");
    return NULL;
  }
  return g_steal_pointer (&self);
}

/**
 * copilot_daemon_config_new_from_file:
 * @path: a key file
 * @error: return location for an error
 *
 * Returns: (transfer full) (nullable): the configuration
 */
CopilotDaemonConfig *
copilot_daemon_config_new_from_file (const char *path, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  CopilotDaemonConfig *self;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "Cannot load %s: ", path);
    return NULL;
  }
  self = copilot_daemon_config_new_from_key_file (kf, error);
  if (self == NULL)
    g_prefix_error (error, "%s: ", path);
  return self;
}

/**
 * copilot_daemon_config_new_from_data:
 * @data: key file text
 * @error: return location for an error
 *
 * Returns: (transfer full) (nullable): the configuration
 */
CopilotDaemonConfig *
copilot_daemon_config_new_from_data (const char *data, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (!g_key_file_load_from_data (kf, data, -1, G_KEY_FILE_NONE, error))
    return NULL;
  return copilot_daemon_config_new_from_key_file (kf, error);
}
