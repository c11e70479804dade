"""The assistant: question -> intake -> safety -> retrieval -> answer. One object per process; it is
safe to share between threads (the index is read-only once open)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .answer import compose, is_covered
from .embeddings import CachedEmbeddings
from .index import Index, cached_embedder
from .intake import clean_question
from .lexicon import load_lexicon
from .records import Answer, Citation, Triage
from .retrieval import Retriever
from .safety import Safety
from .safety_model import search_examples
from .settings import Settings
from .swedish import fold, words
from .templates import render

WITH_INFO = ("urgent", "personal")  # kinds that may add cited general information
FOLLOW_UP_MAX_WORDS = 6


@dataclass(frozen=True)
class _Reply:
    """What the assistant says, before the support lines and the log fields are added."""
    kind: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    mode: str = "extractive"


@dataclass(frozen=True)
class Turn:
    question: str
    kind: str


def is_follow_up(question: str) -> bool:
    """A short question leaning on the previous one: "och om jag är gravid?", "what about kids?"."""
    ws = words(question)
    starts = ("och", "men", "om", "what", "and", "också", "även", "samma", "gäller", "hur", "då")
    return len(ws) <= FOLLOW_UP_MAX_WORDS and (ws[:1] and ws[0] in starts)


class Assistant:
    def __init__(self, settings: Settings, index: Index | None = None,
                 embedder: CachedEmbeddings | None = None, retrieval_mode: str = "hybrid") -> None:
        self.settings = settings
        self.embedder = embedder or cached_embedder(settings)
        self.index = index or Index.open(settings, self.embedder)
        self.lexicon = load_lexicon(settings.knowledge_dir / "lexicon.yaml")
        self.retriever = Retriever(self.index, self.lexicon, mode=retrieval_mode)
        vocabulary = frozenset(fold(w) for p in self.index.passages for w in words(p.embedding_input()))
        self.safety = Safety(self.embedder, vocabulary=vocabulary | frozenset(self.lexicon.terms),
                             answerable=tuple(search_examples(self.index.passages)),
                             cache_dir=settings.cache_dir)
        self.generator = None
        if settings.llm_base_url:
            from .generative import Generator

            self.generator = Generator(settings)

    @property
    def knowledge_version(self) -> str:
        return self.index.knowledge_version

    @property
    def mode(self) -> str:
        return "generative" if self.generator else "extractive"

    def warm(self) -> None:
        self.safety.warm()
        self.ask("hur tar jag metotrexat")

    def ask(self, raw_question: str | bytes, history: list[Turn] | None = None) -> Answer:
        """Answer one question. Raises intake.BadQuestion (with a Swedish message) on unusable input."""
        clock = _Clock()
        question = clean_question(raw_question, self.settings.max_question_chars)
        triage, reply = self._reply(question, history, clock)
        return self._record(question, reply, clock, support=triage.support)

    def _reply(self, question: str, history: list[Turn] | None, clock: "_Clock") -> tuple[Triage, _Reply]:
        """Safety, then (unless it settles the question) retrieval and the composed or generated text."""
        # Emergencies (and other rule matches) are decided before any embedding or retrieval runs.
        triage = self.safety.triage_rules(question)
        clock.lap("safety")
        if triage.kind in ("emergency", "out_of_scope"):
            return triage, _Reply(triage.kind, render(triage.reply or triage.kind))

        search_text = self._with_context(question, history)
        query_vec = self.embedder.embed_query_np(search_text)
        clock.lap("embed")
        triage = self.safety.after_rules(triage, question, query_vec)  # the rules already ran
        clock.lap("safety")
        if triage.kind in ("emergency", "out_of_scope"):
            return triage, _Reply(triage.kind, render(triage.reply or triage.kind))

        retrieval = self.retriever.search(search_text, k=self.settings.top_k, query_vec=query_vec)
        clock.lap("retrieve")
        covered = is_covered(retrieval)
        if triage.kind in WITH_INFO:
            lead = render(triage.reply or triage.kind)
            if not covered:
                return triage, _Reply(triage.kind, lead)
            composed = compose(retrieval, self.index)
            clock.lap("compose")
            text = f"{lead}\n\n**Allmän information från texterna:**\n\n{composed.text}"
            return triage, _Reply(triage.kind, text, composed.citations)
        if not covered:
            return triage, _Reply("no_answer", render("no_answer"))
        if self.generator:
            generated = self.generator.answer(question, retrieval.hits)
            clock.lap("compose")
            if generated is not None:
                return triage, _Reply("answer", generated.text, generated.citations, "generative")
        composed = compose(retrieval, self.index)
        clock.lap("compose")
        return triage, _Reply("answer", composed.text, composed.citations)

    @staticmethod
    def _with_context(question: str, history: list[Turn] | None) -> str:
        """A short follow-up is searched together with the conversation's previous question."""
        if history and is_follow_up(question):
            previous = [h.question for h in history if h.kind not in ("out_of_scope", "emergency")]
            if previous:
                return f"{previous[-1]} {question}"
        return question

    def _record(self, question: str, reply: _Reply, clock: "_Clock", support: bool = False) -> Answer:
        text = reply.text
        # Suicide as a topic: where to talk comes before anything else (112 is in its first line). An
        # emergency already has the reply that names where to talk (safety.with_support).
        if support and reply.kind != "emergency":
            text = f"{render('suicide_support')}\n\n{text}"
        return Answer(question=question, kind=reply.kind, answer=text, citations=reply.citations,
                      mode=reply.mode, knowledge_version=self.knowledge_version, timings_ms=clock.done())


class _Clock:
    """Milliseconds per step; a step that runs twice (safety) adds up."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + (now - self.last) * 1000
        self.last = now

    def done(self) -> dict[str, float]:
        out = {k: round(v, 2) for k, v in self.laps.items()}
        out["total"] = round((time.perf_counter() - self.start) * 1000, 2)
        return out
