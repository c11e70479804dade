"""Hybrid retrieval, measured on eval/questions/dev.jsonl (see `kunskapsstod eval retrieval`):

- the patient lexicon first adds the texts' words to the query;
- dense: Chroma's cosine similarity to the passage, plus the best similarity to the passage's search
  questions (knowledge/questions/), ranks the candidates;
- lexical: BM25 over passage, headings and search questions (Swedish Snowball stems);
- the candidates of both rankings are scored by the learned ranker (ranker.py) from those signals plus
  sentence similarity; without a ranker trained for this embedder (or in mode `rrf`) the two rankings
  are fused by weighted reciprocal rank fusion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .index import Index
from .lexicon import EMPTY, Lexicon
from .ranker import Ranker, load_ranker
from .records import Hit
from .swedish import ENGLISH_STOPWORDS, stem_tokens

log = logging.getLogger(__name__)

RRF_K = 30
CANDIDATES = 30  # per ranking
DENSE_CANDIDATES = 60  # asked of Chroma, so the question-key candidates mostly have a passage score too
MODES = ("hybrid", "rrf", "dense", "bm25")


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    query: str  # the query as searched (with lexicon words added)
    query_vec: np.ndarray
    tokens: list[str]  # stemmed query tokens
    top_dense: float  # best cosine similarity (0 if none)
    top_bm25: float  # best BM25 score
    unknown: tuple[str, ...] = ()  # content words of the question that occur nowhere in the corpus


@dataclass(frozen=True)
class Signals:
    """What both rankings know about one query, for every passage they put forward."""

    dense_score: dict[int, float]  # passage position -> cosine similarity (Chroma's top DENSE_CANDIDATES)
    question_sim: np.ndarray  # per passage: best search-question similarity (-1: none)
    lexical: np.ndarray  # per passage: BM25 score
    dense_order: list[int]  # best first, at most CANDIDATES
    bm25_order: list[int]

    @property
    def candidates(self) -> list[int]:
        return list(dict.fromkeys(self.dense_order + self.bm25_order))

    @cached_property
    def dense_rank(self) -> dict[int, int]:
        return {pos: r for r, pos in enumerate(self.dense_order)}

    @cached_property
    def bm25_rank(self) -> dict[int, int]:
        return {pos: r for r, pos in enumerate(self.bm25_order)}


class Retriever:
    def __init__(self, index: Index, lexicon: Lexicon = EMPTY, *, mode: str = "hybrid",
                 dense_weight: float = 1.5, bm25_weight: float = 1.0, ranker: Ranker | None | str = "auto") -> None:
        """`ranker`: "auto" loads assistant/data/ranker.json if it was trained with this index's
        embedder; None fuses by RRF; or a Ranker to use."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.index, self.lexicon, self.mode = index, lexicon, mode
        self.dense_weight, self.bm25_weight = dense_weight, bm25_weight
        self.vocabulary = index.vocabulary | frozenset(stem_tokens(" ".join(lexicon.terms)))
        if ranker == "auto":
            ranker = load_ranker()
            embedder = index.manifest.get("embedder")
            if ranker is not None and ranker.embedder != embedder:
                log.info("Rankningsmodellen tränades med %s, indexet använder %s: RRF används.",
                         ranker.embedder, embedder)
                ranker = None
        self.ranker: Ranker | None = ranker  # type: ignore[assignment]
        self._text_names = sorted({p.text_id for p in index.passages})
        slot = {t: i for i, t in enumerate(self._text_names)}
        self._text_of = np.array([slot[p.text_id] for p in index.passages], dtype=np.int64)

    def unknown_words(self, question: str) -> tuple[str, ...]:
        """Content words (stems of 5+ letters) the corpus never uses: a sign of a question it does not cover."""
        return tuple(t for t in stem_tokens(question) if len(t) >= 5 and not t.isdigit()
                     and t not in self.vocabulary and t not in ENGLISH_STOPWORDS)

    def expand(self, question: str) -> str:
        extra = self.lexicon.expand(question)
        return f"{question} ({', '.join(extra)})" if extra else question

    def signals(self, tokens: list[str], query_vec: np.ndarray) -> Signals:
        """Both rankings for one query (BM25 over `tokens`, dense over `query_vec`)."""
        dense_score: dict[int, float] = {}
        question_sim = np.zeros(0)
        dense_order: list[int] = []
        if self.mode != "bm25":
            dense_score = dict(self.index.dense(query_vec, DENSE_CANDIDATES))
            question_sim = self.index.question_scores(query_vec)
            floor = min(dense_score.values()) if dense_score else 0.0
            candidates = set(dense_score) | {int(i) for i in np.argsort(-question_sim)[:CANDIDATES]}

            def combined(pos: int) -> float:
                p = dense_score.get(pos, floor)
                q = float(question_sim[pos]) if question_sim.size else -1.0
                return p + (q if q > -1.0 else p)  # a passage without search questions counts twice

            dense_order = sorted(candidates, key=lambda i: -combined(i))[:CANDIDATES]
        lexical = self.index.lexical(tokens) if self.mode != "dense" else np.zeros(0)
        bm25_order = [int(i) for i in np.argsort(-lexical)[:CANDIDATES] if lexical[i] > 0] if lexical.size else []
        return Signals(dense_score, question_sim, lexical, dense_order, bm25_order)

    def features(self, sig: Signals, query_vec: np.ndarray, positions: list[int]) -> np.ndarray:
        """The ranker's FEATURES (ranker.py) for each candidate position, one row each."""
        n = len(self.index.passages)
        floor = min(sig.dense_score.values()) if sig.dense_score else 0.0
        dense = np.array([sig.dense_score.get(p, floor) for p in range(n)], dtype=np.float32)
        qsim = sig.question_sim if sig.question_sim.size else np.full(n, -1.0, dtype=np.float32)
        qsim = np.where(qsim > -1.0, qsim, dense)  # a passage without search questions: its own similarity
        sims = self.index.sentence_vecs @ query_vec
        offsets = self.index.offsets
        sentence_max = np.array([sims[offsets[p]:offsets[p + 1]].max() if offsets[p + 1] > offsets[p]
                                 else dense[p] for p in positions], dtype=np.float32)
        text_best = np.full(len(self._text_names), -1.0, dtype=np.float32)
        np.maximum.at(text_best, self._text_of, qsim)
        lexical = sig.lexical if sig.lexical.size else np.zeros(n, dtype=np.float32)
        top_lex = float(lexical.max()) if lexical.size and lexical.max() > 0 else 1.0
        dense_rank, bm25_rank = sig.dense_rank, sig.bm25_rank
        pos_arr = np.asarray(positions, dtype=np.int64)
        return np.column_stack([
            qsim[pos_arr] - qsim[pos_arr].max(),
            dense[pos_arr] - dense[pos_arr].max(),
            sentence_max,
            lexical[pos_arr] / top_lex,
            [1.0 / (RRF_K + dense_rank[p] + 1) if p in dense_rank else 0.0 for p in positions],
            [1.0 / (RRF_K + bm25_rank[p] + 1) if p in bm25_rank else 0.0 for p in positions],
            text_best[self._text_of[pos_arr]],
        ]).astype(np.float32)

    def _rrf(self, sig: Signals) -> dict[int, float]:
        fused: dict[int, float] = {}
        for weight, order in ((self.dense_weight, sig.dense_order), (self.bm25_weight, sig.bm25_order)):
            for r, pos in enumerate(order):
                fused[pos] = fused.get(pos, 0.0) + weight / (RRF_K + r + 1)
        return fused

    def search(self, question: str, k: int = 5, query_vec: np.ndarray | None = None) -> Retrieval:
        query = self.expand(question)
        if query_vec is None:  # the dense side reads the question as typed; BM25 gets the lexicon words
            query_vec = self.index.embedder.embed_query_np(question)
        tokens = stem_tokens(query)
        sig = self.signals(tokens, query_vec)
        if self.mode == "hybrid" and self.ranker is not None and sig.candidates:
            positions = sig.candidates
            scores = self.ranker.score(self.features(sig, query_vec, positions))
            fused = {p: float(s) for p, s in zip(positions, scores)}
        else:
            fused = self._rrf(sig)
        qs = sig.question_sim
        best = sorted(fused, key=lambda p: -fused[p])[:k]
        hits = [Hit(self.index.passages[p], fused[p], sig.dense_score.get(p), sig.dense_rank.get(p),
                    sig.bm25_rank.get(p),
                    float(qs[p]) if qs.size and qs[p] > -1 else None)
                for p in best]
        return Retrieval(
            hits=hits, query=query, query_vec=query_vec, tokens=tokens,
            top_dense=max(sig.dense_score.values()) if sig.dense_score else 0.0,
            top_bm25=float(sig.lexical.max()) if sig.lexical.size else 0.0,
            unknown=self.unknown_words(question),
        )
