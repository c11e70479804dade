"""The bundled corpus and question set: valid, covering every topic, and consistent with each other."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from assistant.evaluation import QUESTIONS_DIR, load_questions
from assistant.knowledge import lix, load_knowledge, read_topics
from assistant.lexicon import load_lexicon
from assistant.passages import split_corpus
from assistant.records import KINDS
from assistant.settings import PROJECT_ROOT
from assistant.swedish import words

KNOWLEDGE = PROJECT_ROOT / "knowledge"


@pytest.fixture(scope="module")
def report():
    return load_knowledge(KNOWLEDGE)


def test_corpus_is_valid_and_large_enough(report):
    assert not report.errors, [str(p) for p in report.errors]
    assert len(report.texts) >= 60
    for t in report.texts:
        assert t.status == "approved" and t.demo and t.sources and t.approved_by
        assert 150 <= len(words(t.body)) <= 700, t.id


def test_every_topic_in_the_readme_has_a_text(report):
    topics = read_topics(KNOWLEDGE)
    assert len(topics) >= 10
    covered = Counter(topic for t in report.texts for topic in t.topics)
    assert [t for t in topics if not covered[t]] == []
    assert set(covered) <= set(topics), set(covered) - set(topics)


def test_sections_are_citable_units(report):
    passages = split_corpus(report.texts)
    assert len(passages) >= 300
    for p in passages:
        assert 25 <= len(words(p.text)) <= 180, p.id
    assert sum(lix(t.body) <= 40 for t in report.texts) / len(report.texts) >= 0.9


def test_medicine_texts_warn_against_changing_the_dose_yourself(report):
    dosing = [t for t in report.texts if "läkemedel" in t.topics and "dosen" in t.body.lower()]
    missing = [t.id for t in dosing if "Ändra aldrig dosen själv" not in t.body]
    assert len(dosing) >= 10 and not missing, missing


def test_search_questions_match_sections(report):
    passages = split_corpus(report.texts)
    assert sum(bool(p.questions) for p in passages) / len(passages) >= 0.95
    assert not [w for w in report.warnings if w.file.startswith("questions/")]


def test_lexicon_loads_and_maps_common_patient_words():
    lexicon = load_lexicon(KNOWLEDGE / "lexicon.yaml")
    assert len(lexicon.terms) >= 200
    assert "metotrexat" in lexicon.expand("kan jag ta mtx")
    assert "paracetamol" in " ".join(lexicon.expand("får jag ta alvedon")).lower()


def test_question_set_is_labelled_split_and_points_at_real_passages(report):
    ids = {p.id for p in split_corpus(report.texts)}
    dev, test = load_questions("dev"), load_questions("test")
    assert len(dev) + len(test) >= 250
    assert not {q.question.lower() for q in dev} & {q.question.lower() for q in test}
    both = Counter(q.kind for q in dev + test)
    assert set(both) <= set(KINDS)
    assert both["no_answer"] >= 30 and both["emergency"] >= 20 and both["urgent"] >= 20
    assert both["personal"] >= 15 and both["out_of_scope"] >= 20
    for q in dev + test:
        assert set(q.passages) <= ids, (q.id, set(q.passages) - ids)
    dev2 = {json.loads(line)["id"] for line in (QUESTIONS_DIR / "dev.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line).get("source") == "dev2"}  # safety-tuning questions, no gold passages
    answerable = [q for q in dev + test if q.kind == "answer" and q.id not in dev2]
    assert sum(bool(q.passages) for q in answerable) / len(answerable) >= 0.85
    raw = (QUESTIONS_DIR / "test.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["id"].startswith("test-") for line in raw)


def test_every_split_has_unique_ids_known_kinds_and_real_passages(report):
    """All files in eval/questions/ (the holdouts too): a renamed section must not silently turn a
    gold passage into a miss, and no question may sit in two splits."""
    ids = {p.id for p in split_corpus(report.texts)}
    seen: dict[str, str] = {}
    for path in sorted(QUESTIONS_DIR.glob("*.jsonl")):
        questions = load_questions(path.stem)
        assert len({q.id for q in questions}) == len(questions), path.name
        for q in questions:
            assert q.kind in KINDS, (path.name, q.id)
            assert set(q.passages) <= ids, (path.name, q.id, set(q.passages) - ids)
            key = " ".join(q.question.lower().split())
            assert seen.setdefault(key, path.name) == path.name, (q.id, path.name, seen[key])
