"""create_app(): FastAPI plus the python-socketio ASGI app, the lifespan, the middleware."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import socketio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from app import auth
from app.config import ROOT, Settings
from app.house import House
from app.routes import (
    changes,
    console,
    errors,
    exports,
    facilitator,
    flows,
    guide,
    participant,
    posters,
    results,
    sockets,
    teams,
)
from app.security import SecurityMiddleware
from app.templating import ASSETS, exercise_assets

log = logging.getLogger(__name__)


def _start_up(house: House) -> str | None:
    """Sweep the sessions past the retention period and the logins that have ended; the setup
    token when there is no account."""
    expired = house.runner.delete_expired(house.settings.retention_days)
    if expired:
        log.info("deleted %d sessions past the retention period", expired)
    house.accounts.forget_ended_logins()
    return house.accounts.issue_setup_token()


def create_app(settings: Settings | None = None) -> Any:
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    house = House(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The pool FastAPI runs the plain (def) routes in: 40 threads by default, which under a
        # join storm take turns at Python's lock and cost a fifth more CPU a join than 4 do.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        house.realtime.start(house.render_pushes, house.phone_pushes)
        trimming = asyncio.create_task(house.trimmer.run())
        token = await asyncio.to_thread(_start_up, house)
        if token:
            url = f"{settings.resolved_public_url}/setup/{token}"
            # Printed, not only logged: the first person at the console needs to see it.
            print(f"\n  No tovholder account yet. Create the first one here:\n  {url}\n", flush=True)  # noqa: T201
        yield
        trimming.cancel()
        await house.realtime.idle()
        house.engine.dispose()

    api = FastAPI(title="Tovholder", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    api.state.house = house
    # Static files go gzipped to a browser that takes it (pages do not: they carry the CSRF token).
    api.mount("/static", GZipMiddleware(StaticFiles(directory=ROOT / "static")), name="static")
    api.mount(ASSETS, GZipMiddleware(exercise_assets(house.registry)), name="exercises")
    errors.install(api)
    # Every address is literal but for its parameters, so no two routes can take the same request
    # and the order here does not matter to what answers (tests/test_architecture.py holds that).
    # It matters to how long finding it takes: routes are tried one by one, so the controls, which
    # a phone waits behind at every step, come first.
    routers = (console, participant, changes, facilitator, flows, guide, results, exports, posters, teams)
    for module in routers:
        api.include_router(module.router)
    sockets.install(house)

    api.add_middleware(
        SecurityMiddleware,
        max_body_bytes=settings.max_body_bytes,
        secure_cookies=settings.cookies_secure,
        hsts=settings.https,
        public_url=settings.resolved_public_url,
        login_csrf=lambda cookies: house.signer.csrf_for(cookies.get(auth.LOGIN_COOKIE)),
    )
    return socketio.ASGIApp(house.realtime.sio, other_asgi_app=api, socketio_path="socket.io")
