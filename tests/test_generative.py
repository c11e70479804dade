"""Generative mode against a real local HTTP server that speaks the OpenAI chat-completions protocol."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.pipeline import Assistant


class FakeLLM(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions like a small model that quotes passage [1] (or misbehaves on request)."""

    behaviour = "cite"
    requests: list[dict] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeLLM.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        system = body["messages"][0]["content"]
        first = re.search(r"\[1\] [^\n]*\n([^\n]+)", system).group(1)
        content = {
            "cite": f"{first.split('. ')[0].rstrip('.')}. [1] Fråga gärna din mottagning. [1]",
            "bad_marker": "Så här är det [7].",
            "no_marker": "Drick inte alkohol.",
            "not_covered": "INTE_TÄCKT",
        }.get(FakeLLM.behaviour, "")
        if FakeLLM.behaviour == "slow":
            time.sleep(3)
        if FakeLLM.behaviour == "error":
            self.send_response(500)
            self.end_headers()
            return
        payload = json.dumps({
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def llm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def generative(fixture_assistant, llm_server):
    from assistant.settings import Settings

    settings = Settings(**{**fixture_assistant.settings.model_dump(), "llm_base_url": llm_server,
                           "llm_model": "test-model", "llm_api_key": "hemligt", "llm_timeout_s": 1.0})
    FakeLLM.requests.clear()
    return Assistant(settings, index=fixture_assistant.index)


def test_generative_answer_cites_the_passages_it_was_given(generative):
    FakeLLM.behaviour = "cite"
    answer = generative.ask("får jag dricka vin när jag tar metotrexat")
    assert answer.mode == "generative" and answer.kind == "answer"
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == {c.n for c in answer.citations} == {1}
    request = FakeLLM.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["body"]["model"] == "test-model"
    assert request["auth"] == "Bearer hemligt"
    assert "metotrexat" in request["body"]["messages"][0]["content"].lower()
    assert request["body"]["messages"][1]["content"] == "får jag dricka vin när jag tar metotrexat"


@pytest.mark.parametrize("behaviour", ["bad_marker", "no_marker", "not_covered", "error", "slow"])
def test_bad_or_slow_model_falls_back_to_extractive(generative, behaviour):
    FakeLLM.behaviour = behaviour
    started = time.perf_counter()
    answer = generative.ask("får jag dricka vin när jag tar metotrexat")
    assert answer.mode == "extractive" and answer.kind == "answer" and answer.citations
    assert time.perf_counter() - started < 2.9  # the 1 s time limit held; no waiting for the slow server


def test_emergency_never_waits_for_the_model(generative):
    FakeLLM.behaviour = "slow"
    answer = generative.ask("jag har ont i bröstet och kan inte andas")
    assert answer.kind == "emergency" and not FakeLLM.requests
