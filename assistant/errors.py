"""The few exceptions this package raises on purpose. They are turned into Swedish messages only at the
edges (CLI, HTTP API, chat).

    KunskapsstodError
    ├── KnowledgeError      a knowledge file cannot be used (carries file, line, field)
    ├── IndexMissingError   no built index exists yet
    └── EmbedderError       the configured embedder cannot be loaded
"""

from __future__ import annotations


class KunskapsstodError(Exception):
    """Base class for errors a person can act on."""


class KnowledgeError(KunskapsstodError):
    def __init__(self, message: str, *, file: str, line: int | None = None, field: str | None = None):
        self.message, self.file, self.line, self.field = message, file, line, field
        where = file + (f":{line}" if line else "") + (f" [{field}]" if field else "")
        super().__init__(f"{where}: {message}")


class IndexMissingError(KunskapsstodError):
    pass


class EmbedderError(KunskapsstodError):
    pass
