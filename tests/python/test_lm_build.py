"""copilot-lm-build: the ARPA model it writes is well formed."""
import math
import subprocess

DICT = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"


def build(tmp_path, text):
    src = tmp_path / "in.txt"
    src.write_text(text)
    out = tmp_path / "out.lm"
    res = subprocess.run(["copilot-lm-build", "--dict", DICT, "--output", str(out), str(src)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    return out.read_text()


def sections(arpa):
    grams, cur = {}, None
    for line in arpa.splitlines():
        if line.startswith("\\") and line.endswith("-grams:"):
            cur = int(line[1])
            grams[cur] = {}
        elif cur and line.strip() and not line.startswith("\\"):
            fields = line.split()
            grams[cur][" ".join(fields[1:cur + 1])] = float(fields[0])
    return grams


def test_saturated_history_has_finite_weights(tmp_path):
    # "a" is followed by every word of the vocabulary: its backoff weight is 0.
    arpa = build(tmp_path, "a a\na\n")
    assert "inf" not in arpa and "nan" not in arpa
    assert "-99.0000" in arpa


def test_unigrams_sum_to_one_and_oov_is_dropped(tmp_path):
    arpa = build(tmp_path, "Please block my card.\nMy card was stolen, block it!\n"
                           "I want a new card xqzzyword please\n")
    grams = sections(arpa)
    total = sum(10 ** p for w, p in grams[1].items() if w != "<s>")
    assert math.isclose(total, 1.0, abs_tol=2e-3), total
    assert "xqzzyword" not in arpa
    assert "block" in grams[1] and "card" in grams[1]
    assert "my card" in grams[2]
