"""'Frågor till mitt besök': the list of questions a patient saves in the chat, as a Markdown file."""

from __future__ import annotations

import datetime as dt


def visit_markdown(questions: list[str], today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    lines = [f"# Frågor till mitt besök", "", f"Sparade {today.isoformat()} i Kunskapsstöd RA.", ""]
    lines += [f"{i}. {q}" for i, q in enumerate(questions, start=1)]
    lines += ["", "Ta med listan till besöket, eller klistra in den i din vårdplan på 1177.", ""]
    return "\n".join(lines)
