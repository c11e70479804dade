"""Turn raw input (text or bytes) into a clean question, or refuse it with a clear Swedish message."""

from __future__ import annotations

import re

from .errors import KunskapsstodError
from .swedish import normalize


class BadQuestion(KunskapsstodError):
    """The input cannot be treated as a question; `str(e)` is a Swedish message for the person."""


def clean_question(raw: str | bytes | None, max_chars: int = 2000) -> str:
    if raw is None:
        raise BadQuestion("Skriv en fråga, så försöker jag svara utifrån de godkända texterna.")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        raise BadQuestion("Frågan måste vara text.")
    if len(raw) > 4 * max_chars:  # do not even normalise huge input
        raise BadQuestion(f"Frågan är för lång ({len(raw)} tecken). Skriv en kortare fråga, högst "
                          f"{max_chars} tecken, så svarar jag.")
    text = normalize(raw.replace("\ufffd", " "))
    if not text:
        raise BadQuestion("Skriv en fråga, så försöker jag svara utifrån de godkända texterna.")
    if len(text) > max_chars:
        raise BadQuestion(f"Frågan är för lång ({len(text)} tecken). Skriv en kortare fråga, högst "
                          f"{max_chars} tecken, så svarar jag.")
    if not re.search(r"[^\W\d_]", text):
        raise BadQuestion("Jag hittar inga ord i det du skrev. Skriv din fråga med ord, på svenska eller "
                          "engelska.")
    return text
