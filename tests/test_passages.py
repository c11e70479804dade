"""Passages: one per ## section, stable ids, long sections split at sentence boundaries."""

from __future__ import annotations

import dataclasses
import datetime as dt

from assistant.knowledge import load_knowledge
from assistant.passages import MAX_WORDS, split_text
from assistant.records import Text
from assistant.swedish import slugify, words

from .conftest import FIXTURE_KNOWLEDGE


def make_text(body: str, id_: str = "t") -> Text:
    return Text(id=id_, title="Titel", summary="", topics=("läkemedel",), language="sv", version=3,
                status="approved", approved_by=("reumatolog",), approved_on=dt.date(2026, 1, 1),
                review_by=dt.date(2027, 1, 1), demo=True, sources=(), body=body, body_line=1, path="t.md")


def test_slugs_fold_swedish_letters_and_punctuation():
    assert slugify("Vad gör jag om jag glömt en dos?") == "vad-gor-jag-om-jag-glomt-en-dos"
    assert slugify("  Å, ä & ö!  ") == "a-a-o"


def test_one_passage_per_section_with_metadata():
    texts = load_knowledge(FIXTURE_KNOWLEDGE).texts
    mtx = next(t for t in texts if t.id == "metotrexat")
    passages = split_text(mtx)
    assert [p.id for p in passages] == [
        "metotrexat#hur-ofta-tar-jag-metotrexat", "metotrexat#alkohol-och-metotrexat",
        "metotrexat#illamaende-av-metotrexat"]
    p = passages[1]
    assert p.heading_path == ("Metotrexat", "Alkohol och metotrexat")
    assert p.section == "Alkohol och metotrexat" and p.version == 2 and p.review_by == "2030-01-10"
    assert p.text.startswith("Metotrexat och alkohol belastar") and "##" not in p.text


def test_ids_are_stable_when_other_sections_change():
    body = "# T\n\n## Första\nEtt två tre.\n\n## Andra\nFyra fem sex.\n"
    before = [p.id for p in split_text(make_text(body))]
    edited = body.replace("Ett två tre.", "Helt ny text här.") + "\n## Tredje\nSju.\n"
    after = [p.id for p in split_text(make_text(edited))]
    assert after[:2] == before and after[2] == "t#tredje"


def test_repeated_headings_get_distinct_ids():
    body = "## Råd\nEtt.\n\n## Råd\nTvå.\n"
    assert [p.id for p in split_text(make_text(body))] == ["t#rad", "t#rad-2"]


def test_long_section_is_split_at_sentence_boundaries():
    sentence = "Det här är en ganska vanlig mening om leder och värk i vardagen."
    body = "## Lång\n" + " ".join([sentence] * 40)
    passages = split_text(make_text(body))
    assert len(passages) > 1
    assert [p.id for p in passages][:2] == ["t#lang", "t#lang-2"]
    for p in passages:
        assert len(words(p.text)) <= MAX_WORDS
        assert p.text.endswith(".") and p.text.startswith("Det här")
    assert " ".join(p.text for p in passages) == " ".join([sentence] * 40)


def test_short_intro_is_not_a_passage_but_a_long_one_is():
    short = split_text(make_text("# T\nKort intro.\n\n## A\nText."))
    assert [p.id for p in short] == ["t#a"]
    long_intro = "# T\n" + "Det här är en lång inledning om sjukdomen och hur den påverkar dig. " * 4 + "\n## A\nText."
    assert [p.id for p in split_text(make_text(long_intro))] == ["t#inledning", "t#a"]


def test_passages_are_plain_frozen_records():
    p = split_text(make_text("## A\nText."))[0]
    assert dataclasses.is_dataclass(p) and dataclasses.fields(p)
