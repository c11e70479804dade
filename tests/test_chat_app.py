"""The chat app's pieces that need no browser: how answers are displayed, citation elements, the
visit list file, and a failing database while saving feedback."""

from __future__ import annotations

import asyncio

import pytest

from assistant import chat_app, runtime
from assistant.records import Answer, Citation
from assistant.store import Store, StoreError
from assistant.visits import visit_markdown


def make_answer(kind: str, text: str, n: int = 0) -> Answer:
    cites = [Citation(n=i, text_id="t", passage_id=f"t#s{i}", title="Titel", section=f"Avsnitt {i}",
                      text=f"Hela stycket {i}.", version=3, review_by="2027-11-01") for i in range(1, n + 1)]
    return Answer(question="q", kind=kind, answer=text, citations=cites)


def test_markers_become_source_chips_matching_element_names():
    answer = make_answer("answer", "Mening ett. [1] Mening två. [2]\n\n*Läs mer:* Titel [1][2]", n=2)
    shown = chat_app.display_text(answer)
    sources = chat_app.citation_sources(answer)
    assert "[1]" not in shown and shown.count("Källa 1") == 2
    assert [name for name, _ in sources] == ["Källa 1", "Källa 2"] and all(n in shown for n, _ in sources)
    assert "version 3" in sources[0][1] and "2027-11-01" in sources[0][1]
    assert "Hela stycket 1." in sources[0][1]


def test_emergency_and_urgent_lead_with_a_heading_holding_the_number():
    emergency = chat_app.display_text(make_answer("emergency", "**Ring 112 nu.** Det kan vara livshotande.\n\n- Ring 112."))
    assert emergency.startswith("## Ring 112 nu")
    urgent = chat_app.display_text(make_answer("urgent", "**Kontakta din reumatologmottagning i dag, eller ring "
                                                         "1177** om den är stängd. Mer text.\n\nResten."))
    assert urgent.startswith("### Kontakta din reumatologmottagning i dag, eller ring 1177")


def test_visit_list_is_markdown_to_bring_along():
    md = visit_markdown(["Får jag dricka vin?", "Hur länge ska jag ta folsyra?"])
    assert md.startswith("# Frågor till mitt besök")
    assert "1. Får jag dricka vin?" in md and "2. Hur länge ska jag ta folsyra?" in md and "1177" in md


class BrokenStore(Store):
    def _write(self, sql, params):
        raise StoreError("databasen är låst")


def test_feedback_database_error_becomes_a_swedish_message(tmp_path, monkeypatch):
    broken = BrokenStore(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setattr(runtime, "store", lambda settings=None: broken)
    from chainlit.types import Feedback

    layer = chat_app.FeedbackDataLayer()
    with pytest.raises(RuntimeError) as e:
        asyncio.run(layer.upsert_feedback(Feedback(forId="m1", value=0, comment="dåligt")))
    assert str(e.value) == chat_app.FEEDBACK_FAILED and "återkoppling" in str(e.value)


def test_feedback_is_stored_and_updated_by_message(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'ok.sqlite3'}")
    monkeypatch.setattr(runtime, "store", lambda settings=None: store)
    from chainlit.types import Feedback

    layer = chat_app.FeedbackDataLayer()
    store.log_answer(make_answer("answer", "Svar. [1]", n=1), channel="chat", message_id="run-1")
    asyncio.run(layer.upsert_feedback(Feedback(forId="run-1", value=1)))
    asyncio.run(layer.upsert_feedback(Feedback(forId="run-1", value=0, comment="ändrade mig")))
    logged = store.answers()[0]
    assert (logged.feedback, logged.feedback_comment) == (0, "ändrade mig")
