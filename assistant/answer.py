"""Extractive answers: quote the best sentences of the top passages verbatim, each followed by its
citation marker [n], grouped per passage; or say that the approved texts do not cover the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .index import Index
from .records import Citation, Hit
from .retrieval import Retrieval
from .swedish import stem_tokens
from .templates import render

MAX_SENTENCES = 5
MIN_SENTENCES = 2
MAX_PASSAGES = 3
MAX_PER_PASSAGE = 3
OVERLAP_WEIGHT = 0.15  # weight of stemmed-word overlap beside sentence-vector similarity
SENTENCE_MARGIN = 0.06  # sentences within this of the best one are kept
PASSAGE_MARGIN = 0.035  # further passages must be this close to the best one in dense similarity

# Coverage, calibrated on eval/questions/dev.jsonl (answer vs no_answer; `kunskapsstod eval calibrate`):
# the evidence is the best similarity between the question and the search questions of the top three
# passages (or, for a corpus without search questions, the best passage similarity). Too little evidence,
# or middling evidence for a question with two or more words the corpus never uses, means no_answer.
MIN_QUESTION_SIM, STRICT_QUESTION_SIM = 0.82, 0.905
MIN_DENSE, STRICT_DENSE = 0.80, 0.86
UNKNOWN_WORDS = 2


@dataclass(frozen=True)
class Composed:
    text: str
    citations: list[Citation]


def word_overlap(tokens: list[str], passage_tokens: set[str]) -> float:
    """Fraction of the query's content words that occur in the passage."""
    uniq = set(tokens)
    return len(uniq & passage_tokens) / len(uniq) if uniq else 0.0


def is_covered(retrieval: Retrieval) -> bool:
    """Is the evidence strong enough to answer from the texts?"""
    if not retrieval.hits:
        return False
    question_sims = [h.question_sim for h in retrieval.hits[:3] if h.question_sim is not None]
    if question_sims:
        evidence, floor, strict = max(question_sims), MIN_QUESTION_SIM, STRICT_QUESTION_SIM
    else:
        evidence, floor, strict = retrieval.top_dense, MIN_DENSE, STRICT_DENSE
    if evidence < floor:
        return False
    return not (len(retrieval.unknown) >= UNKNOWN_WORDS and evidence < strict)


def citation(n: int, hit_passage) -> Citation:
    p = hit_passage
    return Citation(n=n, text_id=p.text_id, passage_id=p.id, title=p.title, section=p.section, text=p.text,
                    version=p.version, review_by=p.review_by)


def _clean(sentence: str) -> str:
    return re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", sentence).strip()


def _chosen_hits(hits: list[Hit]) -> list[Hit]:
    best = hits[0]
    chosen = [best]
    for h in hits[1:]:
        if len(chosen) >= MAX_PASSAGES:
            break
        if h.dense is not None and best.dense is not None and h.dense >= best.dense - PASSAGE_MARGIN:
            chosen.append(h)
    return chosen


def compose(retrieval: Retrieval, index: Index) -> Composed:
    """Pick 2–5 sentences from the best passages, quoted verbatim with markers; then a 'Läs mer' line."""
    hits = _chosen_hits(retrieval.hits)
    q_tokens = set(retrieval.tokens)
    scored: list[tuple[float, int, int]] = []  # (score, hit number, sentence number)
    for h_i, hit in enumerate(hits):
        pos = index.position[hit.passage.id]
        sentences = index.sentences[pos]
        sims = index.sentence_vectors(pos) @ retrieval.query_vec if sentences else np.zeros(0)
        for s_i, sentence in enumerate(sentences):
            if len(_clean(sentence)) < 3:
                continue
            overlap = word_overlap(list(q_tokens), set(stem_tokens(sentence))) if q_tokens else 0.0
            rank_bonus = 0.01 * (len(hits) - h_i)  # ties go to the better passage
            scored.append((float(sims[s_i]) + OVERLAP_WEIGHT * overlap + rank_bonus, h_i, s_i))
    scored.sort(reverse=True)
    picked: list[tuple[int, int]] = []
    per_hit: dict[int, int] = {}
    top = scored[0][0] if scored else 0.0
    for score, h_i, s_i in scored:
        if len(picked) >= MAX_SENTENCES:
            break
        if len(picked) >= MIN_SENTENCES and score < top - SENTENCE_MARGIN:
            break
        if per_hit.get(h_i, 0) >= MAX_PER_PASSAGE:
            continue
        picked.append((h_i, s_i))
        per_hit[h_i] = per_hit.get(h_i, 0) + 1
    # Number the passages in the order they appear, then quote each group in text order.
    order = sorted({h for h, _ in picked}, key=lambda h: min(s for hh, s in picked if hh == h) + 1000 * h)
    groups, citations = [], []
    for n, h_i in enumerate(order, start=1):
        hit = hits[h_i]
        pos = index.position[hit.passage.id]
        chosen = sorted(s for hh, s in picked if hh == h_i)
        groups.append(" ".join(f"{_clean(index.sentences[pos][s])} [{n}]" for s in chosen))
        citations.append(citation(n, hit.passage))
    titles: dict[str, list[int]] = {}
    for c in citations:
        titles.setdefault(c.title, []).append(c.n)
    read_more = render("read_more", texts="; ".join(
        f"{t} " + "".join(f"[{n}]" for n in ns) for t, ns in titles.items()))
    return Composed("\n\n".join(groups + [read_more]), citations)
