"""The conversation log: every question and its Answer record (PII-redacted), feedback on answers,
and the visit-question lists patients collect. SQLite by default (`KUNSKAPSSTOD_DATABASE_URL`).

Reviews and panel ratings build on these tables. Writes are short transactions; a failed write raises
StoreError, which the edges turn into a Swedish message while the chat goes on."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .errors import KunskapsstodError
from .privacy import redact
from .records import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    session_id TEXT,
    message_id TEXT,
    channel TEXT NOT NULL,
    question TEXT NOT NULL,
    kind TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    mode TEXT NOT NULL,
    knowledge_version TEXT NOT NULL,
    timings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_message ON answers(message_id);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    message_id TEXT NOT NULL,
    answer_id TEXT,
    value INTEGER NOT NULL,
    comment TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS feedback_message ON feedback(message_id);
CREATE TABLE IF NOT EXISTS visit_questions (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    session_id TEXT NOT NULL,
    question TEXT NOT NULL
);
"""


class StoreError(KunskapsstodError):
    pass


@dataclass(frozen=True)
class LoggedAnswer:
    id: str
    created_at: float
    session_id: str | None
    message_id: str | None
    channel: str
    record: Answer
    feedback: int | None = None
    feedback_comment: str | None = None


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise StoreError(f"bara SQLite stöds ännu (sqlite:///sökväg), inte {url.split(':')[0]}")
    return Path(url[len("sqlite:///"):])


class Store:
    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def _write(self, sql: str, params: tuple) -> None:
        try:
            with self._lock, self._db:
                self._db.execute(sql, params)
        except sqlite3.Error as e:
            raise StoreError(f"kunde inte spara i databasen: {e}") from e

    def log_answer(self, answer: Answer, *, channel: str, session_id: str | None = None,
                   message_id: str | None = None) -> str:
        """Store a question and its answer; the question is redacted first. Returns the log id."""
        answer_id = uuid.uuid4().hex
        self._write(
            "INSERT INTO answers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (answer_id, time.time(), session_id, message_id, channel, redact(answer.question), answer.kind,
             redact(answer.answer), json.dumps([c.model_dump() for c in answer.citations], ensure_ascii=False),
             answer.mode, answer.knowledge_version, json.dumps(answer.timings_ms)),
        )
        return answer_id

    def set_message_id(self, answer_id: str, message_id: str) -> None:
        self._write("UPDATE answers SET message_id=? WHERE id=?", (message_id, answer_id))

    def upsert_feedback(self, message_id: str, value: int, comment: str | None = None) -> str:
        row = self._db.execute("SELECT id FROM answers WHERE message_id=?", (message_id,)).fetchone()
        feedback_id = uuid.uuid4().hex
        self._write(
            "INSERT INTO feedback VALUES (?,?,?,?,?,?) ON CONFLICT(message_id) DO UPDATE SET "
            "value=excluded.value, comment=excluded.comment, created_at=excluded.created_at",
            (feedback_id, time.time(), message_id, row[0] if row else None, int(value),
             redact(comment) if comment else None),
        )
        return feedback_id

    def delete_feedback(self, message_id: str) -> None:
        self._write("DELETE FROM feedback WHERE message_id=? OR id=?", (message_id, message_id))

    def add_visit_question(self, session_id: str, question: str) -> None:
        self._write("INSERT INTO visit_questions VALUES (?,?,?,?)",
                    (uuid.uuid4().hex, time.time(), session_id, redact(question)))

    def visit_questions(self, session_id: str) -> list[str]:
        rows = self._db.execute("SELECT question FROM visit_questions WHERE session_id=? ORDER BY created_at",
                                (session_id,)).fetchall()
        return [r[0] for r in rows]

    def answers(self, limit: int = 100, offset: int = 0) -> list[LoggedAnswer]:
        rows = self._db.execute(
            "SELECT a.id, a.created_at, a.session_id, a.message_id, a.channel, a.question, a.kind, a.answer, "
            "a.citations, a.mode, a.knowledge_version, a.timings, f.value, f.comment FROM answers a "
            "LEFT JOIN feedback f ON f.message_id = a.message_id ORDER BY a.created_at DESC LIMIT ? OFFSET ?",
            (limit, offset)).fetchall()
        return [LoggedAnswer(
            id=r[0], created_at=r[1], session_id=r[2], message_id=r[3], channel=r[4],
            record=Answer(question=r[5], kind=r[6], answer=r[7], citations=json.loads(r[8]), mode=r[9],
                          knowledge_version=r[10], timings_ms=json.loads(r[11])),
            feedback=r[12], feedback_comment=r[13]) for r in rows]
