"""create_app(): FastAPI plus the python-socketio ASGI app, the lifespan, the middleware."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import segno
import socketio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from app import auth, screens
from app.config import ROOT, Settings
from app.db import make_engine
from app.exports import Exports
from app.flows import load_flows
from app.posters.build import Posters
from app.realtime import Push, Realtime, room
from app.runner import Runner
from app.security import SecurityMiddleware
from app.templating import ASSETS, exercise_assets, make_env
from app.views import Reader
from exercises import build_registry

log = logging.getLogger(__name__)


class Tovholder:
    """Everything one server process holds: settings, engine, flows, runner, realtime, templates.
    It holds no state of any run: that lives in the database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = build_registry()
        self.flows = load_flows(settings.sessions_dir, self.registry)
        self.engine = make_engine(settings.resolved_database_url)
        self.realtime = Realtime(settings.redis_url, settings.coalesce_seconds, settings.redis_channel)
        self.runner = Runner(self.engine, self.flows, self.registry, self.realtime, settings.min_group_size)
        reader = Reader(self.registry, settings.min_group_size)
        self.exports = Exports(self.engine, reader)
        self.posters = Posters(self.engine, reader)
        self.env = make_env(self.registry)
        self.signer = auth.CookieSigner(settings.resolved_secret_key)

    def join_url(self, code: str) -> str:
        return f"{self.settings.resolved_public_url}/j/{code}"

    def qr_svg(self, code: str) -> Markup:
        """The join URL as an inline SVG QR code; the URL is ours (base URL and a join code)."""
        qr = segno.make(self.join_url(code), error="m", micro=False)
        svg: str = qr.svg_inline(scale=10, border=2, dark="#111", light="#fff", omitsize=True)
        return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))

    async def render_pushes(self, run_id: int, kinds: frozenset[str]) -> list[Push]:
        """The realtime layer's callback: one render per audience (phones once per language)."""
        view = await asyncio.to_thread(self.runner.run_view, run_id)
        code = view.run.code
        pushes = [
            Push(
                room(run_id, "projector"),
                "stage",
                screens.stage_html(self.env, view, join_url=self.join_url(code), qr_svg=self.qr_svg(code)),
                view.version,
            ),
            Push(
                room(run_id, "console"),
                "console",
                screens.console_html(self.env, view, join_url=self.join_url(code)),
                view.version,
            ),
        ]
        if "step" in kinds:
            screen = screens.phone_screen_broadcast(view)
            for locale in self.phone_locales():
                pushes.append(
                    Push(
                        room(run_id, "phones", locale),
                        "phone",
                        screens.phone_html(self.env, screen, locale),
                        view.version,
                    )
                )
        elif "action" in kinds:
            # The tovholder changed the open step (a new statement draft, groups): each phone asks
            # for its own screen, which keeps what it has already sent.
            for locale in self.phone_locales():
                pushes.append(Push(room(run_id, "phones", locale), "sync", "", view.version))
        return pushes

    def phone_locales(self) -> tuple[str, ...]:
        from app.i18n import available_locales

        return available_locales()


def create_app(settings: Settings | None = None) -> Any:
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    house = Tovholder(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        house.realtime.start(house.render_pushes)
        expired = await asyncio.to_thread(house.runner.delete_expired, settings.retention_days)
        if expired:
            log.info("deleted %d sessions past the retention period", expired)
        token = await asyncio.to_thread(auth.issue_setup_token, house.engine)
        if token:
            url = f"{settings.resolved_public_url}/setup/{token}"
            # Printed, not only logged: the first person at the console needs to see it.
            print(f"\n  No tovholder account yet. Create the first one here:\n  {url}\n", flush=True)  # noqa: T201
        yield
        await house.realtime.idle()
        house.engine.dispose()

    api = FastAPI(title="Tovholder", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    api.state.house = house
    api.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    api.mount(ASSETS, exercise_assets(house.registry), name="exercises")

    from app.routes import (
        errors,
        exports,
        facilitator,
        flows,
        guide,
        participant,
        posters,
        projector,
        results,
        sockets,
    )

    errors.install(api)
    # flows before facilitator: its POST /runs/{id}/edit must win over the /runs/{id}/{action} controls.
    for module in (participant, flows, guide, facilitator, projector, results, exports, posters):
        api.include_router(module.router)
    sockets.install(house)

    api.add_middleware(
        SecurityMiddleware, max_body_bytes=settings.max_body_bytes, secure_cookies=settings.secure_cookies
    )
    return socketio.ASGIApp(house.realtime.sio, other_asgi_app=api, socketio_path="socket.io")
