"""The confidence threshold, chosen from the knowledge base itself (leave-one-out), whenever it is (re)loaded.

One fixed number does not fit every KB: confidences depend on how many example questions an article has, how
they are worded and how close the articles are to each other. So each example question is put to the matcher as
if it were a visitor's question, with itself left out of the index (`MatchIndex.rank(holdout=...)`: its postings,
its vectors and its share of the article's words), and the confidence of the best suggestion it would get is
noted. The target is that 95 % of visitors' in-scope questions get a suggestion; visitors word their questions
less neatly than an article's example questions do, so the threshold is the highest value that still gives a
suggestion to 95 + `MARGIN` (3) = 98 % of the held-out examples. (The first version aimed at 95 % of the examples:
on the second test KB it kept only 92 % of real in-scope questions, see docs/triage.md.) Each question
is also put with its whole article left out: the best confidence then is that of a question the KB has no answer
for, and the share of those below the threshold is reported as "unanswerable declined" (the why beside the what).

A large KB is sampled (`SAMPLE` questions, a fixed seed, so a reload with the same articles chooses the same
threshold). The work runs in a `Calibrator` thread; the index lock is taken for one question at a time, so a
visitor's suggestion waits for at most one ranking.
"""
from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

TARGET = 0.95           # share of visitors' in-scope questions that must get a suggestion
MARGIN = 0.03           # held-out example questions are easier than visitors' questions: aim this much higher
SAMPLE = 400            # example questions put to the matcher at most
FLOOR, CEILING = 0.05, 0.60   # never choose a threshold outside these (a KB of one article, a KB of clones)
FIXED = 0.30            # the old fixed threshold, reported for comparison (and the default before calibration)
# Below this many reachable examples even the lowest score does not vouch (90 % confidence) for the 2 % quantile:
# 1 - 0.98 ** n >= 0.9 needs n >= 114. A smaller sample may lower the threshold but never raise it above FIXED.
SMALL_SAMPLE = 114
SEED = 19


@dataclass
class Calibration:
    threshold: float            # what calibration chose
    target: float
    questions: int              # example questions put to the matcher
    kept: float                 # share of them that get a suggestion at `threshold`
    right_first_kept: float     # share whose own article is ranked first and kept
    unanswerable_declined: float    # share declined when their own article is left out
    kept_at_fixed: float        # the same three at the old fixed 0.30
    right_first_kept_at_fixed: float
    unanswerable_declined_at_fixed: float
    meaning: bool               # sentence vectors took part
    articles: int
    seconds: float              # wall time, pauses included
    cpu_seconds: float          # CPU time of the thread that calibrated (what it took from visitors' questions)
    reason: str
    at: float                   # time.time() when it finished

    def to_dict(self) -> dict:
        return asdict(self)


def _pick(scores: list[float], target: float) -> float:
    """The highest threshold at which at least `target` of the scores pass (score >= threshold)."""
    ordered = sorted(scores)
    may_fail = int(len(ordered) * (1 - target) + 1e-9)      # how many may fall below
    return ordered[min(may_fail, len(ordered) - 1)]


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def calibrate(kb, target: float = TARGET, sample: int = SAMPLE, stop: threading.Event | None = None,
              pause: float = 0.0) -> Calibration | None:
    """Leave-one-out scores of the KB's own example questions, and the threshold they call for. None when the KB
    has no example question to learn from, or `stop` was set. `pause`: after each ranking, wait that many times
    as long as it took (the background thread leaves the CPU and the index lock to visitors' questions)."""
    started, started_cpu = time.perf_counter(), time.thread_time()
    index = kb._index
    with kb._lock:
        meaning = index.semantic is not None and index.semantic.ready
        held = [(slug, k) for slug, entry in index.entries.items() if slug not in index.drafts
                for k in range(len(entry.questions) - 1)]       # the last "question" is the title
        articles = len(index.entries) - len(index.drafts)
    if not held:
        return None
    held.sort()
    if len(held) > sample:
        held = random.Random(SEED).sample(held, sample)
    best, right, other = [], [], []
    for slug, k in held:
        if stop is not None and stop.is_set():
            return None
        began = time.perf_counter()
        with kb._lock:      # one question at a time: a visitor's suggestion waits for one ranking at most
            entry = index.entries.get(slug)
            if entry is None or k >= len(entry.questions) - 1:
                continue        # edited meanwhile: the next calibration will see it
            text = entry.questions[k].text
            vector = None
            if meaning:
                rows = index.semantic.rows.get(slug)
                vector = index.semantic.questions.matrix[rows[k]].copy() if rows is not None else None
            found = [c for c in index.rank(text, 4, sentence_vector=vector, holdout=(slug, k)) if c.via != "body"]
        top = found[0].confidence if found else 0.0
        best.append(top)
        right.append(found[0].confidence if found and found[0].slug == slug else None)
        others = [c.confidence for c in found if c.slug != slug]
        # Leaving the whole article out changes nothing for the others' scores: the best of them is the confidence
        # of a question the KB cannot answer.
        other.append(others[0] if others else 0.0)
        if pause and stop is not None and stop.wait(pause * (time.perf_counter() - began)):
            return None
    if not best:
        return None
    # A question no article reaches at all (no shared word, nothing close in meaning) gets no suggestion at any
    # threshold: lowering the threshold cannot keep it, so the target is taken over the reachable ones.
    reachable = [s for s in best if s > 0]
    unreachable = len(best) - len(reachable)
    if not reachable:
        return None
    chosen = _pick(reachable, min(1.0, target + MARGIN))
    small = len(reachable) < SMALL_SAMPLE and chosen > FIXED
    threshold = math.floor(min(FIXED if small else CEILING, max(FLOOR, chosen)) * 1000) / 1000   # down: keep it

    def figures(t: float) -> tuple[float, float, float]:
        return (_share(s >= t for s in best), _share(r is not None and r >= t for r in right),
                _share(o < t for o in other))

    kept, right_kept, declined = figures(threshold)
    kept_f, right_kept_f, declined_f = figures(FIXED)
    aim = min(1.0, target + MARGIN)
    unreached = f"; {unreachable} reach none at any threshold" if unreachable else ""
    if small:
        choice = (f"{threshold:.3f}: {chosen:.3f} would still give {aim:.0%} of those any article reaches a "
                  f"suggestion, but {len(reachable)} examples are too few to raise the threshold above the fixed "
                  f"{FIXED:.2f}; at {threshold:.3f}, {kept:.0%} of them get one{unreached}")
    else:
        clamp = "" if FLOOR <= chosen <= CEILING else f" (clamped to {FLOOR:.2f}-{CEILING:.2f} from {chosen:.3f})"
        choice = (f"{threshold:.3f}{clamp} is the highest threshold that still gives {kept:.0%} of them a suggestion "
                  f"(target: {target:.0%} of visitors' questions, so {aim:.0%} of the examples that any article "
                  f"reaches{unreached})")
    reason = (f"{len(best)} example questions of {articles} articles, each left out and asked as a visitor would "
              f"({'words and sentence meaning' if meaning else 'words only: sentence vectors not in yet'}): "
              f"{choice}; with their own article left out, {declined:.0%} would get none. "
              f"The fixed {FIXED:.2f} would keep {kept_f:.0%} and decline {declined_f:.0%}.")
    return Calibration(threshold, target, len(best), kept, right_kept, declined, kept_f, right_kept_f, declined_f,
                       meaning, articles, round(time.perf_counter() - started, 3),
                       round(time.thread_time() - started_cpu, 3), reason, time.time())


PAUSE = 1.0     # the background thread ranks at most half the time


class Calibrator:
    """Re-calibrates one knowledge base in a background thread after every change (`wake()`), newest wins."""

    def __init__(self, kb, target: float = TARGET, sample: int = SAMPLE):
        self.kb = kb
        self.target = target
        self.sample = sample
        self.result: Calibration | None = None
        self.error: str | None = None
        self.runs = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="triage-calibration", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no calibration is pending or running (tests, benchmarks)."""
        return self._idle.wait(timeout)

    def run_now(self, pause: float = 0.0) -> Calibration | None:
        """Calibrate in the caller's thread (CLI, tests), without pauses unless asked. Not while the sentence vectors
        are still coming (the first pass after start): words alone call for a much lower threshold, which lets
        more off-topic questions through (docs/triage.md); the default holds until the vectors are in, and the
        embedding thread wakes this one then (or when the encoder failed: then words alone it is)."""
        if self.kb.meaning_state() == "pending":
            return None
        result = calibrate(self.kb, self.target, self.sample, self._stop, pause)
        if result is not None:
            self.result = result
            self.runs += 1
        return result

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        # Not niced (unlike the embedding thread): it already leaves half the time to visitors' questions
        # (PAUSE), and at a low priority a busy machine could starve it for minutes.
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                result = self.run_now(PAUSE)
                if result is not None:
                    log.info("triage threshold %.3f: %s", result.threshold, result.reason)
                self.error = None
            except Exception as exc:        # keep the previous threshold; try again on the next change
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("calibration failed")
            if not self._wake.is_set():
                self._idle.set()
