"""Socket events. Like any handler they parse, authorise and call the runner; they hold no state
of the run. Identity comes from the cookies of the handshake (or a token in `auth` for clients
that are not browsers), and each connection joins its run's room for its audience."""

from __future__ import annotations

import asyncio
import logging
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from app import auth, i18n, screens
from app.codes import normalise_code
from app.deps import PARTICIPANT_COOKIE
from app.realtime import room
from app.routes.participant import MAX_FIELDS
from app.runner import RunnerError

if TYPE_CHECKING:
    from app.main import Tovholder

log = logging.getLogger(__name__)


def _cookies(environ: dict[str, Any]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


def _phone_locale(environ: dict[str, Any], cookies: dict[str, str]) -> str:
    chosen = cookies.get("tov_lang")
    if chosen in i18n.available_locales():
        return str(chosen)
    return i18n.pick_locale(environ.get("HTTP_ACCEPT_LANGUAGE"))


def install(house: Tovholder) -> None:
    sio = house.realtime.sio
    runner = house.runner

    @sio.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth_data: Any = None) -> bool:
        data = auth_data if isinstance(auth_data, dict) else {}
        role = data.get("role")
        code = normalise_code(str(data.get("run", "")))
        cookies = _cookies(environ)
        try:
            run = await asyncio.to_thread(runner.run_by_code, code)
        except RunnerError:
            return False
        assert run.id is not None
        if role in ("projector", "console"):
            account = house.signer.loads(cookies.get(auth.LOGIN_COOKIE))
            if account is None or run.facilitator_id not in (None, account):
                return False
            await sio.save_session(sid, {"role": role, "run_id": run.id})
            await sio.enter_room(sid, room(run.id, role))
            return True
        if role == "phone":
            token = str(data.get("token") or cookies.get(PARTICIPANT_COOKIE) or "")
            try:
                participant = await asyncio.to_thread(runner.participant, token)
            except RunnerError:
                return False
            if participant.run_id != run.id:
                return False
            locale = str(data.get("locale") or _phone_locale(environ, cookies))
            if locale not in i18n.available_locales():
                locale = i18n.DEFAULT_LOCALE
            await sio.save_session(sid, {"role": "phone", "run_id": run.id, "token": token, "locale": locale})
            await sio.enter_room(sid, room(run.id, "phones", locale))
            return True
        return False

    @sio.event  # type: ignore[untyped-decorator]
    async def sync(sid: str, data: Any = None) -> dict[str, Any] | None:
        """A (re)connected client says which version it shows; it gets the current screen."""
        session = await sio.get_session(sid)
        known = data.get("version") if isinstance(data, dict) else None
        if session["role"] == "phone":
            participant = await asyncio.to_thread(runner.participant, session["token"])
            view = await asyncio.to_thread(runner.phone_view, participant)
            if known == view.run.version:
                return None
            html = screens.phone_html(house.env, screens.phone_screen_for(view), session["locale"])
            return {"region": "phone", "html": html, "version": view.run.version}
        run_view = await asyncio.to_thread(runner.run_view, session["run_id"])
        code = run_view.run.code
        if session["role"] == "projector":
            html = screens.stage_html(
                house.env, run_view, join_url=house.join_url(code), qr_svg=house.qr_svg(code)
            )
            return {"region": "stage", "html": html, "version": run_view.version}
        html = screens.console_html(house.env, run_view, join_url=house.join_url(code))
        return {"region": "console", "html": html, "version": run_view.version}

    @sio.event  # type: ignore[untyped-decorator]
    async def answer(sid: str, data: Any = None) -> dict[str, Any]:
        """A phone sends an answer with an acknowledgement: {step, key, fields: {...}}."""
        session = await sio.get_session(sid)
        if session.get("role") != "phone" or not isinstance(data, dict):
            return {"ok": False, "status": 400, "error": "malformed"}
        fields = data.get("fields")
        if not isinstance(fields, dict) or len(fields) > MAX_FIELDS:
            return {"ok": False, "status": 400, "error": "malformed"}
        fields = {str(k): v for k, v in fields.items() if isinstance(v, str | int)}
        try:
            result = await asyncio.to_thread(
                runner.submit_answer,
                session["token"],
                str(data.get("step", "")),
                fields,
                str(data.get("key", "")),
            )
        except RunnerError as exc:
            with i18n.use_locale(session["locale"]):
                message = i18n.gettext(exc.message)
            return {
                "ok": False,
                "status": exc.status_code,
                "error": message % exc.params if exc.params else message,
            }
        return {"ok": True, "created": result.created, "version": result.view.run.version}
