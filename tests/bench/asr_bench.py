#!/usr/bin/env python3
"""Recogniser and VAD bench over the generated test calls.

Prints word error rate (generic vs domain-adapted language model), the real
time factor of the engine, voice activity boundary accuracy against the
known truth of the generated calls, and peak RSS per mode.

Run it from the build tree: `make bench`, or
`meson devenv -C build /usr/bin/python3 tests/bench/asr_bench.py`.
Each mode runs in its own process so its peak RSS is its own.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
TOLERANCE_MS = 200


# --------------------------------------------------------------------------
# Scoring

NUMBER_WORDS = {}


def normalise(text):
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return [w for w in text.split() if w]


def edit_distance(ref, hyp):
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def merge_runs(runs, gap_ms):
    out = []
    for a, b in sorted(runs):
        if out and a - out[-1][1] < gap_ms:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


# --------------------------------------------------------------------------
# Child: one mode, all calls, in this process

def run_pipeline(Gst, desc, on_message):
    pipe = Gst.parse_launch(desc)
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    error = None
    while True:
        msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                     Gst.MessageType.ELEMENT | Gst.MessageType.EOS
                                     | Gst.MessageType.ERROR)
        if msg.type == Gst.MessageType.EOS:
            break
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            error = "%s (%s)" % (err.message, dbg)
            break
        on_message(msg)
    pipe.set_state(Gst.State.NULL)
    return pipe, error


def leg(src, speaker, asr):
    tail = ("asrsink name=asr_%s speaker=%s %s" % (speaker, speaker, asr)) if asr is not None \
        else "fakesink name=sink_%s sync=false" % speaker
    return ("%s ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=0 ! "
            "audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=1 ! "
            "vadsplit name=vad_%s ! %s" % (src, speaker, tail))


def child(mode, calls_dir, weight, options):
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    asr = None
    if mode == "generic":
        asr = "domain-weight=0"
    elif mode == "domain":
        asr = "domain-weight=%g" % weight if weight is not None else ""
    if asr is not None and options:
        asr += ' decoder-options="%s"' % options
    results = {"mode": mode, "calls": []}
    audio_s = 0.0
    stats = []
    t0 = time.monotonic()
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    for name in sorted(os.listdir(calls_dir)):
        if not name.endswith(".wav"):
            continue
        path = os.path.join(calls_dir, name)
        with open(path[:-4] + ".truth.json") as f:
            truth = json.load(f)
        audio_s += truth["duration_ms"] / 1000.0 * 2  # two legs
        finals = []
        vad = {"agent": [], "customer": []}

        def on_message(msg):
            s = msg.get_structure()
            if s is None:
                return
            if s.get_name() == "copilot-transcript" and s.get_value("is-final"):
                finals.append({"speaker": s.get_value("speaker"),
                               "text": s.get_value("text"),
                               "start": s.get_value("start") / 1e6})
            elif s.get_name() == "vadsplit":
                who = "agent" if msg.src.get_name() == "vad_agent" else "customer"
                if s.get_value("event") == "utterance-start":
                    # The start event includes the pre-roll kept before the
                    # onset; the detected onset is after it.
                    pre_roll = msg.src.get_property("pre-roll")
                    vad[who].append([(s.get_value("running-time") + pre_roll) / 1e6, None])
                elif s.get_value("event") == "utterance-end" and vad[who]:
                    vad[who][-1][1] = s.get_value("running-time") / 1e6

        desc = ('filesrc location="%s" ! wavparse ! deinterleave name=d  %s  %s'
                % (path, leg("d.src_0", "agent", asr), leg("d.src_1", "customer", asr)))
        pipe, error = run_pipeline(Gst, desc, on_message)
        if error:
            sys.exit("bench: %s: %s" % (name, error))
        if asr is not None:
            for who in ("agent", "customer"):
                st = pipe.get_by_name("asr_" + who).get_property("stats")
                stats.append({k: st.get_value(k) for k in
                              [st.nth_field_name(i) for i in range(st.n_fields())]})
        results["calls"].append({"id": truth["id"], "truth": truth["turns"],
                                 "finals": finals, "vad": vad})
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    results["wall_s"] = time.monotonic() - t0
    results["cpu_s"] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    results["audio_s"] = audio_s
    results["maxrss_mb"] = c1.ru_maxrss / 1024.0
    results["asr_stats"] = stats
    print(json.dumps(results))


# --------------------------------------------------------------------------
# Parent

def wer(res):
    edits = words = 0
    per_call = {}
    for call in res["calls"]:
        ce = cw = 0
        for who in ("agent", "customer"):
            ref = []
            for t in call["truth"]:
                if t["speaker"] == who:
                    ref += normalise(t["text"])
            hyp = []
            for f in sorted(call["finals"], key=lambda f: f["start"]):
                if f["speaker"] == who:
                    hyp += normalise(f["text"])
            ce += edit_distance(ref, hyp)
            cw += len(ref)
        per_call[call["id"]] = ce / max(cw, 1)
        edits += ce
        words += cw
    return edits / max(words, 1), words, per_call


def vad_accuracy(res, hangover_ms):
    hit = total = 0
    false_alarms = detected = 0
    for call in res["calls"]:
        for who in ("agent", "customer"):
            runs = []
            for t in call["truth"]:
                if t["speaker"] == who:
                    runs += t["speech_ms"]
            truth = merge_runs(runs, hangover_ms)
            det = [u for u in call["vad"][who] if u[1] is not None]
            bounds = [b for u in det for b in u]
            for a, b in truth:
                for x in (a, b):
                    total += 1
                    if any(abs(x - y) <= TOLERANCE_MS for y in bounds):
                        hit += 1
            for a, b in det:
                detected += 1
                if not any(a < tb and b > ta for ta, tb in truth):
                    false_alarms += 1
    return hit / max(total, 1), total, false_alarms, detected


def spawn(mode, calls_dir, weight, options=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, "--calls-dir", calls_dir]
    if options:
        cmd += ["--decoder-options", options]
    if weight is not None:
        cmd += ["--domain-weight", str(weight)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
    return json.loads(out.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=("generic", "domain", "vad"))
    ap.add_argument("--calls-dir")
    ap.add_argument("--domain-weight", type=float)
    ap.add_argument("--decoder-options", help='extra asrsink decoder-options, e.g. "-maxhmmpf 3000"')
    ap.add_argument("--hangover-ms", type=int, default=400,
                    help="vadsplit's hangover, used to merge truth speech runs")
    ap.add_argument("--clean", action="store_true", help="clean 16 kHz speech instead of a phone line")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.calls_dir, args.domain_weight, args.decoder_options)
        return

    with tempfile.TemporaryDirectory() as tmp:
        gen = [sys.executable, os.path.join(TOP, "scripts", "make-calls.py"), "--out", tmp]
        if args.clean:
            gen.append("--clean")
        subprocess.run(gen, check=True, stdout=subprocess.DEVNULL)
        vad = spawn("vad", tmp, None)
        generic = spawn("generic", tmp, None, args.decoder_options)
        domain = spawn("domain", tmp, args.domain_weight, args.decoder_options)

    acc, nb, fa, det = vad_accuracy(vad, args.hangover_ms)
    line = "phone line, 8 kHz" if not args.clean else "clean, 16 kHz"
    print("Copilot recogniser bench: %d generated calls (%s), %.0f s of audio per mode%s"
          % (len(vad["calls"]), line, vad["audio_s"],
             ", decoder-options \"%s\"" % args.decoder_options if args.decoder_options else ""))
    print()
    print("VAD (vadsplit defaults): %.1f %% of %d true boundaries within +/-%d ms; "
          "%d of %d detected utterances are false alarms; CPU %.3f s per audio minute"
          % (100 * acc, nb, TOLERANCE_MS, fa, det,
             vad["cpu_s"] / vad["audio_s"] * 60))
    print()
    print("%-22s %8s %8s %10s %10s %10s" % ("mode", "WER", "words", "RTF(call)", "RTF(speech)", "peakRSS"))
    for res in (generic, domain):
        w, words, per_call = wer(res)
        eng = [s for s in res["asr_stats"] if "decode-cpu-seconds" in s and "audio-seconds" in s]
        rtf_eng = (sum(s["decode-cpu-seconds"] for s in eng) / max(sum(s["audio-seconds"] for s in eng), 1e-9)) if eng else float("nan")
        label = "generic LM" if res["mode"] == "generic" else "generic+domain LM"
        print("%-22s %7.1f%% %8d %10.3f %10.3f %8.0f MB"
              % (label, 100 * w, words, res["cpu_s"] / res["audio_s"], rtf_eng, res["maxrss_mb"]))
        res["wer"] = w
        res["wer_per_call"] = per_call
    print()
    print("WER per call (generic -> domain):")
    for cid in generic["wer_per_call"]:
        print("  %-16s %5.1f%% -> %5.1f%%" % (cid, 100 * generic["wer_per_call"][cid],
                                             100 * domain["wer_per_call"][cid]))
    print()
    print("RTF(call) = whole-process CPU seconds (decoding, VAD, resampling, pipeline) per second of "
          "call audio, both legs counted;\nRTF(speech) = decoder CPU seconds per second of speech "
          "the decoder was given (utterances only), from asrsink's stats.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"vad": vad, "generic": generic, "domain": domain}, f)


if __name__ == "__main__":
    main()
