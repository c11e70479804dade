"""Swedish reply templates from prompts/ (versioned with the code), filled with string.Template."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

from .settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@lru_cache(maxsize=64)
def _read(name: str, prompts_dir: Path) -> str:
    return (prompts_dir / name).read_text(encoding="utf-8").strip()


def render(name: str, prompts_dir: Path = PROMPTS_DIR, **values: str) -> str:
    """Render prompts/<name>.md; `$examples` defaults to what the assistant can help with."""
    values.setdefault("examples", help_examples(prompts_dir))
    return Template(_read(f"{name}.md", prompts_dir)).safe_substitute(values)


def help_examples(prompts_dir: Path = PROMPTS_DIR, n: int = 4) -> str:
    items = [line.strip() for line in _read("examples.txt", prompts_dir).splitlines() if line.strip()][:n]
    return ", ".join(items[:-1]) + " eller " + items[-1] if len(items) > 1 else "".join(items)
