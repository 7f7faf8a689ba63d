// The /live/ws connection: subscribes to every call, reconnects with
// exponential backoff, and on every (re)connect asks for what it has not
// seen yet (last_seq per call), so nothing is lost and nothing repeats.

const PING_INTERVAL_MS = 20000;
const SILENCE_LIMIT_MS = 50000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;

export class LiveConnection {
  /**
   * @param {object} opts
   * @param {() => Object<string, number>} opts.lastSeqs  highest seq seen per call
   * @param {(msg: object) => void} opts.onMessage
   * @param {(state: string, info: object) => void} opts.onState
   */
  constructor({ lastSeqs, onMessage, onState }) {
    this.lastSeqs = lastSeqs;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.countdownTimer = 0;
    this.pingTimer = 0;
    this.lastHeard = 0;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/live/ws`;
  }

  start() {
    this.open();
    window.addEventListener('online', () => this.retryNow());
  }

  open() {
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    this.onState(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });

    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;

    ws.addEventListener('open', () => {
      if (ws !== this.ws)
        return;
      this.attempt = 0;
      this.lastHeard = Date.now();
      const lastSeq = this.lastSeqs();
      const subscribe = { type: 'subscribe', call_id: '*' };
      if (Object.keys(lastSeq).length > 0)
        subscribe.last_seq = lastSeq;
      ws.send(JSON.stringify(subscribe));
      this.pingTimer = setInterval(() => this.keepAlive(), PING_INTERVAL_MS);
      this.onState('connected', {});
    });

    ws.addEventListener('message', (ev) => {
      if (ws !== this.ws)
        return;
      this.lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (msg && typeof msg === 'object')
        this.onMessage(msg);
    });

    ws.addEventListener('close', () => {
      if (ws !== this.ws)
        return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.scheduleRetry();
    });
    // An error is always followed by close; nothing to do here.
    ws.addEventListener('error', () => {});
  }

  keepAlive() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return;
    if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      // The server answers pings; silence this long means a dead link.
      ws.close();
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' }));
  }

  scheduleRetry() {
    this.attempt += 1;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.attempt - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    const due = Date.now() + delay;
    const tick = () => this.onState('waiting', {
      attempt: this.attempt,
      seconds: Math.max(0, Math.ceil((due - Date.now()) / 1000)),
    });
    tick();
    this.countdownTimer = setInterval(tick, 1000);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  retryNow() {
    if (this.ws)
      return;
    this.open();
  }
}
