"""Scaled-out mode: the index in a `chroma run` server instead of the embedded store."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.index import build_index
from assistant.pipeline import Assistant

from .server import free_port, wait_until_up

CHROMA = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not Path(CHROMA).exists():
        pytest.skip("the chroma command is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_until_up(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, 60):
        proc.kill()
        pytest.fail("chroma run did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_index_and_answer_through_a_chroma_server(make_settings, knowledge_copy, chroma_server):
    settings = make_settings(knowledge_copy, chroma_host="127.0.0.1", chroma_port=chroma_server)
    first = build_index(settings)
    answer = Assistant(settings).ask("kan man dricka vin när man tar metotrexat")
    assert answer.kind == "answer" and answer.citations[0].text_id == "metotrexat"
    # A rebuild swaps collections on the server and removes the ones no build uses any more.
    build_index(settings)
    build_index(settings)
    import chromadb

    names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=chroma_server).list_collections()}
    assert len(names) == 2 and f"kunskapsstod-{first.build_id}"[:63] not in names
