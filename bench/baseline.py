"""The floor: a bare python-socketio + uvicorn server with the same socket settings as Tovholder's.

- `POST /emit` {room, size, version}: commits one row to SQLite (WAL, on a thread, as Tovholder
  stores before it sends), then emits a `screen` of `size` bytes to the room. The floor for a
  step change.
- socket `connect` with auth {room}: enters the room; `sync` answers with a screen of the size
  last emitted. The floor for a join's socket half.
- socket `answer`: commits one row (one transaction, on a thread) and acknowledges; the room's
  projector gets a coalesced count. The floor for an answer.

    python -m bench.baseline --port P --db FILE [--coalesce 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import threading
import time
from typing import Any

import socketio
import uvicorn

from bench.limits import raise_open_files

SCREEN = "<div>" + "x" * 2000 + "</div>"


class Floor:
    def __init__(self, db_path: str, coalesce: float) -> None:
        self.db_path = db_path
        self.coalesce = coalesce
        self.local = threading.local()
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            transports=["websocket"],
            cors_allowed_origins=[],
            ping_interval=20,
            ping_timeout=20,
            max_http_buffer_size=64 * 1024,
        )
        self.screen_size = len(SCREEN)
        self.stage_size = 4000
        self.counts: dict[str, int] = {}
        self.flushing: set[str] = set()
        self.sio.on("connect", self.connect)
        self.sio.on("sync", self.sync)
        self.sio.on("answer", self.answer)
        with sqlite3.connect(db_path) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS row (id INTEGER PRIMARY KEY, room TEXT, body TEXT, at REAL)"
            )

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            self.local.db = db
        return db

    def _commit_row(self, room: str, body: str) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO row (room, body, at) VALUES (?, ?, ?)", (room, body, time.time()))
        db.execute("COMMIT")

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        room = str((auth or {}).get("room", "")) if isinstance(auth, dict) else ""
        if not room:
            return False
        role = str(auth.get("role", "phone"))
        await self.sio.save_session(sid, {"room": room, "role": role})
        await self.sio.enter_room(sid, f"{room}:{role}")
        return True

    async def sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        return {"region": "phone", "html": "x" * self.screen_size, "version": 0}

    async def answer(self, sid: str, data: Any = None) -> dict[str, Any]:
        session = await self.sio.get_session(sid)
        room = session["room"]
        await asyncio.to_thread(self._commit_row, room, json.dumps(data)[:2000])
        self.counts[room] = self.counts.get(room, 0) + 1
        if room not in self.flushing:
            self.flushing.add(room)
            asyncio.get_running_loop().call_later(self.coalesce, self._flush, room)
        return {"ok": True, "created": True}

    def _flush(self, room: str) -> None:
        self.flushing.discard(room)
        count = self.counts.get(room, 0)
        html = f'<span class="stage__tally">{count} answers</span>'.ljust(self.stage_size)
        asyncio.get_running_loop().create_task(
            self.sio.emit("screen", {"region": "stage", "html": html, "version": 0}, room=f"{room}:projector")
        )

    async def http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, reply = 404, b"{}"
        if scope["path"] == "/healthz":
            status, reply = 200, b'{"status":"ok"}'
        elif scope["path"] == "/emit" and scope["method"] == "POST":
            data = json.loads(body)
            room, size, version = str(data["room"]), int(data["size"]), int(data["version"])
            self.screen_size = size
            self.stage_size = int(data.get("stage_size", self.stage_size))
            html = "x" * size
            await asyncio.to_thread(self._commit_row, room, f"step {version}")
            await self.sio.emit(
                "screen", {"region": "phone", "html": html, "version": version}, room=f"{room}:phone"
            )
            status, reply = 200, json.dumps({"version": version}).encode()
        elif scope["path"] == "/reset" and scope["method"] == "POST":
            self.counts.clear()
            status = 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": reply})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--coalesce", type=float, default=0.25)
    args = parser.parse_args()
    raise_open_files()
    floor = Floor(args.db, args.coalesce)
    app = socketio.ASGIApp(floor.sio, other_asgi_app=floor.http, socketio_path="socket.io")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
