"""The safety step, run before retrieval: sorts each question into emergency, urgent, personal or
out_of_scope, or passes it on (None) to be answered from the texts.

Two signals, both kept as data under assistant/data/safety/:
- rules.yaml: Swedish/English patterns (matched on å/ä/ö-folded text), with negation ("jag har inte
  feber") and general questions *about* a symptom ("vilka är tecknen på stroke?") taken into account;
- examples/<kind>.txt: curated example questions; a question close enough to a kind's examples, and
  clearly closer to them than to the answerable examples (examples/answer.txt), gets that kind.
Emergencies need no retrieval, no LLM and no index: the rules alone decide fast."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import yaml

from .records import Triage
from .swedish import ENGLISH_STOPWORDS, fold, stopwords, words

DATA_DIR = Path(__file__).parent / "data" / "safety"
ORDER = ("emergency", "urgent", "personal", "out_of_scope")
NEGATION_WINDOW = 4  # words before a match that can negate it

# Embedding thresholds, calibrated on eval/questions/dev.jsonl with `kunskapsstod eval safety`:
# (minimum similarity to the kind's examples, minimum margin over the answerable examples).
SIMILARITY = {
    "emergency": (0.85, 0.03),
    "urgent": (0.85, 0.04),
    "personal": (0.95, 0.03),  # calibration found no safe setting; kept strict, the rules do this kind
    "out_of_scope": (0.85, 0.025),
}



def _fold(text: str) -> str:
    return fold(text.lower())


@dataclass(frozen=True)
class Rules:
    negations: re.Pattern[str]
    about: re.Pattern[str]
    first_person: re.Pattern[str]
    by_kind: dict[str, list[tuple[re.Pattern[str], str | None]]]  # (pattern, reply template)


def load_rules(path: Path = DATA_DIR / "rules.yaml") -> Rules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def compile_(src: str, where: str) -> re.Pattern[str]:
        try:
            return re.compile(fold(src), re.I)  # fold å/ä/ö only: lowercasing would turn \W into \w
        except re.error as e:
            raise ValueError(f"{path.name}: ogiltigt mönster i {where}: {e}") from e

    return Rules(
        negations=compile_(data["negations"], "negations"),
        about=compile_(data["about"], "about"),
        first_person=compile_(data["first_person"], "first_person"),
        by_kind={k: [(compile_(e["pattern"] if isinstance(e, dict) else e, f"{k}[{i}]"),
                      e.get("reply") if isinstance(e, dict) else None)
                     for i, e in enumerate(data.get(k, []))] for k in ORDER},
    )


def load_examples(directory: Path = DATA_DIR / "examples") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind in (*ORDER, "answer"):
        path = directory / f"{kind}.txt"
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            out[kind] = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    return out


class Safety:
    def __init__(self, embedder=None, rules: Rules | None = None,
                 examples: dict[str, list[str]] | None = None, vocabulary: frozenset[str] = frozenset()):
        """`embedder` embeds the example questions (with the query role); without one, rules only."""
        self.rules = rules or load_rules()
        self.examples = examples if examples is not None else load_examples()
        self.embedder = embedder
        # Words that mark Swedish or English (or the corpus), for telling languages apart.
        self._known_words = frozenset(fold(w) for w in stopwords()) | ENGLISH_STOPWORDS | vocabulary

    @cached_property
    def _example_vectors(self) -> dict[str, np.ndarray]:
        if self.embedder is None:
            return {}
        return {k: self.embedder.embed_queries_np(v) for k, v in self.examples.items() if v}

    def warm(self) -> None:
        """Embed the example sets now (cached on disk) rather than on the first question."""
        _ = self._example_vectors

    # -- rules ---------------------------------------------------------------------------------
    def _negated(self, folded: str, start: int) -> bool:
        before = re.split(r"[.,;!?]|\bmen\b|\bbut\b", folded[:start])[-1]
        return bool(self.rules.negations.search(" ".join(before.split()[-NEGATION_WINDOW:])))

    def rule_match(self, question: str, kind: str) -> tuple[str, str | None] | None:
        """(matched text, reply template) of the first rule of `kind` that matches un-negated."""
        folded = _fold(question)
        for pattern, reply in self.rules.by_kind[kind]:
            for m in pattern.finditer(folded):
                if not self._negated(folded, m.start()):
                    return m.group(0), reply
        return None

    def is_general(self, question: str) -> bool:
        """A general question about a symptom, not a report of one."""
        folded = _fold(question)
        return bool(self.rules.about.search(folded)) and not self.rules.first_person.search(folded)

    def other_language(self, question: str) -> bool:
        ws = [fold(w) for w in words(question) if not w.isdigit()]
        if len(ws) < 4:
            return False
        return sum(w in self._known_words for w in ws) / len(ws) < 0.25

    # -- similarity ----------------------------------------------------------------------------
    def similarities(self, query_vec: np.ndarray | None) -> dict[str, float]:
        vecs = self._example_vectors
        if query_vec is None or not vecs:
            return {}
        return {k: float(np.max(v @ query_vec)) for k, v in vecs.items()}

    def triage_rules(self, question: str) -> Triage:
        """The rules alone (no embedding): fast, and enough to send an emergency to 112."""
        general = self.is_general(question)
        for kind in ORDER:
            if kind in ("emergency", "urgent") and general:
                continue
            hit = self.rule_match(question, kind)
            if hit:
                return Triage(kind, f"regel: {hit[0]!r}", hit[1])  # type: ignore[arg-type]
        if self.other_language(question):
            return Triage("out_of_scope", "annat språk", "other_language")
        return Triage(None)

    def triage(self, question: str, query_vec: np.ndarray | None = None) -> Triage:
        """Rules first; then, given the question's vector, similarity to the example sets."""
        by_rules = self.triage_rules(question)
        return by_rules if by_rules.kind is not None else self.triage_by_similarity(question, query_vec)

    def triage_by_similarity(self, question: str, query_vec: np.ndarray | None) -> Triage:
        """The similarity step alone, for a question the rules left undecided."""
        general = self.is_general(question)
        sims = self.similarities(query_vec)
        answer_sim = sims.get("answer", 0.0)
        for kind in ORDER:
            if kind in ("emergency", "urgent") and general:
                continue
            floor, margin = SIMILARITY[kind]
            s = sims.get(kind, 0.0)
            if s >= floor and s - answer_sim >= margin:
                return Triage(kind, f"likhet {s:.3f} (svarbara {answer_sim:.3f})", None, sims)  # type: ignore[arg-type]
        return Triage(None, "", None, sims)
