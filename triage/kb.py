"""The knowledge base: a folder of article files, kept loaded and indexed, with suggestions for visitor questions."""
from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .articles import Article, ArticleError, LoadError, parse_article
from .calibration import Calibration, Calibrator
from .embedding import Embedder
from .encoder import DIM, SentenceEncoder
from .index import Candidate, MatchIndex
from .semantic import SemanticIndex

DEFAULT_THRESHOLD = 0.30
# The agents' search shows nothing below this score: a query of nonsense words that only brushes an article's
# body ("zzqx blorp warehouse": 18 %) is no result.
AGENT_SEARCH_MIN_SCORE = 0.30


@dataclass
class Suggestion:
    slug: str
    title: str
    excerpt: str
    score: float
    department: str | None = None
    explanation: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _explain(candidate: Candidate, article: Article) -> dict:
    words = candidate.matched_words
    listed = f" (words: {', '.join(words)})" if words else ""
    if candidate.via == "title":
        reason = f'matches the article title "{article.title}"{listed}'
    elif candidate.via == "meaning":
        reason = f'close in meaning to the example question "{candidate.question}"'
    elif candidate.via == "body":
        reason = f"the article text mentions {', '.join(words)}" if words else "the article text is similar"
    elif candidate.question:
        reason = f'matches the example question "{candidate.question}"{listed}'
    else:
        reason = f"shares words with the article{listed}"
    explanation = {"matched_question": candidate.question or "", "matched_words": words, "reason": reason,
                   "via": candidate.via, "confidence": round(candidate.confidence, 3)}
    if candidate.nearest_question is not None:
        # The sentence encoder took part: say which example question it found closest, and how close.
        explanation["nearest_in_meaning"] = candidate.nearest_question
        explanation["meaning_similarity"] = round(candidate.sentence_similarity, 3)
        if candidate.via != "meaning" and candidate.nearest_question != candidate.question:
            explanation["reason"] += f'; nearest in meaning: "{candidate.nearest_question}"'
    return explanation


class KnowledgeBase:
    """Articles loaded from `folder`, indexed for `suggest` (visitors) and `search` (agents).

    Loading never fails because of one bad file: it is listed in `errors` and the others load. One lock guards
    the index: `suggest` and `search` hold it while ranking, and `refresh`, `upsert_article` and
    `remove_article` hold it while changing one article's postings, so readers never see a half-updated index.

    `encoder` adds sentence meaning: a SentenceEncoder, or a function of the cache folder that loads one (such as
    `SentenceEncoder.load`, called by the embedding thread, so start-up does not wait for it). Its vectors are cached in `cache_dir` (None: in memory only). The
    example questions are embedded by `start_embedding()` in the background or `embed_now()` in the caller's
    thread; until the first pass is done the matcher works as without an encoder. Call `close()` when done.
    """

    def __init__(self, folder: str | Path | None = None, threshold: float | None = None, *,
                 encoder: SentenceEncoder | Callable[..., SentenceEncoder] | None = None,
                 cache_dir: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else None
        # None: the calibrated threshold (DEFAULT_THRESHOLD until the first calibration); a number overrides it.
        self.threshold_override = threshold
        self.calibrator = Calibrator(self)
        self.articles: dict[str, Article] = {}
        self.errors: list[LoadError] = []
        self._lock = threading.RLock()
        semantic = SemanticIndex(DIM) if encoder is not None else None
        self._index = MatchIndex(semantic=semantic)
        self._embedder = Embedder(semantic, self._lock, encoder, cache_dir,
                                  on_change=self.calibrator.wake) if encoder is not None else None
        self._files: dict[str, tuple[float, int]] = {}        # path -> (mtime, size) as last read
        self._file_slug: dict[str, str] = {}                   # path -> slug it provided
        self._file_errors: dict[str, LoadError] = {}           # path -> why it was not loaded

    # ----- loading ----------------------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: str | Path, threshold: float | None = None, **semantic) -> "KnowledgeBase":
        """Load and index the folder's articles (`encoder`, `cache_dir`: see the class)."""
        kb = cls(folder, threshold, **semantic)
        kb.refresh()
        return kb

    @classmethod
    def from_articles(cls, articles, threshold: float | None = None, **semantic) -> "KnowledgeBase":
        """A knowledge base held in memory only (tests, benchmarks, previews)."""
        kb = cls(None, threshold, **semantic)
        with kb._lock:
            articles = list(articles)
            kb._index.add_many(articles)
            kb.articles.update((a.slug, a) for a in articles)
        kb.calibrator.wake()
        return kb

    def _scan(self) -> dict[str, tuple[float, int]]:
        found = {}
        if self.folder is None or not self.folder.is_dir():
            return found
        for entry in os.scandir(self.folder):
            if entry.name.endswith(".md") and not entry.name.startswith(".") and entry.is_file():
                st = entry.stat()
                found[entry.path] = (st.st_mtime, st.st_size)
        return found

    def refresh(self) -> bool:
        """Rescan the folder and re-index only added, changed (mtime+size) and removed files."""
        with self._lock:
            current = self._scan()
            changed = sorted(p for p, sig in current.items() if self._files.get(p) != sig)
            removed = [p for p in self._files if p not in current]
            if not changed and not removed:
                return False
            for path in removed + changed:
                self._files.pop(path, None)
                self._file_errors.pop(path, None)
                slug = self._file_slug.pop(path, None)
                if slug is not None:
                    self._drop(slug)
            batch = []
            for path in changed:
                self._files[path] = current[path]
                batch += self._load_file(path)
            # A file that lost a duplicate-slug contest may now be loadable (the winner was removed or renamed).
            for path, error in list(self._file_errors.items()):
                if error.reason.startswith("duplicate slug") and path not in changed:
                    self._file_errors.pop(path)
                    batch += self._load_file(path)
            self._index.add_many(batch)
            self.errors = sorted(self._file_errors.values(), key=lambda e: e.path)
        self._wake_embedder()
        self.calibrator.wake()
        return True

    def _load_file(self, path: str) -> list[Article]:
        """Parse one file and claim its slug; the caller indexes the returned article."""
        try:
            text = Path(path).read_text(encoding="utf-8")
            article = parse_article(text, path)
        except ArticleError as exc:
            self._file_errors[path] = LoadError(path, exc.reason)
            return []
        except (OSError, UnicodeDecodeError) as exc:
            self._file_errors[path] = LoadError(path, f"cannot read file: {exc}")
            return []
        if article.slug in self.articles:
            other = self.articles[article.slug].path
            self._file_errors[path] = LoadError(path, f"duplicate slug '{article.slug}' (already used by {other})")
            return []
        self._file_slug[path] = article.slug
        self.articles[article.slug] = article
        return [article]

    def _put(self, article: Article) -> None:
        self.articles[article.slug] = article
        self._index.add(article)

    def _drop(self, slug: str) -> bool:
        self._index.remove(slug)
        return self.articles.pop(slug, None) is not None

    def upsert_article(self, article: Article) -> None:
        """Add or replace one article in the index (no rebuild of the others; only its questions are
        re-embedded, in the background)."""
        with self._lock:
            self._put(article)
        self._wake_embedder()
        self.calibrator.wake()

    def remove_article(self, slug: str) -> bool:
        with self._lock:
            dropped = self._drop(slug)
        self.calibrator.wake()
        return dropped

    def get(self, slug: str) -> Article | None:
        return self.articles.get(slug)

    def __len__(self) -> int:
        return len(self.articles)

    def with_draft(self, draft: Article, replaces: str | None = None) -> "KnowledgeBase":
        """A scratch copy in memory with `draft` in place of the article `replaces` (or added): what the bot would
        suggest if the draft were saved. It uses this knowledge base's loaded encoder and vector cache (only the
        draft's new texts go through the model) and matches by meaning only if this one already does. The
        caller closes it. Costs a rebuild of the index: meant for an admin's "try it", not for visitors."""
        with self._lock:
            articles = [a for slug, a in self.articles.items() if slug not in (replaces, draft.slug)]
            embedder = self._embedder
            encoder = embedder.encoder if self.meaning_state() == "ready" else None
        semantic = {"encoder": encoder, "cache_dir": embedder.cache_dir} if encoder is not None else {}
        scratch = KnowledgeBase.from_articles(articles + [draft], self.threshold, **semantic)
        scratch.embed_now()
        return scratch

    # ----- the threshold ----------------------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """The confidence a suggestion needs: the override if set, else the calibrated one (calibration.py)."""
        if self.threshold_override is not None:
            return self.threshold_override
        result = self.calibrator.result
        return result.threshold if result is not None else DEFAULT_THRESHOLD

    @threshold.setter
    def threshold(self, value: float | None) -> None:
        self.threshold_override = value

    def start_calibration(self) -> None:
        """Choose the threshold in a background thread now and after every change (load, edit, new vectors)."""
        self.calibrator.start()

    def calibrate_now(self) -> Calibration | None:
        """Choose the threshold in this thread (CLI, tests)."""
        return self.calibrator.run_now()

    def threshold_status(self) -> dict:
        """The threshold in force, where it comes from, and the last calibration's figures and reasons."""
        result = self.calibrator.result
        source = "override" if self.threshold_override is not None else "calibrated" if result else "default"
        return {"threshold": self.threshold, "source": source, "override": self.threshold_override,
                "calibration": result.to_dict() if result else None, "calibration_error": self.calibrator.error}

    # ----- sentence meaning -------------------------------------------------------------------------------
    def start_embedding(self) -> None:
        """Embed the example questions in a background thread, now and after every change (no-op without an
        encoder)."""
        if self._embedder is not None:
            self._embedder.start()

    def embed_now(self) -> int:
        """Embed every pending example question in this thread (CLI, tests); returns the articles embedded."""
        return self._embedder.embed_pending() if self._embedder is not None else 0

    def wait_embedded(self, timeout: float | None = None) -> bool:
        """Wait for the background thread's first full pass; False if there is no encoder, it failed or timed out."""
        return self._embedder is not None and self._embedder.wait_ready(timeout)

    def meaning_state(self) -> str:
        """"off" (no encoder), "pending" (words alone until the first pass is done), "ready", or "failed" (the
        encoder could not load: words alone). Reads two flags without the index lock, so it is cheap anywhere."""
        embedder = self._embedder
        if embedder is None:
            return "off"
        if embedder.error:
            return "failed"
        return "ready" if self._index.semantic.ready else "pending"

    def embedding_status(self) -> dict:
        """Whether sentence meaning is in use, how many articles still wait for it, and where vectors came from."""
        if self._embedder is None:
            return {"encoder": None, "ready": False, "pending": 0}
        embedder = self._embedder
        with self._lock:
            pending = len(self._index.semantic.pending)
            ready = self._index.semantic.ready
        return {"encoder": embedder.encoder.model_id if embedder.encoder else None, "ready": ready,
                "pending": pending, "error": embedder.error, "ready_seconds": embedder.ready_seconds,
                **embedder.counts}

    def sentence_vectors(self, texts: list[str]):
        """Sentence vectors (numpy, one unit row per text) of any texts, such as visitors' unanswered questions to
        group by meaning (triage.grouping); None while sentence meaning is not in use."""
        return self._embedder.vectors_for(texts) if self._embedder is not None else None

    def close(self) -> None:
        """Stop the embedding thread and release the encoder and its cache."""
        self.calibrator.close()
        if self._embedder is not None:
            self._embedder.close()

    def _wake_embedder(self) -> None:
        if self._embedder is not None:
            self._embedder.wake()

    def _query_vector(self, text: str):
        # Outside the index lock: the encoder pass is the slowest step and needs no index state.
        return self._embedder.embed_query(text) if self._embedder is not None else None

    # ----- matching ---------------------------------------------------------------------------------------
    def _suggestions(self, candidates: list[Candidate]) -> list[Suggestion]:
        out = []
        for c in candidates:
            article = self.articles[c.slug]
            out.append(Suggestion(article.slug, article.title, article.excerpt, round(c.score, 3),
                                  article.department, _explain(c, article)))
        return out

    def suggest(self, text: str, limit: int = 3, threshold: float | None = None) -> list[Suggestion]:
        """Published articles that answer the visitor's question, best first; [] when none is confident."""
        threshold = self.threshold if threshold is None else threshold
        vector = self._query_vector(text)
        with self._lock:
            found = self._index.rank(text, limit, sentence_vector=vector)
            found = [c for c in found if c.confidence >= threshold and c.via != "body"]
            return self._suggestions(found)

    def search(self, text: str, limit: int = 10, include_drafts: bool = False,
               min_score: float = 0.0) -> list[Suggestion]:
        """The same ranking for agents and admins, without the bot's threshold and with full weight on the body;
        results scoring `min_score` or less are left out (the agents' search: AGENT_SEARCH_MIN_SCORE)."""
        vector = self._query_vector(text)
        with self._lock:
            found = self._index.rank(text, limit, include_body=True, include_drafts=include_drafts,
                                     sentence_vector=vector)
            return self._suggestions([c for c in found if c.score > max(min_score, 0)])

