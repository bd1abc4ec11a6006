"""CSRF (double-submit cookie), security headers and CSP, payload caps, simple rate limits."""

from __future__ import annotations

import hmac
import html
import secrets
import threading
import time
from collections import deque

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from exercises.base import N_

CSRF_COOKIE = "tov_csrf"
# Paths that take a larger body than the default cap: a flow file in five languages is ~100 KiB.
LARGER_BODIES = {"/flows/import": 640 * 1024}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class CsrfError(Exception):
    pass


class PayloadTooLarge(Exception):
    pass


def csrf_token(request: Request) -> str:
    """This browser's token (set as a cookie by the middleware on its first visit)."""
    token = request.cookies.get(CSRF_COOKIE) or request.scope.get("tovholder.csrf")
    if not token:
        token = secrets.token_urlsafe(24)
    request.scope["tovholder.csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """A write must carry the cookie's token in the header (htmx) or the form (plain HTML)."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise CsrfError


class SecurityMiddleware:
    """Headers on every response, the CSRF cookie, and a cap on request bodies."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, secure_cookies: bool = False) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        language = headers.get(b"accept-language", b"").decode("latin-1")
        htmx = headers.get(b"hx-request", b"").lower() == b"true"
        cap = LARGER_BODIES.get(scope.get("path", ""), self.max_body_bytes)
        if length is not None and length.isdigit() and int(length) > cap:
            await _too_large(send, language, htmx)
            return
        received = 0
        over_cap = False  # a body without Content-Length went over the cap while being read
        answered = False

        async def capped_receive() -> Message:
            nonlocal received, over_cap
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over_cap = True
                    raise PayloadTooLarge
            return message

        has_cookie = CSRF_COOKIE.encode() + b"=" in headers.get(b"cookie", b"")

        async def send_with_headers(message: Message) -> None:
            nonlocal answered
            if over_cap:
                # FastAPI turns an error while it reads Form() fields into a 400 "error parsing the
                # body"; whatever the app answers to a body it could not read, the answer is 413.
                if not answered:
                    answered = True
                    await _too_large(send, language, htmx)
                return
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("content-security-policy", CSP)
                h.setdefault("x-content-type-options", "nosniff")
                h.setdefault("referrer-policy", "same-origin")
                h.setdefault("x-frame-options", "DENY")
                h.setdefault("permissions-policy", "camera=(), microphone=(), geolocation=()")
                token = scope.get("tovholder.csrf")
                if token and not has_cookie:
                    secure = "; Secure" if self.secure else ""
                    h.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={token}; Path=/; SameSite=Lax; HttpOnly{secure}",
                    )
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except PayloadTooLarge:
            if not answered:
                await _too_large(send, language, htmx)


async def _too_large(send: Send, accept_language: str, htmx: bool = False) -> None:
    with i18n.use_locale(i18n.pick_locale(accept_language)):
        text = i18n.gettext(N_("That was too much at once: the request is over the size limit."))
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if htmx:
        # Like every error fragment (routes/errors.py): into #flash, never over the screen.
        text = f'<div class="alert" role="alert">{html.escape(text)}</div>'
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"hx-retarget", b"#flash"),
            (b"hx-reswap", b"innerHTML"),
        ]
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A sliding window per key (an IP address with an action). In memory: each worker keeps its
    own; it slows guessing of join codes and passwords, it is not an accounting. Handlers in the
    thread pool share it, hence the lock."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return False
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            return len(hits) >= self.limit

    def record(self, key: str) -> None:
        """Count one failure (a wrong code, a wrong password)."""
        now = time.monotonic()
        with self._lock:
            self._hits.setdefault(key, deque()).append(now)
            if len(self._hits) > 10_000:
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
