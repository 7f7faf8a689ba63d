"""The whole per-speaker chain on an Exotel capture, driven from Python:
exotelsrc (location=, fast) -> vadsplit -> asrsink, for PCM and mu-law
captures of a generated call leg, as the daemon will record them."""
import array
import base64
import json
import os
import subprocess
import sys
import wave

import gi
import pytest

gi.require_version("Gst", "1.0")
gi.require_version("Copilot", "1.0")
from gi.repository import Copilot, Gst  # noqa: E402

TOP = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
Gst.init(None)


def right_channel(frames):
    samples = array.array("h", frames)
    return samples[1::2].tobytes()


def ulaw_encode(pcm):
    """G.711 mu-law of little-endian S16 samples."""
    out = bytearray()
    for x in array.array("h", pcm):
        sign = 0x80 if x < 0 else 0
        x = min(abs(x), 32635) + 0x84
        exponent = max(x.bit_length() - 8, 0)
        mantissa = (x >> (exponent + 3)) & 0x0F
        out.append(~(sign | (exponent << 4) | mantissa) & 0xFF)
    return bytes(out)


@pytest.fixture(scope="module")
def customer_leg(tmp_path_factory):
    out = tmp_path_factory.mktemp("calls")
    subprocess.run([sys.executable, os.path.join(TOP, "scripts", "make-calls.py"),
                    "--calls", os.path.join(TOP, "tests", "data", "calls", "short.json"),
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    with wave.open(str(out / "short.wav"), "rb") as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 2
        frames = w.readframes(w.getnframes())
    return right_channel(frames), out  # right channel = customer


def write_capture(path, pcm, encoding):
    """20 ms media frames, numbers as strings, as Exotel sends them."""
    step = 320  # bytes of S16 at 8 kHz in 20 ms
    with open(path, "w") as f:
        f.write(json.dumps({"event": "connected"}) + "\n")
        f.write(json.dumps({"event": "start", "sequence_number": "1", "stream_sid": "s1",
                            "start": {"stream_sid": "s1", "call_sid": "c1", "account_sid": "a1",
                                      "from": "+919800000001", "to": "+918000000002",
                                      "custom_parameters": {"leg": "customer"},
                                      "media_format": {"encoding": encoding,
                                                       "sample_rate": "8000"}}}) + "\n")
        for i, off in enumerate(range(0, len(pcm) - step + 1, step)):
            chunk = pcm[off:off + step]
            if encoding == "audio/x-mulaw":
                chunk = ulaw_encode(chunk)
            f.write(json.dumps({"event": "media", "sequence_number": str(i + 2), "stream_sid": "s1",
                                "media": {"chunk": str(i + 1), "timestamp": str(i * 20),
                                          "payload": base64.b64encode(chunk).decode()}}) + "\n")
        f.write(json.dumps({"event": "stop", "stream_sid": "s1",
                            "stop": {"call_sid": "c1", "account_sid": "a1",
                                     "reason": "callended"}}) + "\n")


@pytest.mark.parametrize("encoding,decoder", [("base64", ""), ("audio/x-mulaw", "mulawdec ! ")])
def test_capture_through_the_chain(customer_leg, tmp_path, encoding, decoder):
    pcm, _ = customer_leg
    capture = tmp_path / "leg.ndjson"
    write_capture(capture, pcm, encoding)
    pipe = Gst.parse_launch(
        'exotelsrc name=src location="%s" pace=fast ! %saudioconvert ! audioresample ! '
        "vadsplit name=vad ! asrsink name=asr speaker=customer segment-prefix=c1-" % (capture, decoder))
    finals, starts, metadata = [], [], []
    asr = pipe.get_by_name("asr")
    asr.connect("final", lambda sink, seg: finals.append(seg))
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    while True:
        msg = bus.timed_pop_filtered(120 * Gst.SECOND, Gst.MessageType.ELEMENT
                                     | Gst.MessageType.EOS | Gst.MessageType.ERROR)
        assert msg is not None, "timed out"
        if msg.type == Gst.MessageType.ERROR:
            pytest.fail("pipeline error: %s" % msg.parse_error()[0].message)
        if msg.type == Gst.MessageType.EOS:
            break
        s = msg.get_structure()
        if s.get_name() == "exotel-start":
            metadata.append(s)
        elif s.get_name() == "vadsplit" and s.get_value("event") == "utterance-start":
            starts.append(s.get_value("running-time"))
    stats = pipe.get_by_name("src").get_property("stats")
    pipe.set_state(Gst.State.NULL)

    assert len(metadata) == 1
    assert metadata[0].get_value("call-sid") == "c1"
    assert metadata[0].get_value("from") == "+919800000001"
    assert stats.get_value("frames-invalid") == 0
    assert len(starts) >= 1
    assert len(finals) >= 1
    seg = finals[0]
    assert isinstance(seg, Copilot.Segment)
    assert seg.get_id() == "c1-customer-0"
    assert seg.get_speaker() == "customer"
    text = " ".join(f.get_text() for f in finals)
    assert "card" in text, text
    # The customer speaks after the agent's turn (about 4 s into the call).
    assert seg.get_start() > 2 * Gst.SECOND
