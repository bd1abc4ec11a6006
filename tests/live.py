"""Async helpers for live tests: phones and screens as real HTTP and socket.io clients."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

from tests.harness import PASSWORD, POOL, csrf_of


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def version_of(html: str) -> int:
    match = re.search(r'data-version="(\d+)"', html)
    assert match, "fragment has no data-version"
    return int(match.group(1))


@dataclass
class Screen:
    """A socket client in one audience; keeps the newest screen it was sent."""

    base_url: str
    role: str
    code: str
    cookies: dict[str, str]
    html: str = ""
    version: int = 0
    received: list[int] = field(default_factory=list)
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))

    async def connect(self, **auth: Any) -> None:
        @self.sio.on("screen")  # type: ignore[misc]
        async def _screen(payload: dict[str, Any]) -> None:
            self.received.append(payload["version"])
            if payload["region"] == "sync":  # as the page's script does: ask for this phone's screen
                synced = await self.sio.call("sync", {"version": -1}, timeout=15)
                if synced and synced["version"] >= self.version:
                    self.version, self.html = synced["version"], synced["html"]
            elif payload["version"] >= self.version:
                self.version, self.html = payload["version"], payload["html"]

        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        await self.sio.connect(
            self.base_url,
            headers={"Cookie": cookie},
            transports=["websocket"],
            wait_timeout=15,  # the default (1 s) is shorter than a busy CI machine needs
            auth={"role": self.role, "run": self.code, **auth},
        )
        synced = await self.sio.call("sync", {"version": 0}, timeout=10)
        if synced:
            self.version, self.html = synced["version"], synced["html"]

    async def close(self) -> None:
        await self.sio.disconnect()


class Tovholder:
    """A logged-in tovholder's browser; `http` is an app's in-process client (else a real one)."""

    def __init__(self, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=30, limits=POOL)

    async def login(self, email: str = "t@example.org") -> None:
        page = await self.http.get("/login")
        token = csrf_of(page.text)
        r = await self.http.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303, r.text
        self.http.headers["X-CSRF-Token"] = csrf_of((await self.http.get("/dashboard")).text)
        self.http.headers["HX-Request"] = "true"

    async def start(self, flow: str = "reflection", locale: str = "en") -> tuple[int, str]:
        r = await self.http.post("/runs", data={"flow": flow, "locale": locale})
        assert r.status_code == 303, r.text
        run_id = int(r.headers["location"].split("/")[2])
        console = await self.http.get(f"/runs/{run_id}/console")
        code = re.search(r'data-run="([A-Z0-9]+)"', console.text)
        assert code
        return run_id, code.group(1)

    async def control(self, run_id: int, action: str, **data: Any) -> httpx.Response:
        return await self.http.post(f"/runs/{run_id}/{action}", data=data)

    @property
    def cookies(self) -> dict[str, str]:
        return dict(self.http.cookies.items())


class Phone:
    def __init__(self, base_url: str, code: str, name: str | None = None, unit: str | None = None) -> None:
        self.code = code
        self.name = name
        self.unit = unit
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30, limits=POOL)
        self.screen: Screen | None = None
        self.csrf = ""

    async def join(self) -> None:
        page = await self.http.get(f"/j/{self.code}")
        assert page.status_code == 200, page.text
        self.csrf = csrf_of(page.text)
        data = {"name": self.name or "", "unit": self.unit or "", "csrf_token": self.csrf}
        r = await self.http.post(f"/j/{self.code}", data=data)
        assert r.status_code == 200, r.text  # the phone's page
        self.screen = Screen(
            str(self.http.base_url).rstrip("/"), "phone", self.code, dict(self.http.cookies.items())
        )
        await self.screen.connect()

    async def answer_by_socket(
        self, step: str, fields: dict[str, Any], key: str | None = None
    ) -> dict[str, Any]:
        assert self.screen is not None
        payload = {"step": step, "key": key or secrets.token_urlsafe(16), "fields": fields}
        ack: dict[str, Any] = await self.screen.sio.call("answer", payload, timeout=20)
        ack["key"] = payload["key"]
        return ack

    async def answer_by_http(
        self, step: str, fields: dict[str, Any], key: str | None = None
    ) -> httpx.Response:
        data = {"step": step, "key": key or secrets.token_urlsafe(16), **fields}
        return await self.http.post(
            f"/p/{self.code}/answer", data=data, headers={"X-CSRF-Token": self.csrf, "HX-Request": "true"}
        )

    async def close(self) -> None:
        if self.screen:
            await self.screen.close()
        await self.http.aclose()
