"""Split knowledge texts into citable passages: one per `##` section, long sections split at sentence
boundaries. Passage ids are stable: `TEXTID#section-slug` (`-2`, `-3` … for parts and repeats)."""

from __future__ import annotations

import re

from .records import Passage, Text
from .swedish import slugify, split_sentences, words

MAX_WORDS = 180  # a section longer than this is split at sentence boundaries
MIN_INTRO_WORDS = 40  # shorter intros (before the first ##) are not citable on their own

_H2 = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.M)
_H1 = re.compile(r"^#\s+.*$", re.M)


def _sections(body: str) -> list[tuple[str | None, str]]:
    parts = _H2.split(body)
    intro = _H1.sub("", parts[0]).strip()
    out: list[tuple[str | None, str]] = [(None, intro)] if intro else []
    out.extend((h.strip(), t.strip()) for h, t in zip(parts[1::2], parts[2::2]))
    return out


def _chunks(text: str) -> list[str]:
    if len(words(text)) <= MAX_WORDS:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    for sentence in split_sentences(text):
        if current and len(words(" ".join(current + [sentence]))) > MAX_WORDS:
            chunks.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        chunks.append(" ".join(current))
    return chunks


def split_text(text: Text) -> list[Passage]:
    passages: list[Passage] = []
    used: set[str] = set()
    for heading, content in _sections(text.body):
        if not content:
            continue
        if heading is None:
            if len(words(content)) < MIN_INTRO_WORDS:
                continue
            heading, slug = text.title, "inledning"
        else:
            slug = slugify(heading)
        for chunk in _chunks(content):
            pid, n = slug, 1
            while pid in used:
                n += 1
                pid = f"{slug}-{n}"
            used.add(pid)
            passages.append(Passage(
                id=f"{text.id}#{pid}", text_id=text.id, title=text.title, section=heading,
                heading_path=(text.title, heading), text=chunk, version=text.version,
                review_by=text.review_by.isoformat() if text.review_by else "", topics=text.topics,
                questions=text.search_questions.get(slug, ()),
            ))
    return passages


def split_corpus(texts: list[Text]) -> list[Passage]:
    return [p for t in texts for p in split_text(t)]


def unknown_question_keys(text: Text) -> list[str]:
    """Section slugs in knowledge/questions/<id>.yaml that match no section of the text."""
    slugs = {p.id.split("#", 1)[1] for p in split_text(text)}
    return sorted(k for k in text.search_questions if k not in slugs)
