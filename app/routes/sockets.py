"""Socket events. Like any handler they parse, authorise and call the runner; they hold no state
of the run. Identity comes from the cookies of the handshake (or a token in `auth` for clients
that are not browsers), and each connection joins its run's room for its audience. Each event
does its reading and rendering in one hop to a worker thread."""

from __future__ import annotations

import asyncio
import logging
from http.cookies import SimpleCookie
from typing import Any

from app import auth, i18n, screens
from app.deps import LANG_COOKIE, PARTICIPANT_COOKIE
from app.errors import Refusal
from app.house import House
from app.realtime import room
from app.runner import Sent, answer_input
from exercises.base import N_

log = logging.getLogger(__name__)


def _cookies(environ: dict[str, Any]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


def _forget(environ: dict[str, Any]) -> None:
    """What the connection's request carried and nothing needs once it is admitted or refused:
    kept, it lives as long as the socket (socket.io keeps the request's environ). The request
    body's reader is an object of a class engine.io makes for each request (about 2.5 KiB a
    phone, with the class); the cookies carry the phone's token."""
    environ.pop("wsgi.input", None)
    environ.pop("HTTP_COOKIE", None)


def _phone_locale(environ: dict[str, Any], cookies: dict[str, str], asked: object) -> str:
    """The language the phone asked for, else its language cookie, else its browser's."""
    if asked:
        return str(asked) if str(asked) in i18n.available_locales() else i18n.DEFAULT_LOCALE
    chosen = cookies.get(LANG_COOKIE)
    if chosen in i18n.available_locales():
        return str(chosen)
    return i18n.pick_locale(environ.get("HTTP_ACCEPT_LANGUAGE"))


def _refused(status: int, locale: str, message: str, **params: Any) -> dict[str, Any]:
    with i18n.use_locale(locale):
        return {"ok": False, "status": status, "error": i18n.gettext(message, **params)}


def install(house: House) -> None:
    sio = house.realtime.sio
    runner = house.runner

    def admit(data: dict[str, Any], environ: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """The connection's session and room, or None when it may not join."""
        role = data.get("role")
        cookies = _cookies(environ)
        code = str(data.get("run", ""))
        if role == "phone":
            token = str(data.get("token") or cookies.get(PARTICIPANT_COOKIE) or "")
            seat = runner.seat(code, token)  # one read: the run by code and the phone
            if seat is None:
                return None
            run_id, public_id = seat
            locale = _phone_locale(environ, cookies, data.get("locale"))
            session = {
                "role": "phone",
                "run_id": run_id,
                "token": token,
                "locale": locale,
                "public_id": public_id,
            }
            return session, room(run_id, "phones", locale)
        try:
            run = runner.run_by_code(code)
        except Refusal:
            return None
        assert run.id is not None
        if role in ("projector", "console"):
            account = house.accounts.logged_in(house.signer.loads(cookies.get(auth.LOGIN_COOKIE)))
            if account is None or run.facilitator_id != account.id:
                return None
            return {"role": role, "run_id": run.id}, room(run.id, role)
        return None

    @sio.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth_data: Any = None) -> bool:
        data = auth_data if isinstance(auth_data, dict) else {}
        try:
            admitted = await asyncio.to_thread(admit, data, environ)
            _forget(environ)
        except Exception:  # a lone surrogate in a token, say: refused, and said once
            log.warning("socket connection refused: malformed auth", exc_info=True)
            return False
        if admitted is None:
            return False
        session, joined = admitted
        await sio.save_session(sid, session)
        house.trimmer.joined()
        if session["role"] == "phone":
            run_id, locale = session["run_id"], session["locale"]
            await house.realtime.phone_entered(sid, run_id, locale, session["public_id"])
        else:
            await sio.enter_room(sid, joined)
        return True

    def screen(session: dict[str, Any], known: object) -> dict[str, Any] | None:
        """The current screen of the connection's audience, unless it shows that version."""
        if session["role"] == "phone":
            # A phone that has just loaded its page (every join) shows the current version: one
            # small read says so, instead of the phone's whole view.
            if known == runner.version_of(session["run_id"]):
                return None
            view = runner.phone_view(runner.participant(session["token"]))
            if known == view.run.version:
                return None
            html = screens.phone_html(house.env, screens.phone_screen_for(view), session["locale"])
            return {"region": "phone", "html": html, "version": view.run.version}
        run_view = runner.run_view(session["run_id"])
        if session["role"] == "projector":
            return {"region": "stage", "html": house.stage_html(run_view), "version": run_view.version}
        return {"region": "console", "html": house.console_html(run_view), "version": run_view.version}

    @sio.event  # type: ignore[untyped-decorator]
    async def sync(sid: str, data: Any = None) -> dict[str, Any] | None:
        """A (re)connected client says which version it shows; it gets the current screen, or
        `{"ok": false, ...}` when there is none for it (its session was deleted, say)."""
        session = await sio.get_session(sid)
        known = data.get("version") if isinstance(data, dict) else None
        locale = session.get("locale", i18n.DEFAULT_LOCALE)
        try:
            return await asyncio.to_thread(screen, session, known)
        except Refusal as exc:
            log.warning("socket sync refused (%s)", exc.status_code, extra={"run_id": session.get("run_id")})
            return _refused(exc.status_code, locale, exc.message, **exc.params)
        except Exception:
            log.exception("sync failed", extra={"run_id": session.get("run_id")})
            return _refused(
                500, locale, N_("Something went wrong on our side. Please try again in a moment.")
            )

    def sent(session: dict[str, Any], data: object) -> Sent:
        if (
            session.get("role") != "phone"
            or not isinstance(data, dict)
            or not isinstance(data.get("fields"), dict)
        ):
            raise Refusal(
                N_("The form was incomplete or malformed (%(fields)s). Reload the page and try again."),
                fields="fields",
            )
        parsed = answer_input({**data["fields"], "step": data.get("step", ""), "key": data.get("key", "")})
        return Sent(token=session["token"], step_id=parsed.step_id, fields=parsed.fields, key=parsed.key)

    @sio.event  # type: ignore[untyped-decorator]
    async def answer(sid: str, data: Any = None) -> dict[str, Any]:
        """A phone sends an answer with an acknowledgement: {step, key, fields: {...}}. Every
        answer gets one: `{"ok": true, ...}`, or `{"ok": false, "status", "error"}`."""
        session = await sio.get_session(sid)
        locale = session.get("locale", i18n.DEFAULT_LOCALE)
        try:
            stored = await house.answers.submit(sent(session, data))
            return {"ok": True, "created": stored.created, "version": stored.version}
        except Refusal as exc:
            if exc.status_code == 400:  # malformed, not a person's slip: once in the log
                log.warning("socket answer refused as malformed", extra={"run_id": session.get("run_id")})
            return _refused(exc.status_code, locale, exc.message, **exc.params)
        except Exception:
            log.exception("answer failed", extra={"run_id": session.get("run_id")})
            return _refused(
                500, locale, N_("Something went wrong on our side. Please try again in a moment.")
            )
