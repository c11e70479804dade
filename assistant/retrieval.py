"""Hybrid retrieval, measured on eval/questions/dev.jsonl (see `kunskapsstod eval retrieval`):

- the patient lexicon first adds the texts' words to the query;
- dense: Chroma's cosine similarity to the passage, plus the best similarity to the passage's search
  questions (knowledge/questions/), ranks the candidates;
- lexical: BM25 over passage, headings and search questions (Swedish Snowball stems);
- the two rankings are fused by weighted reciprocal rank fusion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Index
from .lexicon import EMPTY, Lexicon
from .records import Hit
from .swedish import ENGLISH_STOPWORDS, stem_tokens

RRF_K = 30
CANDIDATES = 30  # per ranking
DENSE_CANDIDATES = 60  # asked of Chroma, so the question-key candidates mostly have a passage score too


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    query: str  # the query as searched (with lexicon words added)
    query_vec: np.ndarray
    tokens: list[str]  # stemmed query tokens
    top_dense: float  # best cosine similarity (0 if none)
    top_bm25: float  # best BM25 score
    unknown: tuple[str, ...] = ()  # content words of the question that occur nowhere in the corpus


class Retriever:
    def __init__(self, index: Index, lexicon: Lexicon = EMPTY, *, mode: str = "hybrid",
                 dense_weight: float = 1.5, bm25_weight: float = 1.0) -> None:
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.index, self.lexicon, self.mode = index, lexicon, mode
        self.dense_weight, self.bm25_weight = dense_weight, bm25_weight
        self.vocabulary = index.vocabulary | frozenset(stem_tokens(" ".join(lexicon.terms)))

    def unknown_words(self, question: str) -> tuple[str, ...]:
        """Content words (stems of 5+ letters) the corpus never uses: a sign of a question it does not cover."""
        return tuple(t for t in stem_tokens(question) if len(t) >= 5 and not t.isdigit()
                     and t not in self.vocabulary and t not in ENGLISH_STOPWORDS)

    def expand(self, question: str) -> str:
        extra = self.lexicon.expand(question)
        return f"{question} ({', '.join(extra)})" if extra else question

    def search(self, question: str, k: int = 5, query_vec: np.ndarray | None = None) -> Retrieval:
        query = self.expand(question)
        if query_vec is None:  # the dense side reads the question as typed; BM25 gets the lexicon words
            query_vec = self.index.embedder.embed_query_np(question)
        tokens = stem_tokens(query)
        fused: dict[int, float] = {}
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
        dense_rank = {pos: r for r, pos in enumerate(dense_order)}
        lexical = self.index.lexical(tokens) if self.mode != "dense" else np.zeros(0)
        bm25_order = [int(i) for i in np.argsort(-lexical)[:CANDIDATES] if lexical[i] > 0] if lexical.size else []
        bm25_rank = {pos: r for r, pos in enumerate(bm25_order)}
        for pos, r in dense_rank.items():
            fused[pos] = fused.get(pos, 0.0) + self.dense_weight / (RRF_K + r + 1)
        for pos, r in bm25_rank.items():
            fused[pos] = fused.get(pos, 0.0) + self.bm25_weight / (RRF_K + r + 1)
        best = sorted(fused, key=lambda p: -fused[p])[:k]
        hits = [Hit(self.index.passages[p], fused[p], dense_score.get(p), dense_rank.get(p), bm25_rank.get(p),
                    float(question_sim[p]) if question_sim.size and question_sim[p] > -1 else None)
                for p in best]
        return Retrieval(
            hits=hits, query=query, query_vec=query_vec, tokens=tokens,
            top_dense=max(dense_score.values()) if dense_score else 0.0,
            top_bm25=float(lexical.max()) if lexical.size else 0.0,
            unknown=self.unknown_words(question),
        )
