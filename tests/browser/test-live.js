#!/usr/bin/env node
// Browser test of copilotd's /live page (issue 3).
//
// Starts the built copilotd on a free 127.0.0.1 port, opens /live in Debian's
// chromium (driven by playwright-core from npm) WITHOUT a call id, creates
// calls through the REST API and checks that their transcripts appear with
// the right speakers, that the page follows the newest call, that a second
// call shows up in the call list, and that event text is never parsed as
// HTML. Saves screenshots in the output directory.
//
// Usage: node test-live.js --copilotd PATH --replay PATH --outdir DIR
// Exit status: 0 pass, 1 fail, 77 skip (no chromium).
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const CHROMIUM = process.env.COPILOT_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync',
];
const STEP_TIMEOUT_MS = 15000;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(argv[i]);
    if (!m || i + 1 >= argv.length)
      throw new Error(`bad argument ${argv[i]}`);
    out[m[1]] = argv[++i];
  }
  for (const k of ['copilotd', 'replay', 'outdir']) {
    if (!out[k])
      throw new Error(`--${k} is required`);
  }
  return out;
}

function log(...args) {
  console.log('#', ...args);
}

// playwright-core is installed with `npm ci` from the committed lock file
// into the output (build) directory, once per lock file version.
function loadPlaywright(outdir) {
  const lock = fs.readFileSync(path.join(__dirname, 'package-lock.json'));
  const hash = crypto.createHash('sha256').update(lock).digest('hex');
  const prefix = path.join(outdir, 'npm');
  const stamp = path.join(prefix, '.lock-sha256');
  const have = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';

  if (have !== hash || !fs.existsSync(path.join(prefix, 'node_modules', 'playwright-core'))) {
    log(`installing playwright-core into ${prefix}`);
    fs.mkdirSync(prefix, { recursive: true });
    fs.copyFileSync(path.join(__dirname, 'package.json'), path.join(prefix, 'package.json'));
    fs.copyFileSync(path.join(__dirname, 'package-lock.json'), path.join(prefix, 'package-lock.json'));
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: prefix, stdio: ['ignore', 'inherit', 'inherit'], timeout: 150000,
    });
    if (r.status !== 0)
      throw new Error(`npm ci failed (${r.error ? r.error.message : `status ${r.status}`})`);
    fs.writeFileSync(stamp, hash + '\n');
  }
  return require(path.join(prefix, 'node_modules', 'playwright-core'));
}

// A short two-leg call (agent left, customer right, 8 kHz) made with flite
// and sox, or null if they are missing.
function makeCallWav(dir) {
  const run = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0;
  const f = (n) => path.join(dir, n);
  if (!run('flite', ['-voice', 'slt', '-t', 'Thank you for calling. How can I help you today?', '-o', f('a.wav')]) ||
      !run('flite', ['-voice', 'slt', '-t', 'I want to check my account balance please.', '-o', f('c.wav')]) ||
      !run('sox', [f('a.wav'), '-r', '8000', f('a8.wav'), 'pad', '0', '3.5']) ||
      !run('sox', [f('c.wav'), '-r', '8000', f('c8.wav'), 'pad', '3.2', '0']) ||
      !run('sox', ['-M', f('a8.wav'), f('c8.wav'), f('call.wav')]))
    return null;
  return f('call.wav');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = STEP_TIMEOUT_MS) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v)
        return v;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function assert(cond, message) {
  if (!cond)
    throw new Error(`assertion failed: ${message}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  args.outdir = path.resolve(args.outdir);
  args.copilotd = path.resolve(args.copilotd);
  args.replay = path.resolve(args.replay);
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`1..0 # SKIP ${CHROMIUM} is not installed (apt-get install chromium)`);
    return 77;
  }
  fs.mkdirSync(args.outdir, { recursive: true });
  const { chromium } = loadPlaywright(args.outdir);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'copilot-browser-'));
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length)
      await cleanups.pop()().catch((e) => log('cleanup:', e.message));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => { cleanup().finally(() => process.exit(1)); });
  }

  try {
    // ---- copilotd ----
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const daemonLog = fs.openSync(path.join(args.outdir, 'copilotd.log'), 'w');
    const daemon = spawn(args.copilotd,
      ['--address', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
        stdio: ['ignore', daemonLog, daemonLog],
        env: { ...process.env, G_DEBUG: '' },
      });
    let daemonExit = null;
    daemon.on('exit', (code, signal) => { daemonExit = { code, signal }; });
    cleanups.push(async () => {
      if (daemonExit === null) {
        daemon.kill('SIGTERM');
        const end = Date.now() + 5000;
        while (daemonExit === null && Date.now() < end)
          await sleep(50);
        if (daemonExit === null)
          daemon.kill('SIGKILL');
      }
    });
    await waitFor('copilotd /healthz', async () => {
      if (daemonExit)
        throw new Error(`copilotd exited early (${JSON.stringify(daemonExit)}), see copilotd.log`);
      const r = await fetch(`${base}/healthz`);
      return r.ok;
    });
    log(`copilotd on ${base}`);

    const post = async (callId, speaker, text) => {
      const r = await fetch(`${base}/api/calls/${encodeURIComponent(callId)}/transcript`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ speaker, text }),
      });
      assert(r.status === 201, `POST transcript for ${callId}: HTTP ${r.status}`);
      return (await r.json()).event;
    };

    // ---- chromium ----
    const profile = path.join(tmp, 'profile');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      timeout: 60000,
    });
    cleanups.push(() => context.close());
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error')
        problems.push(`console error: ${m.text()}`);
    });
    page.on('dialog', (d) => { problems.push(`dialog opened: ${d.message()}`); d.dismiss(); });

    // ---- 1: the page, no call id anywhere ----
    await page.goto(`${base}/live`);
    await page.waitForSelector('#connection[data-state="connected"]');
    assert(await page.isVisible('#empty'), 'empty state shown before any call');
    assert((await page.textContent('#empty-title')).includes('Waiting'), 'empty state title');
    console.log('ok 1 - /live loads, connects and shows the empty state');

    // ---- 2: a call's transcript appears, with speakers ----
    const callA = `CAbrowserA${Date.now()}`;
    const linesA = [
      ['agent', 'Thank you for calling Acme support, this is Priya. How can I help?'],
      ['customer', 'Hi, my internet keeps dropping every few minutes since last night.'],
      ['agent', 'Sorry about that. Could you read me the account number on your bill?'],
    ];
    for (const [speaker, text] of linesA)
      await post(callA, speaker, text);
    await page.waitForFunction((n) => document.querySelectorAll('#transcript .line').length === n,
      linesA.length);
    const shownA = await page.$$eval('#transcript .line', (lis) => lis.map((li) => ({
      speaker: li.dataset.speaker,
      label: li.querySelector('.speaker').textContent,
      stamp: li.querySelector('.stamp').textContent,
      text: li.querySelector('.text').textContent,
    })));
    linesA.forEach(([speaker, text], i) => {
      assert(shownA[i].speaker === speaker, `line ${i} speaker ${shownA[i].speaker}`);
      assert(shownA[i].label === (speaker === 'agent' ? 'Agent' : 'Customer'), `line ${i} label ${shownA[i].label}`);
      assert(shownA[i].text === text, `line ${i} text "${shownA[i].text}"`);
      assert(/^\d\d:\d\d$/.test(shownA[i].stamp), `line ${i} timestamp "${shownA[i].stamp}"`);
    });
    assert(!new URL(page.url()).searchParams.has('call'), 'no call id in the URL');
    assert(await page.isHidden('#empty'), 'empty state hidden once lines arrive');
    assert((await page.getAttribute('#call-state', 'data-state')) === 'active', 'call shown as live');
    console.log('ok 2 - transcript of a new call appears with Agent/Customer labels, no call id typed');

    // ---- 3: a second call joins the list and the view follows it ----
    await sleep(20);  // a strictly later start time than call A
    const callB = `CAbrowserB${Date.now()}`;
    await post(callB, 'customer', 'Hello? I would like to change my billing address.');
    await post(callB, 'agent', '<img src=x onerror="alert(1)"> sure, <b>one moment</b>');
    await page.waitForFunction((ids) => ids.every((id) =>
      document.querySelector(`#call-list li[data-call-id="${id}"]`)), [callA, callB]);
    assert((await page.$$('#call-list li')).length === 2, 'two calls listed');
    await page.waitForFunction((id) => window.copilotLive.callId === id, callB);
    await page.waitForFunction(() => document.querySelectorAll('#transcript .line').length === 2);
    const htmlText = await page.textContent('#transcript .line[data-speaker="agent"] .text');
    assert(htmlText === '<img src=x onerror="alert(1)"> sure, <b>one moment</b>', 'markup shown as text');
    assert((await page.$$('#transcript img, #transcript b')).length === 0, 'no markup parsed');
    console.log('ok 3 - a second call appears in the list, the view follows it, text is not HTML');

    // ---- 4: clicking a call pins it; the other call's lines keep arriving in the list only ----
    await page.click(`#call-list li[data-call-id="${callA}"] button`);
    await page.waitForFunction((n) => document.querySelectorAll('#transcript .line').length === n,
      linesA.length);
    assert(new URL(page.url()).searchParams.get('call') === callA, 'pinned call in the URL');
    await post(callB, 'customer', 'Are you still there?');
    await post(callA, 'customer', 'Sure, it is 4417 2290.');
    await page.waitForFunction((n) => document.querySelectorAll('#transcript .line').length === n,
      linesA.length + 1);
    assert((await page.textContent('#transcript .line:last-child .text')) === 'Sure, it is 4417 2290.',
      'pinned call gets its new line');
    console.log('ok 4 - clicking a call pins it and only its lines are shown');

    // ---- 5: ending the call updates its state ----
    const r = await fetch(`${base}/api/calls/${callA}/end`, { method: 'POST' });
    assert(r.status === 200, `end call: HTTP ${r.status}`);
    await page.waitForSelector('#call-state[data-state="ended"]');
    await page.waitForSelector(`#call-list li[data-call-id="${callA}"][data-state="ended"]`);
    console.log('ok 5 - an ended call is shown as ended');

    // ---- 6: a real call replayed as Exotel is followed and transcribed ----
    await page.click('#follow');
    await page.waitForFunction((id) => window.copilotLive.callId === id && !window.copilotLive.pinned, callB);
    const wav = makeCallWav(tmp);
    if (!wav) {
      console.log('ok 6 # SKIP flite or sox missing, no WAV for copilot-replay');
    } else {
      const replayId = `CAreplay${Date.now()}`;
      const replay = spawnSync(args.replay, ['--url', `ws://127.0.0.1:${port}/exotel/media`,
        '--call-id', replayId, '--speed', '0', '--from', '+919800000001', '--to', '+918000000000',
        '--out', path.join(args.outdir, 'replay.ndjson'), '--timeout', '60', wav],
      { stdio: ['ignore', 'inherit', 'inherit'], timeout: 90000 });
      assert(replay.status === 0, `copilot-replay exited with ${replay.status}`);
      await page.waitForFunction((id) => window.copilotLive.callId === id, replayId);
      await page.waitForSelector('#call-state[data-state="ended"]');
      await page.waitForFunction(() =>
        document.querySelector('#transcript .line[data-speaker="agent"][data-final="true"]') &&
        document.querySelector('#transcript .line[data-speaker="customer"][data-final="true"]'));
      const labels = await page.$$eval('#transcript .line .speaker', (n) => n.map((x) => x.textContent));
      assert(labels.includes('Agent') && labels.includes('Customer'), `replay labels ${labels}`);
      assert((await page.textContent('#call-name')) === '+919800000001 → +918000000000', 'caller shown');
      console.log('ok 6 - a replayed two-leg call is followed and its transcript appears');
    }

    // ---- screenshots, of the longer conversation ----
    await page.click(`#call-list li[data-call-id="${callB}"] button`);
    await page.waitForFunction((id) => window.copilotLive.callId === id, callB);
    for (const [speaker, text] of [
      ['agent', 'Of course. Can you confirm the postcode of the new address?'],
      ['customer', 'It is SW1A 2AA, flat 4.'],
    ])
      await post(callB, speaker, text);
    await page.waitForFunction(() => document.querySelectorAll('#transcript .line').length === 5);
    const shot = path.join(args.outdir, 'live.png');
    await page.screenshot({ path: shot });
    await page.setViewportSize({ width: 420, height: 800 });
    await sleep(100);
    await page.screenshot({ path: path.join(args.outdir, 'live-narrow.png') });
    log(`screenshots: ${shot}, live-narrow.png`);

    assert(problems.length === 0, `browser reported problems:\n  ${problems.join('\n  ')}`);
    assert(daemonExit === null, 'copilotd still running');
    console.log('ok 7 - no page errors; screenshots saved');
    console.log('1..7');
    return 0;
  } finally {
    await cleanup();
  }
}

main().then((code) => process.exit(code), (e) => {
  console.log(`not ok - ${e.stack || e.message}`);
  process.exit(1);
});
