"""Process-wide handles shared by the HTTP API and the chat: one Assistant and one Store per settings.
These are caches (built on first use). The server names its settings once with `use_settings`;
otherwise they come from the environment."""

from __future__ import annotations

from functools import lru_cache

from .pipeline import Assistant
from .settings import Settings, get_settings
from .store import Store


@lru_cache(maxsize=2)
def assistant(settings: Settings | None = None) -> Assistant:
    return Assistant(settings or current_settings())


@lru_cache(maxsize=2)
def store(settings: Settings | None = None) -> Store:
    s = settings or current_settings()
    return Store(s.sqlite_url)


_chosen: list[Settings] = []


def use_settings(settings: Settings) -> None:
    """Serve these settings (called once by the server before the first request)."""
    _chosen[:] = [settings]


def current_settings() -> Settings:
    return _chosen[0] if _chosen else get_settings()
