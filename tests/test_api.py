"""The HTTP API against the real server process: Answer records, Swedish 400s, concurrency, logging."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from assistant.store import Store

from .server import fixture_server


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedding_cache):
    with fixture_server(tmp_path_factory, embedding_cache, "api-server") as running:
        yield running


def test_health_reports_the_index(server):
    url, _ = server
    health = httpx.get(f"{url}/api/health").json()
    assert health["status"] == "ok" and health["texts"] == 3 and health["passages"] == 6
    assert health["mode"] == "extractive" and len(health["knowledge_version"]) == 16


def test_ask_returns_the_answer_record_and_logs_it_redacted(server):
    url, data_dir = server
    r = httpx.post(f"{url}/api/ask", json={"question": "får jag dricka vin med mtx? ring mig 070-123 45 67"},
                   timeout=30)
    assert r.status_code == 200
    record = r.json()
    assert record["kind"] == "answer" and record["citations"][0]["text_id"] == "metotrexat"
    assert {c["n"] for c in record["citations"]} == {int(n) for n in re.findall(r"\[(\d+)\]", record["answer"])}
    logged = Store(f"sqlite:///{data_dir / 'kunskapsstod.sqlite3'}").answers(limit=50)
    mine = [a for a in logged if "mtx" in a.record.question]
    assert mine and "070" not in mine[0].record.question and "[telefonnummer]" in mine[0].record.question


@pytest.mark.parametrize("body", [
    b"", b"inte json", b'{"fraga": "hej"}', b'{"question": 12}', b'{"question": ""}', b'{"question": "   "}',
    b'["question"]', ('{"question": "' + "a" * 20000 + '"}').encode(), b'{"question": "\\u0000\\u0001"}',
])
def test_bad_input_gives_400_with_swedish_detail(server, body):
    url, _ = server
    r = httpx.post(f"{url}/api/ask", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert isinstance(detail, str) and re.search(r"fråga|Fältet|JSON|Frågan|Skriv", detail)


def test_thirty_concurrent_requests_all_succeed_without_mixing(server):
    url, _ = server
    questions = ["hur ofta tar jag metotrexat", "vilka vaccin behöver jag", "kan jag träna under ett skov"] * 10
    expected = {"hur ofta tar jag metotrexat": "metotrexat", "vilka vaccin behöver jag": "vaccin",
                "kan jag träna under ett skov": "traning"}

    async def run():
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*[client.post(f"{url}/api/ask", json={"question": q}) for q in questions])

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 30
    for q, r in zip(questions, responses):
        record = r.json()
        assert record["question"] == q and record["citations"][0]["text_id"] == expected[q]


def test_emergency_over_the_api_puts_112_first(server):
    url, _ = server
    record = httpx.post(f"{url}/api/ask", json={"question": "min pappa har ont i bröstet och kan inte andas"},
                        timeout=30).json()
    assert record["kind"] == "emergency" and record["answer"].lstrip("*").startswith("Ring 112")
