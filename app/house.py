"""The House: everything one server process holds. Settings, the engine, the flows and exercises,
the runner and the services beside it, realtime, templates. It holds no state of any run: that
lives in the database. Routes reach the runner and the services through it, never the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import segno
from markupsafe import Markup

from app import auth, screens
from app.batcher import Batcher
from app.config import Settings
from app.db import make_engine
from app.exports import Exports
from app.flow_copies import FlowCopies
from app.flows import load_flows
from app.memory import Trimmer
from app.models import Run
from app.posters.build import Posters
from app.program import Program
from app.ratelimits import Limits
from app.realtime import PHONE_KINDS, Prepared, Push, Realtime, phone_room, room
from app.results_links import ResultsLinks
from app.runner import MAX_BURST, Runner, Sent, Stored
from app.teams import Teams
from app.templating import make_env
from app.views import Reader, RunView
from exercises import build_registry


class House:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = build_registry()
        self.flows = load_flows(settings.sessions_dir, self.registry)
        self.engine = make_engine(settings.resolved_database_url)
        self.realtime = Realtime(
            settings.redis_url,
            settings.coalesce_seconds,
            settings.redis_channel,
            public_url=settings.resolved_public_url,
        )
        self.runner = Runner(self.engine, self.flows, self.registry, self.realtime, settings.min_group_size)
        # The phones' socket answers: a burst is stored in one transaction, each acked after it.
        self.answers: Batcher[Sent, Stored] = Batcher(self.runner.store_burst, max_items=MAX_BURST)
        self.accounts = auth.Accounts(self.engine)
        self.trimmer = Trimmer()  # gives the pages a join storm freed back to the system
        self.teams = Teams(self.engine)
        self.flow_copies = FlowCopies(self.engine, self.registry, self.flows)
        self.results_links = ResultsLinks(self.engine)
        reader = Reader(self.registry, settings.min_group_size)
        self.exports = Exports(self.engine, reader)
        self.posters = Posters(self.engine, reader)
        self.program = Program(self.engine, reader, settings.min_group_size)
        self.env = make_env(self.registry)
        self.signer = auth.CookieSigner(settings.resolved_secret_key)
        self.limits = Limits(
            settings.redis_url,
            settings.redis_channel,
            enabled=settings.rate_limits,
            joins_per_minute=settings.joins_per_minute,
            max_participants=settings.max_participants,
        )
        self._qr: dict[str, Markup] = {}
        self._drawn: dict[int, tuple[int, str, str]] = {}  # run id -> version, stage, console

    def join_url(self, code: str) -> str:
        return f"{self.settings.resolved_public_url}/j/{code}"

    def qr_svg(self, code: str) -> Markup:
        """The join URL as an inline SVG QR code; the URL is ours (base URL and a join code).
        Drawn once per code: it depends on nothing else."""
        found = self._qr.get(code)
        if found is None:
            qr = segno.make(self.join_url(code), error="m", micro=False)
            svg: str = qr.svg_inline(scale=10, border=2, dark="#111", light="#fff", omitsize=True)
            found = Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))
            if len(self._qr) >= 1024:
                self._qr.clear()
            self._qr[code] = found
        return found

    def stage_html(self, view: RunView) -> str:
        code = view.run.code
        return screens.stage_html(self.env, view, join_url=self.join_url(code), qr_svg=self.qr_svg(code))

    def console_html(self, view: RunView) -> str:
        return screens.console_html(self.env, view, join_url=self.join_url(view.run.code))

    async def render_pushes(
        self, run_id: int, kinds: frozenset[str], locales: frozenset[str], prepared: Prepared | None
    ) -> AsyncIterator[Push]:
        """The realtime layer's callback: one render per audience, the phones' first (read on
        their own, once per language a connected phone uses), off the event loop. The phones'
        pushes come as `prepared` in the committing thread, where they cover every language."""
        if locales and kinds & PHONE_KINDS:
            if prepared is not None and locales <= prepared.locales:
                phones = prepared.pushes
            else:
                phones = await asyncio.to_thread(self.phone_pushes, run_id, kinds, locales)
            for push in phones:
                yield push
        version, stage, console = await asyncio.to_thread(self._tovholder_screens, run_id)
        yield Push(room(run_id, "projector"), "stage", stage, version)
        yield Push(room(run_id, "console"), "console", console, version)

    def _tovholder_screens(self, run_id: int) -> tuple[int, str, str]:
        """The projector's stage and the console, read and drawn in one hop; kept as the run's
        last drawn screens for the control that made the change (region_html)."""
        view = self.runner.run_view(run_id)
        stage, console = self.stage_html(view), self.console_html(view)
        if len(self._drawn) >= 512:
            self._drawn.clear()
        self._drawn[run_id] = (view.version, stage, console)
        return view.version, stage, console

    def region_html(self, run_id: int, region: str, reuse: bool) -> str:
        """The stage or the console as the run is now. With `reuse` (nothing of the run waited
        to be pushed: Realtime.quiet), the last push's, if the run's version is still the one it
        was drawn at (one small read); else drawn afresh."""
        drawn = self._drawn.get(run_id) if reuse else None
        if drawn is not None and drawn[0] == self.runner.version_of(run_id):
            return drawn[1] if region == "stage" else drawn[2]
        view = self.runner.run_view(run_id)
        return self.stage_html(view) if region == "stage" else self.console_html(view)

    def phone_pushes(
        self, run_id: int, kinds: frozenset[str], locales: frozenset[str], run: Run | None = None
    ) -> list[Push]:
        """The phones' pushes of a change, read and drawn in one hop; `run`: as just committed."""
        run, flow, current = self.runner.open_step(run_id, run)
        assert run.id is not None
        pushes: list[Push] = []
        if "step" in kinds or (current is not None and not current.takes_answers):
            # A fresh screen (nobody has answered here): drawn once per audience and language.
            fresh = screens.phone_screens_broadcast(run, flow, current)
            for locale in sorted(locales):
                for ids, html in screens.broadcast_html(self.env, fresh, locale):
                    to = (
                        room(run.id, "phones", locale)
                        if ids is None
                        else [phone_room(run.id, locale, p) for p in ids]
                    )
                    pushes.append(Push(to, "phone", html, run.version))
        else:
            # The tovholder changed an open step people answer (a new statement draft): each phone
            # asks for its own screen, which keeps what it has already sent.
            for locale in sorted(locales):
                pushes.append(Push(room(run.id, "phones", locale), "sync", "", run.version))
        return pushes
