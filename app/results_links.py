"""Read-only links to a run's results: `/r/<token>`, for a team that was in the room. The token is
32 random bytes; only its SHA-256 is stored, so the address is shown once, when it is made."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.db import session_scope
from app.models import ResultsLink, utcnow

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything else is not one of ours, without a lookup.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class ResultsLinks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, run_id: int) -> tuple[ResultsLink, str]:
        """A new link for the run and its token (the only time the token is known)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = ResultsLink(run_id=run_id, token_hash=hash_token(token))
        with session_scope(self.engine) as db:
            db.add(link)
            db.commit()
            db.refresh(link)
        return link, token

    def active(self, run_id: int) -> list[ResultsLink]:
        """The run's links that still work, the newest first."""
        with session_scope(self.engine) as db:
            return list(
                db.exec(
                    select(ResultsLink)
                    .where(ResultsLink.run_id == run_id, col(ResultsLink.revoked_at).is_(None))
                    .order_by(col(ResultsLink.id).desc())
                ).all()
            )

    def revoke(self, run_id: int, link_id: int) -> bool:
        """Revoke one of the run's links; False when the run has no such link. Revoking twice
        keeps the first time."""
        with session_scope(self.engine) as db:
            link = db.get(ResultsLink, link_id)
            if link is None or link.run_id != run_id:
                return False
            if link.revoked_at is None:
                link.revoked_at = utcnow()
                db.add(link)
                db.commit()
            return True

    def run_for(self, token: str) -> int | None:
        """The run a token opens, or None: unknown, malformed or revoked."""
        if not TOKEN_SHAPE.match(token):
            return None
        with session_scope(self.engine) as db:
            query = select(ResultsLink).where(ResultsLink.token_hash == hash_token(token))
            link = db.exec(query).first()
        if link is None or link.revoked_at is not None:
            return None
        return link.run_id
