"""Extractive answers: quote the best sentences of the top passages verbatim, each followed by its
citation marker [n], grouped per passage; or say that the approved texts do not cover the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
MIN_QUESTION_SIM, STRICT_QUESTION_SIM = 0.82, 0.915
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


CONNECTIVES = ("därför", "då ", "det ", "den ", "detta", "dessa", "de ", "sådana", "men ", "också", "så ",
               "dessutom", "annars", "sedan", "hon ", "han ", "där ", "i stället")


def _leans_on_previous(sentence: str) -> bool:
    """A sentence like 'Därför …' or 'Det …' needs the one before it to make sense when quoted."""
    low = _clean(sentence).lower() + " "
    return low.startswith(CONNECTIVES) or " därför " in low[:25]


def compose(retrieval: Retrieval, index: Index) -> Composed:
    """Quote 2–5 sentences verbatim, each with its marker, grouped per passage; then a 'Läs mer' line.

    The best passage leads with its first sentence (sections are written to answer their heading
    straight away) and its best other sentences; a close runner-up passage adds its best sentences.
    Questions are never quoted, and a sentence that leans on the one before it brings that one along."""
    hits = _chosen_hits(retrieval.hits)
    q_tokens = list(set(retrieval.tokens))
    picked: dict[int, set[int]] = {}
    budget = MAX_SENTENCES
    top_score = None
    for h_i, hit in enumerate(hits):
        pos = index.position[hit.passage.id]
        sentences = index.sentences[pos]
        usable = [i for i, snt in enumerate(sentences) if len(_clean(snt)) >= 3 and not snt.rstrip().endswith("?")]
        if not usable or budget <= 0:
            continue
        sims = index.sentence_vectors(pos) @ retrieval.query_vec
        scores = {i: float(sims[i]) + OVERLAP_WEIGHT * word_overlap(q_tokens, set(stem_tokens(sentences[i])))
                  for i in usable}
        ranked = sorted(usable, key=lambda i: -scores[i])
        if top_score is None:
            top_score = scores[ranked[0]]
        chosen: set[int] = set()
        limit = MAX_PER_PASSAGE if h_i == 0 else 2
        if h_i == 0:
            chosen.add(usable[0])  # the lead sentence
        elif scores[ranked[0]] < top_score - SENTENCE_MARGIN:
            continue
        for i in ranked:
            if len(chosen) >= min(limit, budget):
                break
            if scores[i] >= top_score - SENTENCE_MARGIN or len(chosen) < (MIN_SENTENCES if h_i == 0 else 1):
                chosen.add(i)
        for i in sorted(chosen):
            if _leans_on_previous(sentences[i]) and i - 1 >= 0 and i - 1 not in chosen \
                    and not sentences[i - 1].rstrip().endswith("?") and len(chosen) < budget:
                chosen.add(i - 1)
        picked[h_i] = chosen
        budget -= len(chosen)
    groups, citations = [], []
    for n, h_i in enumerate(sorted(picked), start=1):
        hit = hits[h_i]
        pos = index.position[hit.passage.id]
        groups.append(" ".join(f"{_clean(index.sentences[pos][i])} [{n}]" for i in sorted(picked[h_i])))
        citations.append(citation(n, hit.passage))
    titles: dict[str, list[int]] = {}
    for c in citations:
        titles.setdefault(c.title, []).append(c.n)
    read_more = render("read_more", texts="; ".join(
        f"{t} " + "".join(f"[{n}]" for n in ns) for t, ns in titles.items()))
    return Composed("\n\n".join(groups + [read_more]), citations)
