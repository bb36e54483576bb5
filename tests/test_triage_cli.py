"""`python -m triage` end to end, as a subprocess: suggest, and eval on the shared dev set when it is present."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / ".." / "shared" / "data" / "triage-dev"


def run(*args):
    return subprocess.run([sys.executable, "-m", "triage", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True).stdout


def test_suggest_prints_ranked_explained_suggestions():
    out = run("suggest", "--kb", "kb_articles", "I did not receive my order")
    first = out.splitlines()[0]
    assert first.startswith("1. Track your order  [track-order]")
    assert 'matches the example question "' in out


def test_suggest_json_and_no_match():
    found = json.loads(run("suggest", "--kb", "kb_articles", "--json", "how can I track my parcel"))
    assert found[0]["slug"] == "track-order" and found[0]["explanation"]["matched_question"]
    # The sentence encoder took part and names the example question it found closest.
    assert found[0]["explanation"]["nearest_in_meaning"]
    assert "no confident suggestion" in run("suggest", "--kb", "kb_articles", "write me a poem")


def test_suggest_without_the_encoder():
    found = json.loads(run("suggest", "--kb", "kb_articles", "--json", "--no-encoder", "where is my parcel"))
    assert found[0]["slug"] == "track-order"
    assert all("nearest_in_meaning" not in s["explanation"] for s in found)


def test_eval_on_sample_kb(tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "how can I track my parcel", "expected": "track-order"}\n'
                       '{"query": "I forgot my password", "expected": "reset-password"}\n')
    result = json.loads(run("eval", "--kb", "kb_articles", "--queries", str(queries)).splitlines()[-1])
    assert result["n"] == 2 and result["top1"] == 1.0 and result["top3"] == 1.0


@pytest.mark.skipif(not (DEV / "queries_dev.jsonl").is_file(), reason="shared dev set not present")
def test_eval_on_dev_set():
    out = run("eval", "--kb", str(DEV / "kb"), "--queries", str(DEV / "queries_dev.jsonl"))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["n"] == 770
    assert {"top1", "top3", "p50_ms", "p99_ms"} <= set(result)
    assert 0 <= result["top1"] <= result["top3"] <= 1
    assert result["top3"] > 0.5      # a loose sanity floor; the quality bar is a benchmark figure
