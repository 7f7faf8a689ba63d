/* copilotd: the agent-assist daemon. */
#include "config.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <locale.h>
#include <stdlib.h>

#include "copilot-daemon.h"

#define EXIT_CONFIG 2
/* How long the close frames may take to go out at shutdown. */
#define SHUTDOWN_GRACE_MS 2000

typedef struct
{
  GMainLoop *loop;
  CopilotDaemon *daemon;
  guint grace_id;
  guint quiet_id;
} App;

static gboolean
grace_over_cb (gpointer user_data)
{
  App *app = user_data;

  app->grace_id = 0;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
check_quiet_cb (gpointer user_data)
{
  App *app = user_data;

  if (!copilot_daemon_is_quiet (app->daemon))
    return G_SOURCE_CONTINUE;
  app->quiet_id = 0;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
signal_cb (gpointer user_data)
{
  App *app = user_data;

  if (app->grace_id != 0) {
    /* A second signal: do not wait for the clients any longer. */
    g_main_loop_quit (app->loop);
    return G_SOURCE_CONTINUE;
  }
  g_message ("signal received, shutting down");
  copilot_daemon_stop (app->daemon);
  app->grace_id = g_timeout_add (SHUTDOWN_GRACE_MS, grace_over_cb, app);
  app->quiet_id = g_timeout_add (20, check_quiet_cb, app);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *data_dir = NULL;
  gint port = -1;
  GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
        "Configuration key file (see data/copilot.conf)", "FILE"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
        "TCP port to listen on (default 8080; 0: any free port)", "N"},
    {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
        "Address to listen on (default 127.0.0.1)", "ADDRESS"},
    {"data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
        "Directory for recordings and state", "DIR"},
    {NULL},
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CopilotDaemonConfig) config = NULL;
  g_autoptr (CopilotDaemon) daemon = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  App app = { 0 };
  guint sigint, sigterm;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- real-time agent assist daemon");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("copilotd: %s\n", error->message);
    return EXIT_CONFIG;
  }

  if (config_path != NULL)
    config = copilot_daemon_config_new_from_file (config_path, &error);
  else
    config = copilot_daemon_config_new ();
  if (config == NULL) {
    g_printerr ("copilotd: %s\n", error->message);
    return EXIT_CONFIG;
  }
  if (port != -1) {
    if (port < 0 || port > 65535) {
      g_printerr ("copilotd: --port must be between 0 and 65535\n");
      return EXIT_CONFIG;
    }
    config->port = (guint) port;
  }
  if (address != NULL) {
    if (!g_hostname_is_ip_address (address)) {
      g_printerr ("copilotd: --address must be an IP address\n");
      return EXIT_CONFIG;
    }
    g_free (config->address);
    config->address = g_steal_pointer (&address);
  }
  if (data_dir != NULL) {
    g_free (config->data_dir);
    config->data_dir = g_steal_pointer (&data_dir);
  }

  gst_init (NULL, NULL);
  loop = g_main_loop_new (NULL, FALSE);
  daemon = copilot_daemon_new (g_steal_pointer (&config));
  if (!copilot_daemon_start (daemon, &error)) {
    g_printerr ("copilotd: %s\n", error->message);
    return EXIT_FAILURE;
  }

  app.loop = loop;
  app.daemon = daemon;
  sigint = g_unix_signal_add (SIGINT, signal_cb, &app);
  sigterm = g_unix_signal_add (SIGTERM, signal_cb, &app);
  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_handle_id (&app.grace_id, g_source_remove);
  g_clear_handle_id (&app.quiet_id, g_source_remove);
  copilot_daemon_stop (daemon);
  g_clear_object (&daemon);
  g_message ("stopped");
  return EXIT_SUCCESS;
}
