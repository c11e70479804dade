"""One process serving the HTTP API (/api/...) and the Chainlit chat (/), per DESIGN.md."""

from __future__ import annotations

import os
from pathlib import Path

from .settings import Settings

CHAT_UI_DIR = Path(__file__).parent / "chat_ui"


def create_app(settings: Settings):
    # Chainlit reads its config, translations and public files from its app root at import time.
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(CHAT_UI_DIR))
    from chainlit.utils import mount_chainlit
    from fastapi import FastAPI

    from . import runtime
    from .api import router

    runtime.use_settings(settings)
    app = FastAPI(title="Kunskapsstöd RA", docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.include_router(router)

    @app.on_event("startup")
    def warm() -> None:
        runtime.assistant().warm()

    mount_chainlit(app=app, target=str(Path(__file__).with_name("chat_app.py")), path="/")
    return app


def serve(settings: Settings) -> int:
    import uvicorn

    app = create_app(settings)
    print(f"Kunskapsstöd RA: http://{settings.host}:{settings.port}/", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
