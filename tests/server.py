"""Start the real `kunskapsstod chat` process on a free port for API and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from .conftest import FIXTURE_KNOWLEDGE, PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float) -> bool:
    """Poll `url` until it answers 200; False if the process died or time ran out."""
    deadline = time.time() + seconds
    while proc.poll() is None and time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


@contextmanager
def fixture_server(tmp_path_factory, embedding_cache, name: str):
    """The chat server over the fixture corpus, in a fresh data dir sharing the session's embedding cache.
    Yields (base url, data dir)."""
    data_dir = tmp_path_factory.mktemp(name)
    (data_dir / "cache").symlink_to(embedding_cache, target_is_directory=True)
    with running_server(data_dir) as url:
        yield url, data_dir


@contextmanager
def running_server(data_dir: Path, knowledge_dir: Path = FIXTURE_KNOWLEDGE, **env: str):
    port = free_port()
    log = open(data_dir / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "chat"], cwd=str(data_dir), stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "KUNSKAPSSTOD_KNOWLEDGE_DIR": str(knowledge_dir),
             "KUNSKAPSSTOD_DATA_DIR": str(data_dir), "KUNSKAPSSTOD_PORT": str(port), **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(f"{url}/api/health", proc, 120):
            raise RuntimeError("servern startade inte:\n" + (data_dir / "server.log").read_text())
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
