#include "config.h"

#include "gstcopilotutterance.h"

GstEvent *
copilot_utterance_start_event_new (guint64 index, GstClockTime running_time)
{
  GstStructure *s = gst_structure_new (COPILOT_UTTERANCE_START_NAME,
      "index", G_TYPE_UINT64, index,
      "running-time", G_TYPE_UINT64, (guint64) running_time, NULL);

  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s);
}

GstEvent *
copilot_utterance_end_event_new (guint64 index, GstClockTime running_time,
    GstClockTime duration, CopilotUtteranceEndReason reason)
{
  GstStructure *s = gst_structure_new (COPILOT_UTTERANCE_END_NAME,
      "index", G_TYPE_UINT64, index,
      "running-time", G_TYPE_UINT64, (guint64) running_time,
      "duration", G_TYPE_UINT64, (guint64) duration,
      "reason", G_TYPE_STRING, copilot_utterance_end_reason_to_string (reason),
      NULL);

  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s);
}

gboolean
copilot_utterance_event_is_start (GstEvent * event)
{
  return GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM
      && gst_event_has_name (event, COPILOT_UTTERANCE_START_NAME);
}

gboolean
copilot_utterance_event_is_end (GstEvent * event)
{
  return GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM
      && gst_event_has_name (event, COPILOT_UTTERANCE_END_NAME);
}

gboolean
copilot_utterance_start_event_parse (GstEvent * event, guint64 * index,
    GstClockTime * running_time)
{
  const GstStructure *s;
  guint64 i, rt;

  if (!copilot_utterance_event_is_start (event))
    return FALSE;
  s = gst_event_get_structure (event);
  if (!gst_structure_get_uint64 (s, "index", &i)
      || !gst_structure_get_uint64 (s, "running-time", &rt))
    return FALSE;
  if (index)
    *index = i;
  if (running_time)
    *running_time = rt;
  return TRUE;
}

gboolean
copilot_utterance_end_event_parse (GstEvent * event, guint64 * index,
    GstClockTime * running_time, GstClockTime * duration,
    CopilotUtteranceEndReason * reason)
{
  const GstStructure *s;
  const char *r;
  guint64 i, rt, d;
  CopilotUtteranceEndReason why = COPILOT_UTTERANCE_END_SILENCE;

  if (!copilot_utterance_event_is_end (event))
    return FALSE;
  s = gst_event_get_structure (event);
  if (!gst_structure_get_uint64 (s, "index", &i)
      || !gst_structure_get_uint64 (s, "running-time", &rt)
      || !gst_structure_get_uint64 (s, "duration", &d))
    return FALSE;
  r = gst_structure_get_string (s, "reason");
  if (g_strcmp0 (r, "max-length") == 0)
    why = COPILOT_UTTERANCE_END_MAX_LENGTH;
  else if (g_strcmp0 (r, "eos") == 0)
    why = COPILOT_UTTERANCE_END_EOS;
  else if (g_strcmp0 (r, "flush") == 0)
    why = COPILOT_UTTERANCE_END_FLUSH;
  if (index)
    *index = i;
  if (running_time)
    *running_time = rt;
  if (duration)
    *duration = d;
  if (reason)
    *reason = why;
  return TRUE;
}

const char *
copilot_utterance_end_reason_to_string (CopilotUtteranceEndReason reason)
{
  switch (reason) {
    case COPILOT_UTTERANCE_END_SILENCE:
      return "silence";
    case COPILOT_UTTERANCE_END_MAX_LENGTH:
      return "max-length";
    case COPILOT_UTTERANCE_END_EOS:
      return "eos";
    case COPILOT_UTTERANCE_END_FLUSH:
      return "flush";
  }
  return "silence";
}
