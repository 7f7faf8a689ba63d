"""copilot-transcribe on a generated two-leg call, as an engineer runs it."""
import json
import os
import subprocess
import sys

import pytest

TOP = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def short_call(tmp_path_factory):
    out = tmp_path_factory.mktemp("calls")
    subprocess.run([sys.executable, os.path.join(TOP, "scripts", "make-calls.py"),
                    "--calls", os.path.join(TOP, "tests", "data", "calls", "short.json"),
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out / "short.wav"


def run(*args):
    return subprocess.run(["copilot-transcribe", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=240)


def test_stereo_call_gives_final_events_per_leg(short_call):
    res = run("--call-id", "demo-1", str(short_call))
    assert res.returncode == 0, res.stderr.decode()
    events = [json.loads(line) for line in res.stdout.decode().splitlines()]
    assert events, "no transcript events"
    for i, e in enumerate(events, 1):
        assert e["type"] == "transcript.final"
        assert e["call_id"] == "demo-1"
        assert e["seq"] == i
        assert e["segment_id"].startswith("demo-1-")
        assert 0.0 <= e["confidence"] <= 1.0
        assert e["end_ms"] >= e["start_ms"] >= 0
        assert e["latency_ms"] >= 0
        assert isinstance(e["ts_ms"], int)
    by_speaker = {}
    for e in events:
        by_speaker.setdefault(e["speaker"], []).append(e["text"])
    assert set(by_speaker) == {"agent", "customer"}
    customer = " ".join(by_speaker["customer"]).lower()
    agent = " ".join(by_speaker["agent"]).lower()
    # The recogniser is imperfect; key words of each leg must be there.
    assert "card" in customer
    assert "help" in agent or "calling" in agent
    # The agent spoke first (left channel), the customer after.
    first = min(events, key=lambda e: e["start_ms"])
    assert first["speaker"] == "agent"


def test_missing_file_is_a_clear_error(tmp_path):
    res = run(str(tmp_path / "nope.wav"))
    assert res.returncode == 1
    assert b"no such file" in res.stderr


def test_not_a_wav_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not audio at all" * 100)
    res = run(str(bad))
    assert res.returncode == 1
    assert b"not a readable WAV file" in res.stderr


def test_bad_option_is_rejected(short_call):
    res = run("--domain-weight", "7", str(short_call))
    assert res.returncode == 2
