"""Typed records that cross module boundaries: knowledge texts, passages, retrieval hits, answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["answer", "no_answer", "emergency", "urgent", "personal", "out_of_scope"]
KINDS: tuple[str, ...] = ("answer", "no_answer", "emergency", "urgent", "personal", "out_of_scope")


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Text:
    """One approved knowledge text (a Markdown file under knowledge/)."""

    id: str
    title: str
    summary: str
    topics: tuple[str, ...]
    language: str
    version: int
    status: str
    approved_by: tuple[str, ...]
    approved_on: dt.date | None  # required (and set) for approved texts
    review_by: dt.date | None
    demo: bool
    sources: tuple[Source, ...]
    body: str
    body_line: int  # line number in the file where the body starts
    path: str
    # Search aids from knowledge/questions/<id>.yaml: section slug -> questions it answers (never shown).
    search_questions: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Passage:
    """One citable section of a text."""

    id: str  # TEXTID#section-slug
    text_id: str
    title: str  # the text's title
    section: str  # the section heading
    heading_path: tuple[str, ...]
    text: str
    version: int
    review_by: str
    topics: tuple[str, ...]
    questions: tuple[str, ...] = ()  # search aids: questions this passage answers

    def embedding_input(self) -> str:
        return f"{self.title}. {self.section}. {self.text}"


@dataclass(frozen=True)
class Problem:
    """A problem found in a knowledge file. Errors skip the file; warnings do not."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        fld = f" [{self.field}]" if self.field else ""
        return f"{where}{fld}: {self.message}"


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused score
    dense: float | None = None  # cosine similarity query/passage, if retrieved densely
    dense_rank: int | None = None  # rank by passage + best search-question similarity
    bm25_rank: int | None = None
    question_sim: float | None = None  # best similarity to the passage's search questions


@dataclass(frozen=True)
class Triage:
    """Outcome of the safety step for one question."""

    kind: Kind | None  # None: pass on to retrieval (answer / no_answer)
    reason: str = ""
    reply: str | None = None  # template in prompts/ for the reply; None: the kind's own
    scores: dict[str, float] = field(default_factory=dict)
    support: bool = False  # a question about suicide as a topic: the support lines go first in any reply


class Citation(BaseModel):
    n: int
    text_id: str
    passage_id: str
    title: str
    section: str
    text: str
    version: int | None = None
    review_by: str | None = None


class Answer(BaseModel):
    """The Answer record of DESIGN.md."""

    question: str
    kind: Kind
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    mode: str = "extractive"
    knowledge_version: str = ""
    timings_ms: dict[str, float] = Field(default_factory=dict)
