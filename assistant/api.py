"""The HTTP API (DESIGN.md): POST /api/ask, GET /api/health. Served in the same process as the chat."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from . import runtime
from .intake import BadQuestion
from .store import StoreError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api")
MAX_BODY = 64 * 1024


def _bad(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=400)


@router.post("/ask")
async def ask(request: Request) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        return _bad("Förfrågan är för stor. Skicka en kortare fråga.")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _bad('Skicka JSON i formen {"question": "din fråga"}.')
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        return _bad('Fältet "question" saknas eller är inte text. Skicka {"question": "din fråga"}.')
    assistant = runtime.assistant()
    try:
        answer = await run_in_threadpool(assistant.ask, data["question"])
    except BadQuestion as e:
        return _bad(str(e))
    try:
        await run_in_threadpool(runtime.store().log_answer, answer, channel="api")
    except StoreError:
        log.exception("kunde inte logga svaret")
    return JSONResponse(answer.model_dump())


@router.get("/health")
async def health() -> dict:
    a = runtime.assistant()
    texts = len({p.text_id for p in a.index.passages})
    return {"status": "ok", "knowledge_version": a.knowledge_version, "texts": texts,
            "passages": len(a.index.passages), "mode": a.mode}
