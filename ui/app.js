// The /live agent view. Event text only ever reaches the page through
// textContent: nothing from the wire is parsed as HTML.

import { LiveConnection } from './connection.js';
import { Model } from './model.js';
import { clock, speakerLabel, speakerClass, endReason, timeOfDay, callName } from './format.js';

const $ = (id) => document.getElementById(id);
const el = {
  connection: $('connection'),
  connectionText: $('connection-text'),
  callList: $('call-list'),
  callsEmpty: $('calls-empty'),
  activeCount: $('active-count'),
  header: $('call-header'),
  callName: $('call-name'),
  callState: $('call-state'),
  callMeta: $('call-meta'),
  timer: $('call-timer'),
  follow: $('follow'),
  followNote: $('follow-note'),
  transcript: $('transcript'),
  empty: $('empty'),
  emptyTitle: $('empty-title'),
  emptyText: $('empty-text'),
  jump: $('jump'),
};

const model = new Model();
const params = new URLSearchParams(location.search);
const view = {
  /** The call shown; with pinned false it follows the newest active call. */
  callId: params.get('call') || null,
  pinned: params.has('call') && params.get('call') !== '',
  /** Rows of the shown call: segment key -> <li>. */
  rows: new Map(),
  /** Auto-scroll follows new lines until the user scrolls up. */
  stick: true,
  connected: false,
};

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className)
    n.className = className;
  if (text !== undefined)
    n.textContent = text;
  return n;
}

/* ---- connection state ---- */

function showConnection(state, info) {
  view.connected = state === 'connected';
  el.connection.dataset.state = state;
  let text;
  switch (state) {
    case 'connected': text = 'Connected'; break;
    case 'connecting': text = 'Connecting…'; break;
    case 'reconnecting': text = 'Reconnecting…'; break;
    case 'waiting':
      text = info.seconds > 0 ? `Reconnecting in ${info.seconds}s` : 'Reconnecting…';
      break;
    default: text = state;
  }
  el.connectionText.textContent = text;
  el.connection.title = state === 'connected' ? 'Connected to copilotd' :
    `Connection lost${info.attempt ? ` (attempt ${info.attempt})` : ''}; nothing is missed while reconnecting.`;
}

/* ---- call list ---- */

function renderCallList() {
  const list = model.summaries;
  el.callList.replaceChildren();
  let active = 0;
  for (const s of list) {
    if (s.state === 'active')
      active++;
    const li = node('li', 'call-item');
    li.dataset.callId = s.call_id;
    li.dataset.state = s.state;
    if (s.call_id === view.callId)
      li.setAttribute('aria-current', 'true');

    const button = node('button', 'call-button');
    button.type = 'button';
    const top = node('span', 'call-item-top');
    const dot = node('span', 'state-dot');
    dot.setAttribute('aria-hidden', 'true');
    top.append(dot, node('span', 'call-item-name', callName(s)));
    const bottom = node('span', 'call-item-bottom');
    bottom.append(
      node('span', 'call-item-state', s.state === 'active' ? 'Active' : endReason(s.end_reason)),
      node('span', 'call-item-time', s.state === 'active' ?
        `since ${timeOfDay(s.started_ms)}` : timeOfDay(s.ended_ms || s.started_ms)));
    button.append(top, bottom);
    button.addEventListener('click', () => selectCall(s.call_id, true));
    li.append(button);
    el.callList.append(li);
  }
  el.activeCount.textContent = `${active} active`;
  el.activeCount.dataset.active = String(active > 0);
  el.callsEmpty.hidden = list.length > 0;
}

/* ---- the shown call ---- */

function selectCall(id, pin) {
  const changed = id !== view.callId;
  view.callId = id;
  if (pin !== undefined) {
    view.pinned = pin;
    const url = new URL(location.href);
    if (pin && id)
      url.searchParams.set('call', id);
    else
      url.searchParams.delete('call');
    history.replaceState(null, '', url);
  }
  if (changed) {
    view.rows.clear();
    el.transcript.replaceChildren();
    view.stick = true;
    const c = id ? model.calls.get(id) : null;
    if (c) {
      for (const seg of c.orderedSegments())
        placeRow(seg);
    }
    scrollToLatest();
  }
  renderHeader();
  renderCallList();
  renderEmpty();
}

/** Calls already seen active, so that only a call that starts moves the view. */
const seenActive = new Set();

/**
 * Follows the newest active call unless the user pinned one. When the
 * followed call ends it stays on screen (the agent is still reading it)
 * until another call starts.
 */
function autoSelect() {
  let started = false;
  for (const s of model.summaries) {
    if (s.state === 'active' && !seenActive.has(s.call_id)) {
      seenActive.add(s.call_id);
      started = true;
    }
  }
  if (view.pinned)
    return;
  const newest = model.newestActive();
  if (newest && newest.call_id !== view.callId && (started || !view.callId))
    selectCall(newest.call_id);
}

function renderHeader() {
  const id = view.callId;
  el.header.hidden = !id;
  el.follow.hidden = !view.pinned;
  el.followNote.hidden = view.pinned || !id;
  if (!id)
    return;
  const c = model.call(id);
  const s = c.summary;
  const from = (s && s.from) || c.from;
  const to = (s && s.to) || c.to;
  el.callName.textContent = callName({ call_id: id, from, to });
  const active = !s || s.state === 'active';
  el.callState.textContent = active ? 'Live' : endReason(s.end_reason);
  el.callState.dataset.state = active ? 'active' : 'ended';
  const meta = [];
  if (from || to)
    meta.push(`Call ${id}`);
  if (s && s.started_ms)
    meta.push(`Started ${timeOfDay(s.started_ms)}`);
  if (s && Array.isArray(s.legs) && s.legs.length)
    meta.push(s.legs.map(speakerLabel).join(' + '));
  el.callMeta.textContent = meta.join(' · ');
  renderTimer();
}

function renderTimer() {
  const s = view.callId ? model.summary(view.callId) : null;
  if (!s || !s.started_ms) {
    el.timer.textContent = '00:00';
    return;
  }
  const end = s.state === 'active' ? Date.now() : (s.ended_ms || s.started_ms);
  el.timer.textContent = clock(end - s.started_ms);
  el.timer.dataset.state = s.state;
}

function renderEmpty() {
  const c = view.callId ? model.calls.get(view.callId) : null;
  const hasLines = c && c.segments.size > 0;
  el.empty.hidden = Boolean(hasLines);
  if (hasLines)
    return;
  if (!view.callId) {
    el.emptyTitle.textContent = 'Waiting for a call';
    el.emptyText.textContent = view.connected ?
      'When a call starts, its live transcript opens here automatically.' :
      'Connecting to copilotd…';
  } else {
    const s = model.summary(view.callId);
    const ended = s && s.state === 'ended';
    el.emptyTitle.textContent = ended ? 'No transcript' : 'Listening…';
    el.emptyText.textContent = ended ? 'This call ended before anything was transcribed.' :
      'The transcript appears here as soon as someone speaks.';
  }
}

/* ---- transcript ---- */

function buildRow(seg) {
  const li = node('li', 'line');
  const who = node('div', 'line-head');
  who.append(node('span', 'speaker', speakerLabel(seg.speaker)),
    node('time', 'stamp', clock(seg.startMs)));
  const text = node('p', 'text');
  li.append(who, text);
  return li;
}

function updateRow(li, seg) {
  li.dataset.segment = seg.id;
  li.dataset.speaker = speakerClass(seg.speaker);
  li.dataset.final = String(seg.final);
  li.querySelector('.speaker').textContent = speakerLabel(seg.speaker);
  const stamp = li.querySelector('.stamp');
  stamp.textContent = clock(seg.startMs);
  stamp.dateTime = `PT${Math.floor(seg.startMs / 1000)}S`;
  li.querySelector('.text').textContent = seg.text;
}

/** Inserts or updates the row of a segment, keeping conversation order. */
function placeRow(seg) {
  let li = view.rows.get(seg.id);
  const isNew = !li;
  if (isNew) {
    li = buildRow(seg);
    li.sortKey = [seg.startMs, seg.order];
    view.rows.set(seg.id, li);
  }
  updateRow(li, seg);
  li.sortKey = [seg.startMs, seg.order];
  if (isNew || needsMove(li)) {
    let before = null;
    for (let n = el.transcript.lastElementChild; n; n = n.previousElementSibling) {
      if (n === li)
        continue;
      const k = n.sortKey;
      if (k[0] < seg.startMs || (k[0] === seg.startMs && k[1] < seg.order))
        break;
      before = n;
    }
    el.transcript.insertBefore(li, before);
  }
}

function needsMove(li) {
  const prev = li.previousElementSibling;
  const next = li.nextElementSibling;
  const k = li.sortKey;
  const less = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  return (prev && less(k, prev.sortKey)) || (next && less(next.sortKey, k));
}

/* ---- scrolling ---- */

function atBottom() {
  const t = el.transcript;
  return t.scrollHeight - t.scrollTop - t.clientHeight < 48;
}

function scrollToLatest() {
  el.transcript.scrollTop = el.transcript.scrollHeight;
  view.stick = true;
  el.jump.hidden = true;
}

el.transcript.addEventListener('scroll', () => {
  view.stick = atBottom();
  if (view.stick)
    el.jump.hidden = true;
}, { passive: true });

el.jump.addEventListener('click', scrollToLatest);
el.follow.addEventListener('click', () => {
  const newest = model.newestActive();
  selectCall(newest ? newest.call_id : view.callId, false);
});

/* ---- messages ---- */

let listDirty = false;
let frame = 0;

function scheduleListRender() {
  listDirty = true;
  if (frame)
    return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    if (listDirty) {
      listDirty = false;
      renderCallList();
      renderHeader();
      renderEmpty();
    }
  });
}

function onMessage(msg) {
  if (msg.type === 'calls') {
    model.setSummaries(msg.calls);
    autoSelect();
    scheduleListRender();
    return;
  }
  if (msg.type === 'pong' || msg.type === 'error')
    return;

  const result = model.apply(msg);
  if (!result)
    return;
  if (msg.call_id !== view.callId) {
    if (msg.type === 'call.started')
      scheduleListRender();
    return;
  }
  if (result.segment) {
    const stick = view.stick;
    placeRow(result.segment);
    renderEmpty();
    if (stick)
      scrollToLatest();
    else
      el.jump.hidden = false;
  } else {
    scheduleListRender();
  }
}

const connection = new LiveConnection({
  lastSeqs: () => model.lastSeqs(),
  onMessage,
  onState: (state, info) => {
    showConnection(state, info);
    renderEmpty();
  },
});

selectCall(view.callId, view.pinned ? true : undefined);
connection.start();
setInterval(renderTimer, 1000);

// For tests and debugging: read-only peeks at what the page knows.
window.copilotLive = {
  get callId() { return view.callId; },
  get pinned() { return view.pinned; },
  get connected() { return view.connected; },
};
