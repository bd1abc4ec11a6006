"""CSRF (a token tied to the login, else a double-submit cookie, and our own origin only), security
headers and CSP on every reply, payload caps."""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from exercises.base import N_

CSRF_COOKIE = "tov_csrf"
# Paths that take a larger body than the default cap: a flow file in five languages is ~100 KiB.
LARGER_BODIES = {"/flows/import": 640 * 1024}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

HSTS = "max-age=31536000; includeSubDomains"
# The CSRF token of the request's login (from the login cookie), set by the middleware.
LOGIN_CSRF = "tovholder.login_csrf"
ORIGINS = "tovholder.origins"

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
    """This browser's token: its login's, when it has one; else the one of its `tov_csrf`
    cookie (set by the middleware on its first visit)."""
    login = request.scope.get(LOGIN_CSRF)
    if login:
        return str(login)
    token = request.cookies.get(CSRF_COOKIE) or request.scope.get("tovholder.csrf")
    if not token:
        token = secrets.token_urlsafe(24)
    request.scope["tovholder.csrf"] = token
    return str(token)


def new_csrf_cookie(response: Response, secure: bool) -> None:
    """A fresh `tov_csrf` (at login and logout): a token planted before is worth nothing after."""
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(24), path="/", samesite="lax", httponly=True, secure=secure
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(origin: str, scheme: str, host: str, public: Iterable[str]) -> bool:
    """A browser's Origin is ours: the public URL's, or the address the request came to."""
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    origin = origin.lower()
    return origin in public or (bool(host) and origin == f"{scheme}://{host}".lower())


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:  # not a browser, or an old one: the token decides
        return True
    public = request.scope.get(ORIGINS, ())
    return origin_allowed(origin, request.url.scheme, request.headers.get("host", ""), public)


async def check_csrf(request: Request) -> None:
    """A write comes from our own pages: not from another origin (Origin, Sec-Fetch-Site), and
    it carries its token in the header (htmx) or the form (plain HTML)."""
    if request.method in SAFE_METHODS:
        return
    if not _same_origin(request):
        raise CsrfError
    expected = request.scope.get(LOGIN_CSRF) or request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfError


def security_headers(hsts: bool) -> list[tuple[str, str]]:
    headers = [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ]
    return [*headers, ("strict-transport-security", HSTS)] if hsts else headers


class SecurityMiddleware:
    """Headers on every response, the CSRF cookie (and the login's token), and a cap on request
    bodies. `login_csrf` gives the CSRF token of the login in a request's cookies, if any;
    `public_url` is the origin whose pages may write, besides the address a request came to."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        secure_cookies: bool = False,
        hsts: bool = False,
        public_url: str = "",
        login_csrf: Callable[[dict[str, str]], str | None] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.secure = secure_cookies
        self.headers = security_headers(hsts)
        self.origins = (origin_of(public_url),) if public_url else ()
        self.login_csrf = login_csrf

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
            await _too_large(send, language, self.headers, htmx)
            return
        scope[ORIGINS] = self.origins
        if self.login_csrf is not None:
            cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
            scope[LOGIN_CSRF] = self.login_csrf(cookies)
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
                    await _too_large(send, language, self.headers, htmx)
                return
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                for name, value in self.headers:
                    h.setdefault(name, value)
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
                await _too_large(send, language, self.headers, htmx)


async def _too_large(
    send: Send, accept_language: str, security: list[tuple[str, str]], htmx: bool = False
) -> None:
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
            "headers": [
                *headers,
                *((name.encode(), value.encode()) for name, value in security),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
