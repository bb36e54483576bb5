"""The matching index: a word-level inverted index for the shortlist, then a fused rerank of the few candidates.

Stage 1 (shortlist): BM25 over one "question document" per article (title + tags + all example questions) and,
with a low weight, over the article body. Only the posting lists of the query's terms are visited.
Stage 2 (rerank): for each shortlisted article, features from the best-matching example question (IDF-weighted
term overlap both ways, rapidfuzz token_set_ratio / ratio on the content words) are fused with the article-level
BM25 and IDF coverage into one score in 0..1, which is then blended with the closest example question in meaning
(cosine of static word-vector means, see vectors.py). Once a sentence encoder has embedded the example questions
(semantic.py, embedding.py), the articles nearest in sentence meaning join the shortlist and the sentence cosine
takes a share of the score and of the confidence. The fusion weights are few, global and documented in
docs/triage.md.

The index is updated in place, article by article (`add` / `remove`); the caller serialises mutation and reads
with one lock (see KnowledgeBase).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from . import text as tx
from .articles import Article
from .semantic import SemanticIndex
from .vectors import WordVectors, shared

K1 = 1.2
B = 0.75
SHORTLIST = 40
TITLE_REPEAT = 1
BODY_WEIGHT = 0.15          # body words only nudge the shortlist; example questions decide
BODY_SEARCH_WEIGHT = 0.3   # search (agents) also ranks on the article text
CONTENT_FLOOR = 0.3         # confidence multiplier when none of the query's content words is matched
TYPO_MIN_LEN = 4            # words shorter than this are never "corrected"
TYPO_CUTOFF = 80            # rapidfuzz ratio needed to treat an unknown word as a known one

# Fusion weights (sum to 1): article-level evidence and best-question evidence.
W_ART_BM25 = 0.50
W_ART_COVER = 0.10
W_Q_OVERLAP = 0.25
W_Q_FUZZ = 0.15
# Share of the final score given to meaning: the best cosine between the query and one example question (or the
# title), from static word vectors. The lexical score above keeps the rest.
W_MEANING = 0.30
# With sentence vectors: articles added to the shortlist by sentence meaning alone, the share of the final score
# given to the best sentence cosine, and the cosines read as "no" / "full" evidence for the confidence.
SEMANTIC_SHORTLIST = 10
W_SENTENCE = 0.60
SENTENCE_NO_EVIDENCE = 0.35
SENTENCE_FULL_EVIDENCE = 0.75


@dataclass(slots=True)
class _Question:
    text: str
    compact: str
    terms: frozenset


@dataclass(slots=True)
class _Entry:
    article: Article
    questions: list
    doc_terms: Counter
    body_terms: Counter
    doc_len: int
    body_len: int
    vectors: object = None      # numpy array, one unit row per entry of `questions` (set after the entry is built)


@dataclass(slots=True)
class Candidate:
    slug: str
    score: float        # ranking score
    confidence: float   # the score discounted by how much of the query's content the article covers
    question: str | None
    matched_terms: list
    matched_words: list
    via: str            # "question", "title", "meaning" (no shared word, close in meaning) or "body"
    nearest_question: str | None = None     # the example question closest in sentence meaning (encoder in use)
    sentence_similarity: float = 0.0        # its cosine with the query


class MatchIndex:
    def __init__(self, vectors: WordVectors | None = None, semantic: SemanticIndex | None = None):
        self.vectors = vectors if vectors is not None else shared()
        self.semantic = semantic        # sentence vectors, when the knowledge base has an encoder
        self.entries: dict[str, _Entry] = {}
        self.postings: dict[str, dict[str, int]] = {}
        self.body_postings: dict[str, dict[str, int]] = {}
        self.total_len = 0
        self.total_body_len = 0
        self.avgdl: float | None = None       # reference lengths for BM25, fixed by the first batch indexed
        self.avg_body: float | None = None
        self.drafts: set[str] = set()       # unpublished slugs, left out of the shortlist unless asked for
        self.vocab: Counter = Counter()     # content word -> number of articles using it
        self._vocab_list: list[str] | None = None
        # Stage 1 of a query adds up postings with numpy: every article has a slot (kept if it is removed), and
        # each (kind, term) its postings as arrays, built on first use and dropped when that term's postings change.
        self._slot: dict[str, int] = {}
        self._slugs: list[str] = []
        self._arrays: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}

    # ----- building ---------------------------------------------------------------------------------------
    def add_many(self, articles) -> None:
        """Index a batch; the first batch also fixes the reference document lengths used by BM25."""
        articles = list(articles)
        if self.avgdl is None and articles:
            # Whitespace words less the usual share of stopwords: close enough for a reference length.
            lengths = [0.6 * len(" ".join(a.questions + [a.title] + a.tags).split()) for a in articles]
            self.avgdl = max(1.0, sum(lengths) / len(lengths))
            bodies = [len(a.plain.split()) for a in articles]
            self.avg_body = max(1.0, 0.6 * sum(bodies) / len(bodies))
        entries = [self.add(article, embed=False) for article in articles]
        # One numpy pass for the whole batch: per-article calls would cost more than the arithmetic.
        matrix = self.vectors.embed_many([q.compact.split() for e in entries for q in e.questions])
        row = 0
        for entry in entries:
            entry.vectors = matrix[row: row + len(entry.questions)]
            row += len(entry.questions)

    @staticmethod
    def _tf_weight(tf: int, dl: int, avgdl: float) -> float:
        # The BM25 term-frequency part is precomputed per posting, so a query only multiplies by the IDF.
        return tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / avgdl))

    def add(self, article: Article, embed: bool = True) -> _Entry:
        if article.slug in self.entries:
            self.remove(article.slug)
        questions = []
        doc_words: list[str] = []
        for q in article.questions:
            ws = tx.words(q)
            doc_words.extend(ws)
            questions.append(_Question(q, " ".join(ws), frozenset(tx.term(w) for w in ws)))
        title_words = tx.words(article.title)
        # The title is also a phrasing of the question ("Track your order"), and tags are short phrasings too.
        questions.append(_Question(article.title, " ".join(title_words), frozenset(tx.term(w) for w in title_words)))
        tag_words = [w for tag in article.tags for w in tx.words(tag)]
        doc_words += title_words * TITLE_REPEAT + tag_words
        body_words = tx.words(article.plain)
        doc_terms = Counter(tx.term(w) for w in doc_words)
        body_terms = Counter(tx.term(w) for w in body_words)
        entry = _Entry(article, questions, doc_terms, body_terms, sum(doc_terms.values()), sum(body_terms.values()))
        if embed:
            entry.vectors = self.vectors.embed_many([q.compact.split() for q in questions])
        self.entries[article.slug] = entry
        if self.semantic is not None:
            self.semantic.mark(article.slug, [q.text for q in questions])
        if not article.published:
            self.drafts.add(article.slug)
        if self.avgdl is None:
            self.avgdl = float(max(1, entry.doc_len))
            self.avg_body = float(max(1, entry.body_len))
        if article.slug not in self._slot:
            self._slot[article.slug] = len(self._slugs)
            self._slugs.append(article.slug)
        for t, n in doc_terms.items():
            self.postings.setdefault(t, {})[article.slug] = self._tf_weight(n, entry.doc_len, self.avgdl)
            self._arrays.pop((0, t), None)
        for t, n in body_terms.items():
            self.body_postings.setdefault(t, {})[article.slug] = self._tf_weight(n, entry.body_len, self.avg_body)
            self._arrays.pop((1, t), None)
        self.total_len += entry.doc_len
        self.total_body_len += entry.body_len
        for w in set(doc_words) | set(body_words):
            if w not in self.vocab:
                self._vocab_list = None
            self.vocab[w] += 1
        return entry

    def remove(self, slug: str) -> bool:
        entry = self.entries.pop(slug, None)
        if entry is None:
            return False
        self.drafts.discard(slug)
        if self.semantic is not None:
            self.semantic.drop(slug)
        for t in entry.doc_terms:
            self._arrays.pop((0, t), None)
            plist = self.postings.get(t)
            if plist is not None:
                plist.pop(slug, None)
                if not plist:
                    del self.postings[t]
        for t in entry.body_terms:
            self._arrays.pop((1, t), None)
            plist = self.body_postings.get(t)
            if plist is not None:
                plist.pop(slug, None)
                if not plist:
                    del self.body_postings[t]
        self.total_len -= entry.doc_len
        self.total_body_len -= entry.body_len
        used = {w for q in entry.questions for w in q.compact.split()}
        used |= set(tx.words(entry.article.plain)) | {w for tag in entry.article.tags for w in tx.words(tag)}
        for w in used:
            self.vocab[w] -= 1
            if self.vocab[w] <= 0:
                del self.vocab[w]
                self._vocab_list = None
        return True

    # ----- querying ---------------------------------------------------------------------------------------
    def _idf(self, t: str) -> float:
        n = len(self.entries)
        df = len(self.postings.get(t, ())) or len(self.body_postings.get(t, ()))
        # A word no article uses gets the weight of a rare word, not infinite surprise: one unknown extra word
        # ("... for my jacket") must not sink an otherwise good match.
        return math.log(1 + (n - max(df, 1) + 0.5) / (max(df, 1) + 0.5))

    def query_words(self, text: str) -> list[str]:
        """Content words of the query, with unknown words replaced by a close known word (typo tolerance)."""
        out = []
        for w in tx.words(text):
            t = tx.term(w)
            if t in self.postings or t in self.body_postings or len(w) < TYPO_MIN_LEN or not w.isalpha():
                out.append(w)
                continue
            if self._vocab_list is None:
                self._vocab_list = list(self.vocab)
            # Typos rarely hit the first letter; requiring it keeps "sing" from becoming "using".
            best = process.extractOne(w, self._vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF,
                                      processor=None) if self._vocab_list else None
            out.append(best[0] if best and best[0][0] == w[0] else w)
        return out

    def _postings_arrays(self, kind: int, t: str):
        arrays = self._arrays.get((kind, t))
        if arrays is None:
            plist = (self.postings if kind == 0 else self.body_postings).get(t)
            if not plist:
                return None
            slot = self._slot
            arrays = self._arrays[(kind, t)] = (
                np.fromiter((slot[s] for s in plist), dtype=np.int64, count=len(plist)),
                np.fromiter(plist.values(), dtype=np.float64, count=len(plist)))
        return arrays

    def _bm25(self, q_terms: Counter, idf: dict, body_weight: float) -> tuple[np.ndarray, np.ndarray]:
        """Per slot: the summed BM25 score, and the order in which articles were first reached (the question
        postings of each query term in turn, then the body's), which breaks ties as the order of discovery."""
        acc = np.zeros(len(self._slugs))
        first_seen = np.full(len(self._slugs), len(self._slugs), dtype=np.int64)
        seen = 0
        for kind, weight in ((0, 1.0), (1, body_weight)):
            for t, qc in q_terms.items():
                arrays = self._postings_arrays(kind, t)
                if arrays is None:
                    continue
                idx, tfw = arrays
                acc[idx] += (idf[t] * qc * weight) * tfw
                fresh = idx[first_seen[idx] == len(self._slugs)]
                first_seen[fresh] = np.arange(seen, seen + fresh.size)
                seen += fresh.size
        return acc, first_seen

    def _best(self, acc: np.ndarray, first_seen: np.ndarray, scored: np.ndarray, k: int) -> list[str]:
        """The k highest-scoring slugs, ties in order of discovery."""
        if scored.size > k:
            kth = np.partition(acc[scored], scored.size - k)[scored.size - k]
            scored = scored[acc[scored] >= kth]
        order = np.lexsort((first_seen[scored], -acc[scored]))
        return [self._slugs[i] for i in scored[order][:k]]

    def _held_out_bm25(self, entry: _Entry, k: int, q_terms: Counter, idf: dict) -> tuple[float, Counter]:
        """The article's question-document BM25 for the query, and its document terms, as if its k-th example
        question were not there (leave-one-out calibration)."""
        left_out = Counter(tx.term(w) for w in entry.questions[k].compact.split())
        terms = entry.doc_terms - left_out
        dl = max(1, entry.doc_len - sum(left_out.values()))
        score = sum(idf[t] * qc * self._tf_weight(terms[t], dl, self.avgdl) for t, qc in q_terms.items() if terms[t])
        return score, terms

    def rank(self, text: str, limit: int, *, include_body: bool = False, include_drafts: bool = False,
             sentence_vector=None, holdout: tuple[str, int] | None = None) -> list[Candidate]:
        """Rank published articles (and drafts when asked) for the text, best first. `sentence_vector` is the
        query's sentence-encoder vector (None: lexical and word-vector evidence only). `holdout` (slug, k) ranks
        as if that article's k-th example question were not in the index (its postings, its vectors, its share
        of the article's terms): what calibration asks of each example question."""
        n = len(self.entries)
        if not n:
            return []
        q_words = self.query_words(text)
        if not q_words:
            return []
        q_terms = Counter(tx.term(w) for w in q_words)
        term_word = {}
        for w in q_words:
            term_word.setdefault(tx.term(w), w)
        idf = {t: self._idf(t) for t in q_terms}
        idf_total = sum(idf[t] * c for t, c in q_terms.items()) or 1.0
        q_idf = dict(idf)       # `idf` grows into a per-query cache of question terms below

        # Stage 1: BM25 over the question documents (and the body, weakly), visiting only the query's postings.
        acc, first_seen = self._bm25(q_terms, idf, 1.0 if include_body else BODY_WEIGHT)
        slot = self._slot
        held_slug, held_k, held_terms = None, -1, None
        if holdout is not None and holdout[0] in self.entries:
            held_slug, held_k = holdout
            held_entry = self.entries[held_slug]
            old = sum(q_idf[t] * qc * self.postings[t][held_slug] for t, qc in q_terms.items()
                      if held_slug in self.postings.get(t, ()))
            new, held_terms = self._held_out_bm25(held_entry, held_k, q_terms, q_idf)
            acc[slot[held_slug]] += new - old
        scored = np.flatnonzero(acc)
        semantic = self.semantic if sentence_vector is not None and self.semantic is not None \
            and self.semantic.ready else None
        if not scored.size and semantic is None:
            return []
        bm25_max = idf_total * (K1 + 1)
        if include_drafts or not self.drafts:
            shortlist = self._best(acc, first_seen, scored, SHORTLIST)
        else:
            # Take a few more than needed and drop drafts, rather than testing every scored article.
            wider = self._best(acc, first_seen, scored, SHORTLIST + min(len(self.drafts), 1000))
            shortlist = [s for s in wider if s not in self.drafts][:SHORTLIST]
        if semantic is not None:
            # A paraphrase may share no word with the article that answers it.
            skip = set(shortlist) if include_drafts else set(shortlist) | self.drafts
            shortlist += semantic.nearest_articles(sentence_vector, SEMANTIC_SHORTLIST, skip)

        # Stage 2: rerank the shortlist with per-question evidence.
        q_compact = " ".join(q_words)
        # Question words, negations and numbers help rank but are not evidence on their own: "what time is it
        # in Tokyo" shares "what" with many articles and nothing else.
        content = [t for t in q_terms if t not in tx.WEAK_TERMS and t.isalpha()]
        content_total = sum(idf[t] for t in content)
        q_set = set(q_terms)
        q_side_total = sum(q_idf.values())
        q_vector = self.vectors.embed(q_words)
        out = []
        for slug in shortlist:
            entry = self.entries[slug]
            art_bm25 = min(1.0, float(acc[slot[slug]]) / bm25_max * 1.6)
            held = slug == held_slug
            art_terms = held_terms if held else entry.doc_terms
            cover = sum(idf[t] * c for t, c in q_terms.items() if t in art_terms) / idf_total
            best_q, best_qs, best_fz = None, -1.0, 0.0
            for qi, q in enumerate(entry.questions):
                if held and qi == held_k:
                    continue
                common = q_set & q.terms
                if not common:
                    overlap = 0.0
                else:
                    inter = sum(idf[t] for t in common)
                    q_side = q_side_total
                    a_side = 0.0
                    for t in q.terms:
                        v = idf.get(t)
                        if v is None:
                            v = idf[t] = self._idf(t)
                        a_side += v
                    p, r = inter / q_side, inter / a_side
                    overlap = 2 * p * r / (p + r)
                fz = fuzz.token_set_ratio(q_compact, q.compact) / 100 if q.compact else 0.0
                qs = 0.6 * overlap + 0.4 * fz
                if qs > best_qs:
                    best_q, best_qs, best_overlap, best_fz = q, qs, overlap, fz
            score = (W_ART_BM25 * art_bm25 + W_ART_COVER * cover
                     + W_Q_OVERLAP * best_overlap + W_Q_FUZZ * best_fz)
            meaning, near_q = 0.0, None
            if q_vector is not None and entry.vectors is not None and len(entry.vectors):
                sims = entry.vectors @ q_vector
                if held:
                    sims[held_k] = -1.0
                k = int(sims.argmax())
                meaning, near_q = max(0.0, float(sims[k])), entry.questions[k]
            if content_total:
                evidence = sum(idf[t] for t in content if t in art_terms)
                evidence += 0.5 * sum(idf[t] for t in content if t not in art_terms and t in entry.body_terms)
                evidence /= content_total
            else:
                evidence = 0.0
            sentence, sentence_q = None, None
            if semantic is not None:
                sims = semantic.question_similarities(slug, sentence_vector)
                if sims is not None:
                    if held:
                        sims[held_k] = -1.0
                    k = int(sims.argmax())
                    sentence, sentence_q = max(0.0, float(sims[k])), entry.questions[k]
                else:       # edited moments ago, not re-embedded yet: the word-vector cosine stands in
                    sentence = meaning
                evidence = max(evidence, min(1.0, max(0.0, (sentence - SENTENCE_NO_EVIDENCE)
                                                      / (SENTENCE_FULL_EVIDENCE - SENTENCE_NO_EVIDENCE))))
            if include_body:
                body_cover = sum(idf[t] * c for t, c in q_terms.items() if t in entry.body_terms) / idf_total
                score += BODY_SEARCH_WEIGHT * body_cover
            matched = [t for t in q_terms if t in art_terms]
            if best_q is not None and best_q.terms & q_set:
                matched_terms = [t for t in q_terms if t in best_q.terms]
                via = "title" if best_q is entry.questions[-1] else "question"
                question = best_q.text
            elif matched:
                matched_terms, via, question = matched, "question", best_q.text if best_q else None
            elif sentence_q is not None and sentence > 0.5:
                matched_terms, via, question = [], "meaning", sentence_q.text
            elif near_q is not None and meaning > 0.5:
                matched_terms, via, question = [], "meaning", near_q.text
            else:
                matched_terms = [t for t in q_terms if t in entry.body_terms]
                via, question = "body", None
            score = (1 - W_MEANING) * max(0.0, min(1.0, score)) + W_MEANING * meaning
            if sentence is not None:
                score = (1 - W_SENTENCE) * score + W_SENTENCE * sentence
            confidence = score * (CONTENT_FLOOR + (1 - CONTENT_FLOOR) * evidence)
            out.append(Candidate(slug, score, confidence, question, matched_terms,
                                 [term_word[t] for t in matched_terms], via,
                                 sentence_q.text if sentence_q is not None else None, sentence or 0.0))
        out.sort(key=lambda c: -c.score)
        return out[:limit]
