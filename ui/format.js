// Small formatting helpers shared by the view.

/** Call-relative audio time (ms) as m:ss, or h:mm:ss past an hour. */
export function clock(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  if (h > 0)
    return `${h}:${String(m).padStart(2, '0')}:${s}`;
  return `${String(m).padStart(2, '0')}:${s}`;
}

const SPEAKERS = { agent: 'Agent', customer: 'Customer' };

export function speakerLabel(speaker) {
  return SPEAKERS[speaker] || 'Speaker';
}

export function speakerClass(speaker) {
  return SPEAKERS[speaker] ? speaker : 'unknown';
}

const END_REASONS = {
  callended: 'Call ended',
  stopped: 'Stopped',
  disconnected: 'Disconnected',
  timeout: 'Timed out',
};

export function endReason(reason) {
  return END_REASONS[reason] || 'Ended';
}

/** Wall-clock time of day for a unix ms timestamp, in the browser's locale. */
export function timeOfDay(ms) {
  if (!ms)
    return '';
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A short, readable name for a call: its parties if known, else its id. */
export function callName(summary) {
  const from = summary && summary.from;
  const to = summary && summary.to;
  if (from && to)
    return `${from} → ${to}`;
  return from || to || (summary ? summary.call_id : '');
}
