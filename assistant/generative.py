"""Generative answers from an OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama's /v1), through
LangChain's chat-model integration. Used only when `KUNSKAPSSTOD_LLM_BASE_URL` is set.

The model sees only the retrieved passages and must cite them as [n]. Its output is checked: an answer
with no markers, a marker that names no passage, a "not covered" reply, a time-out or any server error
returns None, and the caller falls back to the extractive answer."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from .answer import citation
from .records import Citation, Hit
from .settings import Settings
from .templates import render

log = logging.getLogger(__name__)
NOT_COVERED = "INTE_TÄCKT"
MARKER = re.compile(r"\[(\d+)\]")
MAX_PASSAGES = 4


@dataclass(frozen=True)
class Generated:
    text: str
    citations: list[Citation]


class Generator:
    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        self.model = ChatOpenAI(
            base_url=settings.llm_base_url, model=settings.llm_model or "default",
            api_key=settings.llm_api_key or "not-needed", timeout=settings.llm_timeout_s, max_retries=0,
            temperature=0.0, max_tokens=400,
        )

    def answer(self, question: str, hits: list[Hit]) -> Generated | None:
        hits = hits[:MAX_PASSAGES]
        passages = "\n\n".join(f"[{n}] {h.passage.title} – {h.passage.section}\n{h.passage.text}"
                               for n, h in enumerate(hits, start=1))
        messages = [("system", render("generative_system", passages=passages)), ("human", question)]
        try:
            reply = self.model.invoke(messages)
        except Exception as e:  # noqa: BLE001 - any server fault falls back to extractive
            log.warning("LLM-anropet misslyckades, använder extraktivt svar: %s", e)
            return None
        text = str(reply.content).strip()
        return self.check(text, hits)

    @staticmethod
    def check(text: str, hits: list[Hit]) -> Generated | None:
        """Accept the model's text only if it cites, and every marker names a given passage."""
        if not text or NOT_COVERED in text:
            return None
        used = [int(n) for n in MARKER.findall(text)]
        if not used or any(not 1 <= n <= len(hits) for n in used):
            log.warning("LLM-svaret saknar giltiga hänvisningar; använder extraktivt svar")
            return None
        # Renumber in order of first use so markers read [1], [2], … and match the citations.
        order = list(dict.fromkeys(used))
        renumber = {old: new for new, old in enumerate(order, start=1)}
        text = MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text)
        return Generated(text, [citation(renumber[old], hits[old - 1].passage) for old in order])
