"""CopilotSegment through GObject Introspection, as a script author uses it."""
import gi

gi.require_version("Copilot", "1.0")
from gi.repository import Copilot, GLib  # noqa: E402
import pytest  # noqa: E402


def test_round_trip():
    seg = Copilot.Segment.new("c1-customer-0", "customer", "block my card",
                              1_000_000_000, 2_500_000_000, 0.7, True)
    assert seg.get_text() == "block my card"
    assert seg.get_speaker() == "customer"
    assert seg.is_final()
    back = Copilot.Segment.new_from_json_string(seg.to_json_string(), -1)
    assert back.equal(seg)
    assert back.get_end() == 2_500_000_000


def test_bad_json_raises_glib_error():
    with pytest.raises(GLib.Error) as info:
        Copilot.Segment.new_from_json_string('{"segment_id": 5}', -1)
    assert info.value.matches(Copilot.error_quark(), Copilot.Error.INVALID)
