#!/usr/bin/env python3
"""Render the test calls of tests/data/calls/calls.json to stereo WAV files.

Each turn is spoken by Debian's flite (agent = left channel, customer =
right), placed on a timeline with pauses, and the mix is optionally put
through a telephone line (8 kHz, 300-3400 Hz band, line noise). Next to each
WAV a .truth.json file records every turn's text and where its speech
really is (from the clean signal's energy envelope), which the bench uses as
ground truth for word error rate and voice activity boundaries.

Only the standard library, flite and sox are needed.
"""
import argparse
import array
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave

RATE = 16000
FRAME = RATE // 100  # 10 ms


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        sys.exit("make-calls: %s failed: %s" % (cmd[0], res.stderr.decode(errors="replace")))


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != RATE:
            sys.exit("make-calls: unexpected format in %s" % path)
        data = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder != "little":
        data.byteswap()
    return data


def speech_extent(samples):
    """Speech runs of a clean utterance: 10 ms frames whose RMS is within
    30 dB of the loudest, with gaps under 100 ms bridged. Returns the first
    sample, the last sample and the list of runs (sample offsets)."""
    rms = []
    for i in range(0, len(samples) - FRAME + 1, FRAME):
        acc = 0
        for s in samples[i:i + FRAME]:
            acc += s * s
        rms.append(math.sqrt(acc / FRAME))
    if not rms:
        return 0, 0, []
    thr = max(rms) / 31.6
    voiced = [i for i, r in enumerate(rms) if r > thr]
    runs = []
    for i in voiced:
        if runs and i - runs[-1][1] <= 10:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    runs = [(a * FRAME, b * FRAME) for a, b in runs]
    return voiced[0] * FRAME, (voiced[-1] + 1) * FRAME, runs


def render(call, outdir, line, rate, seed, tmp):
    rnd = random.Random(seed + sum(map(ord, call["id"])))
    voices = {"agent": call.get("agent_voice", "slt"),
              "customer": call.get("customer_voice", "rms")}
    placed = []
    t = RATE  # one second of lead-in
    for i, (speaker, text) in enumerate(call["turns"]):
        wav = os.path.join(tmp, "%s-%d.wav" % (call["id"], i))
        run(["flite", "-voice", voices[speaker], "-t", text, "-o", wav])
        samples = read_wav(wav)
        s0, s1, runs = speech_extent(samples)
        placed.append((speaker, text, t, samples, s0, s1, runs))
        t += len(samples) + int(rnd.uniform(0.6, 1.3) * RATE)
    total = t + RATE
    left = array.array("h", bytes(2 * total))
    right = array.array("h", bytes(2 * total))
    truth = []
    for speaker, text, start, samples, s0, s1, runs in placed:
        dst = left if speaker == "agent" else right
        dst[start:start + len(samples)] = samples
        ms = lambda n: round((start + n) * 1000 / RATE)
        truth.append({"speaker": speaker, "text": text,
                      "start_ms": ms(s0), "end_ms": ms(s1),
                      "speech_ms": [[ms(a), ms(b)] for a, b in runs]})
    inter = array.array("h", bytes(4 * total))
    inter[0::2] = left
    inter[1::2] = right
    if sys.byteorder != "little":
        inter.byteswap()
    clean = os.path.join(tmp, call["id"] + "-clean.wav")
    with wave.open(clean, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(inter.tobytes())
    out = os.path.join(outdir, call["id"] + ".wav")
    if line:
        band = os.path.join(tmp, call["id"] + "-band.wav")
        noise = os.path.join(tmp, call["id"] + "-noise.wav")
        run(["sox", clean, "-r", str(rate), band, "sinc", "300-3400"])
        # About -45 dBFS of line noise on each leg.
        run(["sox", "-R", "-n", "-r", str(rate), "-c", "2", "-b", "16", noise,
             "synth", "%.3f" % (total / RATE), "whitenoise", "vol", "0.0056"])
        run(["sox", "-m", "-v", "1", band, "-v", "1", noise, "-b", "16", out])
    elif rate != RATE:
        run(["sox", clean, "-r", str(rate), out])
    else:
        shutil.copyfile(clean, out)
    with open(os.path.join(outdir, call["id"] + ".truth.json"), "w") as f:
        json.dump({"id": call["id"], "rate": rate, "line": line,
                   "duration_ms": round(total * 1000 / RATE),
                   "turns": truth}, f, indent=1)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", default=os.path.join(here, "..", "tests", "data", "calls", "calls.json"))
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--only", action="append", help="render only this call id (repeatable)")
    ap.add_argument("--rate", type=int, default=8000, choices=(8000, 16000))
    ap.add_argument("--clean", action="store_true", help="no telephone line: clean 16 kHz speech")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    for tool in ("flite", "sox"):
        if shutil.which(tool) is None:
            sys.exit("make-calls: %s is not installed (apt-get install %s)" % (tool, tool))
    with open(args.calls) as f:
        calls = json.load(f)["calls"]
    if args.only:
        calls = [c for c in calls if c["id"] in args.only]
        if not calls:
            sys.exit("make-calls: no call matches %s" % args.only)
    os.makedirs(args.out, exist_ok=True)
    rate = RATE if args.clean else args.rate
    with tempfile.TemporaryDirectory() as tmp:
        for call in calls:
            print(render(call, args.out, not args.clean, rate, args.seed, tmp))


if __name__ == "__main__":
    main()
