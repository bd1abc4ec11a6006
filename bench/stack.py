"""The stack's floor: what a join and a step change cost on Tovholder's fixed stack, done plainly.

The floor (bench/baseline.py) is bare python-socketio: its join is a socket connect, its step
one SQLite row and an emit. Tovholder's join and step also go through FastAPI, SQLModel and
Jinja, which the brief fixes. This server does the same work as Tovholder's join and step with
those parts, used the plain way their documentation shows, and nothing of Tovholder's own: so
the distance between it and the floor is the stack's, and the distance between Tovholder and
it is Tovholder's code.

- `GET /j/<code>`: the room read by code (a SQLModel session), a join page drawn by Jinja with a
  CSRF token (meta tag and cookie), as Tovholder's.
- `POST /j/<code>` (FastAPI form: name, unit, csrf_token): the token checked against the
  cookie, the phone's row added and committed, its page drawn; a `tov_p` cookie.
- socket `connect` with auth {role, run, token}: the phone's row read on a thread, the room
  entered; `sync` answers with the screen drawn by Jinja. auth {room, role} enters as the
  floor's phones do (the projector of an answer burst).
- `POST /emit` {room, size, version} (a pydantic body): the room's version stored through a
  SQLModel session on a thread, the phones' screen drawn by Jinja, emitted to the room.
- `POST /room` {room}: makes the room.

    python -m bench.stack --port P --db FILE [--threads N]
"""

# No `from __future__ import annotations` here: FastAPI reads the routes' annotations at run
# time, and `Db` below is local to `api()`, where a string annotation would not resolve.
import argparse
import asyncio
import gc
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
import socketio
import uvicorn
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import DictLoader, Environment, select_autoescape
from pydantic import BaseModel
from sqlalchemy import event
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from bench.baseline import Floor
from bench.limits import raise_open_files

UNITS = ("Home care", "Day centre", "Kitchen", "Office")
TEMPLATES = {
    "base.html": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{ csrf }}"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main class="phone">{% block main %}{% endblock %}</main>
<script src="/static/htmx.min.js" defer></script><script src="/static/phone.js" defer></script>
</body></html>""",
    "join.html": """{% extends "base.html" %}{% block main %}
<h1>Join {{ room.code }}</h1><form method="post" action="/j/{{ room.code }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<label>Your first name <input name="name" maxlength="40" autocomplete="given-name"></label>
<fieldset><legend>Your unit</legend>{% for unit in units %}
<label><input type="radio" name="unit" value="{{ unit }}"> {{ unit }}</label>{% endfor %}
</fieldset><button type="submit">Join</button></form>{% endblock %}""",
    "screen.html": """<section class="screen" data-version="{{ version }}">
<h2>{{ title }}</h2><p>{{ body }}</p></section>""",
    "phone.html": """{% extends "base.html" %}{% block main %}
<div id="screen">{% include "screen.html" %}</div>{% endblock %}""",
}


class Room(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    version: int = 0


class Phone(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="room.id", index=True)
    token: str = Field(index=True, unique=True, max_length=64)
    name: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=80)


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # as Tovholder's (and the floor's)


class Emit(BaseModel):
    room: str
    size: int
    version: int


class Made(BaseModel):
    room: str


class Stack(Floor):
    def __init__(self, db_path: str, coalesce: float) -> None:
        super().__init__(db_path, coalesce)
        self.engine = create_engine(
            f"sqlite:///{db_path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self.engine, "connect", _pragmas)
        SQLModel.metadata.create_all(self.engine)
        self.env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))
        self.version = 0

    def body(self) -> str:
        """A screen's text, so that the screen drawn around it is the size last emitted."""
        return "x" * max(0, self.screen_size - 80)

    def screen(self, version: int) -> str:
        return self.env.get_template("screen.html").render(title="A step", body=self.body(), version=version)

    def db(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        if not isinstance(auth, dict) or "token" not in auth:
            return await super().connect(sid, environ, auth)
        token = str(auth["token"])

        def seat() -> str | None:
            with Session(self.engine) as session:
                found = session.exec(
                    select(Room.code)
                    .join(Phone, col(Phone.room_id) == col(Room.id))
                    .where(Phone.token == token)
                ).first()
                return found

        code = await asyncio.to_thread(seat)
        if code is None:
            return False
        await self.sio.save_session(sid, {"room": code, "role": "phone"})
        await self.sio.enter_room(sid, f"{code}:phone")
        return True

    async def sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        return {"region": "phone", "html": self.screen(self.version), "version": self.version}

    def api(self, threads: int) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            if threads:
                anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            yield

        api = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
        Db = Annotated[Session, Depends(self.db)]

        def room_of(db: Session, code: str) -> Room:
            room = db.exec(select(Room).where(Room.code == code)).first()
            if room is None:
                raise HTTPException(404, "no such room")
            return room

        def page(name: str, csrf: str, **context: Any) -> HTMLResponse:
            html = self.env.get_template(name).render(csrf=csrf, **context)
            response = HTMLResponse(html)
            response.set_cookie("csrf", csrf, httponly=True, samesite="lax")
            return response

        @api.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @api.post("/room")
        def make_room(made: Made, db: Db) -> dict[str, str]:
            if db.exec(select(Room).where(Room.code == made.room)).first() is None:
                db.add(Room(code=made.room))
                db.commit()
            return {"room": made.room}

        @api.get("/j/{code}")
        def join_page(code: str, db: Db) -> HTMLResponse:
            room = room_of(db, code)
            return page("join.html", secrets.token_urlsafe(32), room=room, units=UNITS, title="Join")

        @api.post("/j/{code}")
        def join(
            request: Request,
            code: str,
            db: Db,
            csrf_token: Annotated[str, Form()],
            name: Annotated[str, Form(max_length=200)] = "",
            unit: Annotated[str, Form(max_length=200)] = "",
        ) -> HTMLResponse:
            if not secrets.compare_digest(csrf_token, request.cookies.get("csrf", "")):
                raise HTTPException(403, "bad csrf token")
            room = room_of(db, code)
            phone = Phone(room_id=room.id or 0, token=secrets.token_urlsafe(32), name=name, unit=unit)
            db.add(phone)
            db.commit()
            response = page("phone.html", csrf_token, title="A step", version=room.version, body=self.body())
            response.set_cookie("tov_p", phone.token, httponly=True, samesite="lax")
            return response

        @api.post("/emit")
        async def emit(step: Emit) -> dict[str, int]:
            self.screen_size = step.size

            def store() -> None:
                with Session(self.engine) as session:
                    room = room_of(session, step.room)
                    room.version = step.version
                    session.add(room)
                    session.commit()

            await run_in_threadpool(store)
            self.version = step.version
            html = self.screen(step.version)
            await self.sio.emit(
                "screen",
                {"region": "phone", "html": html, "version": step.version},
                room=f"{step.room}:phone",
            )
            return {"version": step.version}

        @api.post("/reset")
        async def reset() -> dict[str, bool]:
            self.counts.clear()
            return {"ok": True}

        return api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--coalesce", type=float, default=0.25)
    parser.add_argument("--threads", type=int, default=0, help="FastAPI's thread pool; 0: its default")
    args = parser.parse_args()
    raise_open_files()
    stack = Stack(args.db, args.coalesce)
    app = socketio.ASGIApp(stack.sio, other_asgi_app=stack.api(args.threads), socketio_path="socket.io")
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
