"""The command line, in-process, for every input mode: argument, --json, --jsonl on stdin."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from assistant.cli import EXIT_INPUT, EXIT_KNOWLEDGE, EXIT_OK, main

from .conftest import FIXTURE_KNOWLEDGE


@pytest.fixture
def cli_env(monkeypatch, make_settings):
    settings = make_settings()  # makes the data dir with the shared embedding cache
    monkeypatch.setenv("KUNSKAPSSTOD_KNOWLEDGE_DIR", str(FIXTURE_KNOWLEDGE))
    monkeypatch.setenv("KUNSKAPSSTOD_DATA_DIR", str(settings.data_dir))
    return settings


def feed_stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_index_prints_a_summary(cli_env, capsys):
    assert main(["index", "--quiet"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Texter: 3" in out and "Stycken: 6" in out and "gammal.md" in out and re.search(r"Tid: [\d.]+ s", out)


def test_ask_builds_the_index_when_needed_and_prints_citations(cli_env, capsys):
    assert main(["ask", "får jag dricka vin med mtx"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "[1]" in out and "metotrexat#alkohol-och-metotrexat" in out


def test_ask_json_prints_one_answer_record(cli_env, capsys):
    assert main(["ask", "--json", "hur ofta tar jag metotrexat"]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["kind"] == "answer" and record["mode"] == "extractive"
    assert {c["n"] for c in record["citations"]} == {int(n) for n in re.findall(r"\[(\d+)\]", record["answer"])}


@pytest.mark.parametrize("question", ["", "   \t ", "x" * 20000, "\x00\x07\x1b", "🙂🙂🙂"])
def test_ask_bad_input_gives_a_swedish_message_and_exit_2(cli_env, capsys, question):
    assert main(["ask", question]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err
    assert re.search(r"fråga|Frågan|ord", err)


def test_ask_json_bad_input_is_still_json(cli_env, capsys):
    assert main(["ask", "--json", ""]) == EXIT_INPUT
    assert "error" in json.loads(capsys.readouterr().out)


def test_ask_jsonl_answers_each_line_in_order_and_survives_bad_lines(cli_env, capsys, monkeypatch):
    lines = [
        "hur ofta tar jag metotrexat".encode(),
        b"",
        b"\xff\xfe\xfa binary",
        json.dumps({"question": "vilka vaccin behöver jag"}, ensure_ascii=False).encode(),
        ("x" * 20000).encode(),
        "Jag har ont i bröstet och kan inte andas".encode(),
    ]
    feed_stdin(monkeypatch, b"\n".join(lines) + b"\n")
    assert main(["ask", "--jsonl"]) == EXIT_OK
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == len(lines)
    assert records[0]["kind"] == "answer" and records[0]["citations"][0]["text_id"] == "metotrexat"
    assert records[1] == {"line": 2, "error": records[1]["error"]} and records[1]["error"]
    assert records[2].get("kind") in ("no_answer", "out_of_scope") or "error" in records[2]
    assert records[3]["citations"][0]["text_id"] == "vaccin"
    assert records[4]["line"] == 5 and "lång" in records[4]["error"]
    assert records[5]["kind"] == "emergency" and records[5]["answer"].lstrip("*").startswith("Ring 112")


def test_knowledge_check_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUNSKAPSSTOD_KNOWLEDGE_DIR", str(FIXTURE_KNOWLEDGE))
    assert main(["knowledge", "check"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "VARNING gammal.md" in out and "3 godkända texter" in out
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "trasig.md").write_text("---\nid: trasig\n---\n", encoding="utf-8")
    monkeypatch.setenv("KUNSKAPSSTOD_KNOWLEDGE_DIR", str(bad))
    assert main(["knowledge", "check"]) == EXIT_KNOWLEDGE
    assert "FEL trasig.md" in capsys.readouterr().out


def test_ask_without_question_explains_usage(cli_env, capsys):
    assert main(["ask"]) == EXIT_INPUT
    assert "kunskapsstod ask" in capsys.readouterr().err
