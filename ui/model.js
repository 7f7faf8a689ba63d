// What the page knows: call summaries from the server's "calls" snapshots
// and, per call, its transcript segments built from the event stream.

export class CallState {
  constructor(id) {
    this.id = id;
    this.lastSeq = 0;
    this.summary = null;
    this.from = '';
    this.to = '';
    /** "speaker/segment_id" -> { id, speaker, text, final, startMs, order } */
    this.segments = new Map();
    this.nextOrder = 0;
    this.latestStart = 0;
  }

  /** Segments in conversation order: by call-relative start, then arrival. */
  orderedSegments() {
    return [...this.segments.values()].sort((a, b) =>
      (a.startMs - b.startMs) || (a.order - b.order));
  }
}

export class Model {
  constructor() {
    /** call_id -> CallState */
    this.calls = new Map();
    /** Call summaries in the server's order (active first, newest first). */
    this.summaries = [];
  }

  call(id) {
    let c = this.calls.get(id);
    if (!c) {
      c = new CallState(id);
      this.calls.set(id, c);
    }
    return c;
  }

  /** Highest seq seen per call, for re-subscribing after a reconnect. */
  lastSeqs() {
    const out = {};
    for (const [id, c] of this.calls) {
      if (c.lastSeq > 0)
        out[id] = c.lastSeq;
    }
    return out;
  }

  setSummaries(list) {
    this.summaries = Array.isArray(list) ? list.filter((s) => s && typeof s.call_id === 'string') : [];
    for (const s of this.summaries)
      this.call(s.call_id).summary = s;
  }

  summary(id) {
    const c = this.calls.get(id);
    return c ? c.summary : null;
  }

  /** The newest active call, or null. */
  newestActive() {
    let best = null;
    for (const s of this.summaries) {
      if (s.state === 'active' && (!best || (s.started_ms || 0) > (best.started_ms || 0)))
        best = s;
    }
    return best;
  }

  /**
   * Applies one event. Events of a call arrive in seq order, so anything at
   * or below the call's last seq is a repeat (a replay overlapping what we
   * had) and is dropped: the dedupe key is call_id + seq.
   *
   * Returns the segment it touched, { call } for other accepted events, or
   * null for a repeat.
   */
  apply(ev) {
    if (typeof ev.call_id !== 'string' || !Number.isInteger(ev.seq))
      return null;
    const c = this.call(ev.call_id);
    if (ev.seq <= c.lastSeq)
      return null;
    c.lastSeq = ev.seq;

    switch (ev.type) {
      case 'call.started':
        c.from = ev.from || '';
        c.to = ev.to || '';
        return { call: c };
      case 'transcript.partial':
      case 'transcript.final': {
        // Each leg numbers its own segments, so the speaker is part of the key.
        const speaker = typeof ev.speaker === 'string' ? ev.speaker : 'unknown';
        const id = `${speaker}/${ev.segment_id ?? `seq-${ev.seq}`}`;
        const isFinal = ev.type === 'transcript.final';
        let seg = c.segments.get(id);
        if (seg && seg.final && !isFinal)
          return { call: c };   // a late partial never replaces its final
        if (!seg) {
          seg = { id, order: c.nextOrder++ };
          c.segments.set(id, seg);
        }
        seg.speaker = speaker;
        seg.text = typeof ev.text === 'string' ? ev.text : '';
        seg.final = isFinal;
        // A partial may not know its times yet: keep what we had, or place
        // it after everything so far.
        if (Number.isFinite(ev.start_ms))
          seg.startMs = ev.start_ms;
        else if (!Number.isFinite(seg.startMs))
          seg.startMs = Number.isFinite(ev.end_ms) ? ev.end_ms : c.latestStart;
        c.latestStart = Math.max(c.latestStart, seg.startMs);
        return { call: c, segment: seg };
      }
      default:
        return { call: c };
    }
  }
}
