/* One leg (speaker) of a call: an Exotel stream's audio pipeline.
 *
 * exotelsrc ! [mulawdec] ! audioconvert ! audioresample ! vadsplit !
 *     asrsink speaker=<leg> segment-prefix=<call id>-
 *
 * The leg is made once the stream's start frame is known, so the decoder is
 * chosen from its media_format and no dynamic linking is needed. Frames go
 * in with exotelsrc's push-frame action signal (it never blocks). The bus
 * watch runs on the main context and turns the pipeline's messages into the
 * leg's signals. Everything here is main-context only. */
#include "config.h"

#include "copilot-leg.h"
#include "copilot-error.h"
#include "copilot-segment.h"

struct _CopilotLeg
{
  GObject parent;

  char *call_id;
  char *speaker;
  GstElement *pipeline;
  GstElement *src;              /* owned by the pipeline */
  guint bus_watch;
  guint drain_timeout_id;
  gint64 started_ms;
  char *end_reason;             /* set when the end was requested */
  gboolean finishing;
  gboolean ended;
};

G_DEFINE_TYPE (CopilotLeg, copilot_leg, G_TYPE_OBJECT);

enum
{
  SIGNAL_START,
  SIGNAL_TRANSCRIPT,
  SIGNAL_ENDED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
set_reason (CopilotLeg * self, const char *reason)
{
  if (self->end_reason == NULL)
    self->end_reason = g_strdup (reason);
}

static void
end_leg (CopilotLeg * self)
{
  if (self->ended)
    return;
  self->ended = TRUE;
  g_clear_handle_id (&self->drain_timeout_id, g_source_remove);
  /* Joins the streaming threads; asrsink's EOS already waited for the last
   * final, so this is quick. */
  gst_element_set_state (self->pipeline, GST_STATE_NULL);
  g_message ("call %s: %s leg ended (%s)", self->call_id, self->speaker,
      self->end_reason);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0, self->end_reason);
}

/* Main context (bus watch). */
static gboolean
bus_message_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  CopilotLeg *self = user_data;
  g_autoptr (CopilotLeg) keep = g_object_ref (self);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (self->ended)
        break;
      if (gst_structure_has_name (s, "copilot-transcript")) {
        const GValue *v = gst_structure_get_value (s, "segment");
        CopilotSegment *seg = v ? g_value_get_boxed (v) : NULL;
        guint64 latency = GST_CLOCK_TIME_NONE;

        gst_structure_get_uint64 (s, "latency", &latency);
        if (seg != NULL)
          g_signal_emit (self, signals[SIGNAL_TRANSCRIPT], 0, seg, latency);
      } else if (gst_structure_has_name (s, "exotel-start")) {
        g_signal_emit (self, signals[SIGNAL_START], 0, s);
      } else if (gst_structure_has_name (s, "exotel-stop")) {
        /* Exotel's stop means the call ended at its side. */
        set_reason (self, "callended");
      }
      break;
    }
    case GST_MESSAGE_EOS:
      set_reason (self, "callended");
      end_leg (self);
      break;
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;
      g_autofree char *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      g_message ("call %s: %s leg pipeline error from %s: %s (%s)",
          self->call_id, self->speaker, GST_OBJECT_NAME (msg->src),
          err->message, debug ? debug : "");
      set_reason (self, "disconnected");
      end_leg (self);
      break;
    }
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;
      g_autofree char *debug = NULL;

      gst_message_parse_warning (msg, &err, &debug);
      g_message ("call %s: %s leg: %s: %s", self->call_id, self->speaker,
          GST_OBJECT_NAME (msg->src), err->message);
      g_debug ("call %s: %s", self->call_id, debug ? debug : "");
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static void
copilot_leg_dispose (GObject * object)
{
  CopilotLeg *self = COPILOT_LEG (object);

  g_clear_handle_id (&self->drain_timeout_id, g_source_remove);
  if (self->pipeline != NULL) {
    GstBus *bus = gst_element_get_bus (self->pipeline);

    if (self->bus_watch != 0)
      gst_bus_remove_watch (bus);
    self->bus_watch = 0;
    gst_object_unref (bus);
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
    self->src = NULL;
    gst_clear_object (&self->pipeline);
  }
  G_OBJECT_CLASS (copilot_leg_parent_class)->dispose (object);
}

static void
copilot_leg_finalize (GObject * object)
{
  CopilotLeg *self = COPILOT_LEG (object);

  g_free (self->call_id);
  g_free (self->speaker);
  g_free (self->end_reason);
  G_OBJECT_CLASS (copilot_leg_parent_class)->finalize (object);
}

static void
copilot_leg_class_init (CopilotLegClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = copilot_leg_dispose;
  object_class->finalize = copilot_leg_finalize;

  /* The exotel-start structure of the stream. */
  signals[SIGNAL_START] = g_signal_new ("start", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* A partial or final segment and, for finals, the latency in ns. */
  signals[SIGNAL_TRANSCRIPT] = g_signal_new ("transcript",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, COPILOT_TYPE_SEGMENT, G_TYPE_UINT64);
  /* The leg's pipeline has stopped; the reason as in call.ended. */
  signals[SIGNAL_ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
copilot_leg_init (CopilotLeg * self)
{
}

static GstElement *
make (const char *factory, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (e == NULL)
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_FAILED,
        "GStreamer element \"%s\" is not available", factory);
  return e;
}

/* Main context only: set once at start-up from the configuration. */
static char *default_decoder_options;

/**
 * copilot_leg_set_default_decoder_options:
 * @options: (nullable): asrsink decoder-options for every new leg
 *
 * Sets the recogniser options of the legs created from now on.
 */
void
copilot_leg_set_default_decoder_options (const char *options)
{
  g_free (default_decoder_options);
  default_decoder_options = options && options[0] ? g_strdup (options) : NULL;
}

/**
 * copilot_leg_new:
 * @call_id: the call, used in segment ids and log lines
 * @speaker: "agent" or "customer"
 * @track: (nullable): exotelsrc's track ("inbound", "outbound"), or %NULL
 *   for "auto" (a mono stream: the first track seen)
 * @mulaw: whether the stream's audio is mu-law
 * @sample_rate: rate for exotelsrc when the start frame has none
 * @max_frame_size: exotelsrc's max-frame-size
 * @asr: whether to recognise speech (otherwise VAD only)
 * @error: return location for an error
 *
 * Builds the pipeline and sets it to PLAYING; frames are accepted at once.
 *
 * Returns: (transfer full) (nullable): a new leg
 */
CopilotLeg *
copilot_leg_new (const char *call_id, const char *speaker, const char *track,
    gboolean mulaw, guint sample_rate, guint max_frame_size, gboolean asr,
    GError ** error)
{
  g_autoptr (CopilotLeg) self = g_object_new (COPILOT_TYPE_LEG, NULL);
  const char *chain[] = { "exotelsrc", mulaw ? "mulawdec" : NULL,
    "audioconvert", "audioresample", "vadsplit", asr ? "asrsink" : "fakesink",
  };
  g_autofree char *name = g_strdup_printf ("call-%s-%s", call_id, speaker);
  g_autofree char *prefix = g_strdup_printf ("%s-", call_id);
  GstElement *prev = NULL;
  g_autoptr (GstBus) bus = NULL;

  self->call_id = g_strdup (call_id);
  self->speaker = g_strdup (speaker);
  self->pipeline = gst_object_ref_sink (gst_pipeline_new (name));

  for (guint i = 0; i < G_N_ELEMENTS (chain); i++) {
    GstElement *e;

    if (chain[i] == NULL)
      continue;
    e = make (chain[i], error);
    if (e == NULL)
      return NULL;
    gst_bin_add (GST_BIN (self->pipeline), e);
    /* The pipeline holds the source; we only keep a borrowed pointer. */
    if (self->src == NULL)
      self->src = e;
    if (prev != NULL && !gst_element_link (prev, e)) {
      g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_FAILED,
          "Cannot link %s to %s", GST_OBJECT_NAME (prev), GST_OBJECT_NAME (e));
      return NULL;
    }
    prev = e;
  }
  g_object_set (self->src, "sample-rate", sample_rate, "max-frame-size",
      max_frame_size, NULL);
  if (track != NULL)
    gst_util_set_object_arg (G_OBJECT (self->src), "track", track);
  if (asr) {
    g_object_set (prev, "speaker", speaker, "segment-prefix", prefix, NULL);
    if (default_decoder_options != NULL)
      g_object_set (prev, "decoder-options", default_decoder_options, NULL);
  } else
    g_object_set (prev, "sync", FALSE, "async", FALSE, NULL);

  bus = gst_element_get_bus (self->pipeline);
  self->bus_watch = gst_bus_add_watch (bus, bus_message_cb, self);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, COPILOT_ERROR, COPILOT_ERROR_FAILED,
        "Cannot start the %s pipeline of call %s", speaker, call_id);
    return NULL;
  }
  self->started_ms = g_get_real_time () / 1000;
  g_message ("call %s: %s leg pipeline playing (%s%s)", call_id, speaker,
      mulaw ? "mu-law" : "PCM", asr ? "" : ", recognition off");
  return g_steal_pointer (&self);
}

/**
 * copilot_leg_push_frame:
 * @self: a leg
 * @frame: one Exotel text frame
 * @length: its length in bytes
 *
 * Returns: %FALSE if exotelsrc refused the frame (invalid or queue full),
 *   or the leg has ended
 */
gboolean
copilot_leg_push_frame (CopilotLeg * self, const char *frame, gsize length)
{
  gboolean ok = FALSE;
  g_autofree char *copy = NULL;

  if (self->ended || self->finishing)
    return FALSE;
  /* The action signal takes a NUL-terminated string. */
  copy = g_strndup (frame, length);
  g_signal_emit_by_name (self->src, "push-frame", copy, &ok);
  return ok;
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  CopilotLeg *self = user_data;

  self->drain_timeout_id = 0;
  g_message ("call %s: %s leg did not drain in time, stopping it",
      self->call_id, self->speaker);
  end_leg (self);
  return G_SOURCE_REMOVE;
}

/**
 * copilot_leg_finish:
 * @self: a leg
 * @reason: why the leg ends ("disconnected", "timeout", ...)
 * @drain_timeout_ms: how long the audio already received may take to be
 *   recognised before the pipeline is stopped anyway
 *
 * Ends the leg's audio as a stop frame would, so that the utterances
 * already received are still recognised; #CopilotLeg::ended follows.
 */
void
copilot_leg_finish (CopilotLeg * self, const char *reason,
    guint drain_timeout_ms)
{
  gboolean ok = FALSE;

  if (self->ended || self->finishing)
    return;
  set_reason (self, reason);
  self->finishing = TRUE;
  /* A bare stop frame is always accepted (it has a reserved queue slot). */
  g_signal_emit_by_name (self->src, "push-frame", "{\"event\":\"stop\"}", &ok);
  if (!ok) {
    end_leg (self);
    return;
  }
  self->drain_timeout_id = g_timeout_add (drain_timeout_ms,
      drain_timeout_cb, self);
}

/**
 * copilot_leg_stop:
 * @self: a leg
 * @reason: why the leg ends
 *
 * Stops the pipeline now; #CopilotLeg::ended is emitted before this returns
 * unless the leg had already ended.
 */
void
copilot_leg_stop (CopilotLeg * self, const char *reason)
{
  set_reason (self, reason);
  end_leg (self);
}

const char *
copilot_leg_get_speaker (CopilotLeg * self)
{
  return self->speaker;
}

gboolean
copilot_leg_is_ended (CopilotLeg * self)
{
  return self->ended;
}

const char *
copilot_leg_get_end_reason (CopilotLeg * self)
{
  return self->end_reason;
}

gint64
copilot_leg_get_started_ms (CopilotLeg * self)
{
  return self->started_ms;
}
