"""Redact personal data before anything is logged: personnummer / samordningsnummer (10 or 12 digits,
with or without - or +), phone numbers, e-mail addresses and street addresses. Patients are anonymous
and are never asked for any of this."""

from __future__ import annotations

import re

PLACEHOLDERS = {
    "personnummer": "[personnummer]",
    "email": "[e-post]",
    "phone": "[telefonnummer]",
    "address": "[adress]",
}

_PNR = re.compile(r"(?<![\d-])(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]|[6-8]\d|9[01])[-+ ]?\d{4}(?![\d-])")
_MOBILE = re.compile(r"(?<![\d-])07\d[-\s]?\d{3}[-\s]?\d{2}[-\s]?\d{2}(?![\d-])")  # before personnummer
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Swedish numbers: 07x-xxx xx xx, 08-123 45 67, 013-12 34 56, +46 70 123 45 67, 0046…; 7–10 digits after
# the leading 0 / country code, with spaces or hyphens between groups.
_PHONE = re.compile(r"(?<![\w+])(?:\+46|0046|0)[\s-]?\(?0?\)?\d{1,3}(?:[\s-]?\d){5,8}(?!\d)")
_STREET_WORDS = (r"(?:gatan|vägen|gränd|gränden|torget|backen|allén|allé|stigen|leden|plan|platsen|"
                 r"esplanaden|kajen|promenaden|gata|väg|road|street|avenue|lane)")
_ADDRESS = re.compile(
    rf"\b[A-ZÅÄÖ]?[a-zåäöé]+{_STREET_WORDS}\s+\d{{1,4}}[A-Za-z]?\b"
    rf"|\b[A-ZÅÄÖ][a-zåäöé]+\s+{_STREET_WORDS}\s+\d{{1,4}}[A-Za-z]?\b"
    r"|\b\d{3}\s?\d{2}\s+[A-ZÅÄÖ][a-zåäö]+\b",  # postnummer + ort
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """The text with personal data replaced by placeholders like [personnummer]."""
    if not text:
        return text
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _MOBILE.sub(PLACEHOLDERS["phone"], text)
    text = _PNR.sub(PLACEHOLDERS["personnummer"], text)
    text = _PHONE.sub(PLACEHOLDERS["phone"], text)
    text = _ADDRESS.sub(PLACEHOLDERS["address"], text)
    return text
