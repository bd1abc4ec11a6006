"""Tovholder accounts: scrypt password hashes, logins the server keeps (and can end) behind a signed
cookie, the CSRF token of a login, the first-start setup link."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from app.db import reading, session_scope
from app.models import Facilitator, Login, Run, SetupToken, Team, utcnow

log = logging.getLogger(__name__)

LOGIN_COOKIE = "tov_auth"
LOGIN_MAX_AGE = 14 * 24 * 3600
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A message a person can act on (an English msgid)."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=8, p=1)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


# A valid hash of nothing, so a login with an unknown email costs the same time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _checked(email: str, name: str, password: str) -> tuple[str, str]:
    email = email.strip().lower()
    name = " ".join(name.split()) or email.split("@")[0]
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError("Please give a valid email address.")
    if len(name) > 120:
        raise AccountError("A name is at most 120 characters.")
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise AccountError("A password has at least 10 characters.")
    return email, name


class CookieSigner:
    """The login cookie: a login's token, signed. And the CSRF token of a login, derived from it,
    so a token planted in a cookie by another page never matches."""

    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="tovholder-login")
        self._csrf_key = hashlib.sha256(b"tovholder-csrf:" + secret.encode()).digest()
        # Cookies whose signature held: their login token, CSRF token and signing time. A
        # tovholder's request checked the same cookie twice (its CSRF token, then its login),
        # 0.1 ms each in process; a signature that held for a value holds for it again, and the
        # age is checked on every use as itsdangerous checks it.
        self._held: dict[str, tuple[str, str, float]] = {}

    def dumps(self, login_token: str) -> str:
        return self._s.dumps({"l": login_token})

    def _verified(self, value: str | None) -> tuple[str, str] | None:
        """(login token, CSRF token) of a cookie whose signature holds and is not too old."""
        if not value:
            return None
        held = self._held.get(value)
        if held is None:
            try:
                data, signed = self._s.loads(value, max_age=LOGIN_MAX_AGE, return_timestamp=True)
            except BadSignature:
                return None
            token = data.get("l") if isinstance(data, dict) else None
            if not isinstance(token, str):
                return None
            digest = hmac.new(self._csrf_key, token.encode(), hashlib.sha256).digest()
            held = (token, base64.urlsafe_b64encode(digest).decode().rstrip("="), signed.timestamp())
            if len(self._held) >= 1024:
                self._held.clear()
            self._held[value] = held
        if time.time() - held[2] > LOGIN_MAX_AGE:
            return None
        return held[0], held[1]

    def loads(self, value: str | None) -> str | None:
        """The login token in a cookie whose signature holds, else None."""
        verified = self._verified(value)
        return verified[0] if verified else None

    def csrf_for(self, cookie: str | None) -> str | None:
        """The CSRF token of the login in this cookie (None without a login)."""
        verified = self._verified(cookie)
        return verified[1] if verified else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The login of a token, if it has not ended: neither ended by the server nor too old.
_LOGIN_LIVE = (
    Login.token_hash == bindparam("token_hash"),
    col(Login.revoked_at).is_(None),
    col(Login.created_at) > bindparam("oldest"),
)
# Built once: every tovholder request runs it (see app/views.py on statements built once).
_LOGGED_IN = (
    select(Facilitator).join(Login, col(Login.facilitator_id) == col(Facilitator.id)).where(*_LOGIN_LIVE)
)
# Whose login it is, and whose session: a control's check in one read (Accounts.controls).
_CONTROLS = select(
    select(Login.facilitator_id).where(*_LOGIN_LIVE).scalar_subquery(), Run.facilitator_id
).where(Run.id == bindparam("run_id"))


class Accounts:
    """The tovholders' accounts and the first-start setup link."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read_engine = reading(engine)  # a login's check waits for no writer

    def count(self) -> int:
        with session_scope(self.engine) as db:
            return int(db.exec(select(func.count()).select_from(Facilitator)).one())

    def get(self, account_id: int) -> Facilitator | None:
        with session_scope(self.engine) as db:
            return db.get(Facilitator, account_id)

    def find(self, email: str | None = None) -> Facilitator | None:
        """The account with this email; without one, the first account made."""
        query = select(Facilitator).order_by(col(Facilitator.id))
        if email is not None:
            query = query.where(Facilitator.email == email.strip().lower())
        with session_scope(self.engine) as db:
            return db.exec(query).first()

    def create(self, email: str, name: str, password: str) -> Facilitator:
        email, name = _checked(email, name, password)
        if self.find(email) is not None:
            raise AccountError("An account with this email exists already.")
        account = Facilitator(email=email, name=name, password_hash=hash_password(password))
        with session_scope(self.engine) as db:
            first = not db.exec(select(func.count()).select_from(Facilitator)).one()
            db.add(account)
            db.flush()
            if first:
                _adopt_ownerless(db, account)
            db.commit()
            db.refresh(account)
        log.info("account created", extra={"facilitator_id": account.id})
        return account

    # --- logins ---------------------------------------------------------------------------------

    def start_login(self, account_id: int) -> str:
        """A new login of this account: its token, for the signed cookie."""
        token = secrets.token_urlsafe(32)
        with session_scope(self.engine) as db:
            db.add(Login(token_hash=_token_hash(token), facilitator_id=account_id))
            db.commit()
        return token

    def logged_in(self, token: str | None) -> Facilitator | None:
        """The account of a login that has not ended (logged out, revoked or too old)."""
        if not token:
            return None
        oldest = utcnow() - timedelta(seconds=LOGIN_MAX_AGE)
        with session_scope(self.read_engine) as db:
            return db.exec(_LOGGED_IN, params={"token_hash": _token_hash(token), "oldest": oldest}).first()

    def controls(self, token: str | None, run_id: int) -> bool | None:
        """Whether the login of `token` may control the session `run_id`: None when there is no
        login that has not ended, else whether the session is that tovholder's (a session that
        does not exist is nobody's). One read, on a connection without an ORM session: it comes
        before every control, on the way to the phones' push."""
        if not token:
            return None
        oldest = utcnow() - timedelta(seconds=LOGIN_MAX_AGE)
        with self.read_engine.connect() as conn:
            row = conn.execute(
                _CONTROLS, {"token_hash": _token_hash(token), "oldest": oldest, "run_id": run_id}
            ).first()
        if row is None:  # no such session: still, a browser without a login is sent to log in
            return None if self.logged_in(token) is None else False
        who, owner = row
        return None if who is None else who == owner

    def end_login(self, token: str | None) -> None:
        if not token:
            return
        with session_scope(self.engine) as db:
            db.execute(
                update(Login)
                .where(col(Login.token_hash) == _token_hash(token), col(Login.revoked_at).is_(None))
                .values(revoked_at=utcnow())
            )
            db.commit()

    def forget_ended_logins(self) -> int:
        """Delete the logins that ended (logged out, revoked) or ran out; how many."""
        oldest = utcnow() - timedelta(seconds=LOGIN_MAX_AGE)
        with session_scope(self.engine) as db:
            gone = db.execute(
                delete(Login).where(or_(col(Login.revoked_at).is_not(None), col(Login.created_at) < oldest))
            )
            db.commit()
        return int(gone.rowcount)  # type: ignore[attr-defined]

    def end_all_logins(self, account_id: int) -> int:
        """End every login of the account; how many there were."""
        with session_scope(self.engine) as db:
            ended = db.execute(
                update(Login)
                .where(col(Login.facilitator_id) == account_id, col(Login.revoked_at).is_(None))
                .values(revoked_at=utcnow())
            )
            db.commit()
        count = int(ended.rowcount)  # type: ignore[attr-defined]
        log.info("logins ended", extra={"facilitator_id": account_id, "count": count})
        return count

    def change_password(self, account_id: int, password: str) -> None:
        """A new password; every login of the account ends."""
        if len(password) < MIN_PASSWORD or len(password) > 1024:
            raise AccountError("A password has at least 10 characters.")
        with session_scope(self.engine) as db:
            account = db.get(Facilitator, account_id)
            if account is None:
                raise AccountError("There is no such account.")
            account.password_hash = hash_password(password)
            db.add(account)
            db.commit()
        self.end_all_logins(account_id)

    def authenticate(self, email: str, password: str) -> Facilitator | None:
        account = self.find(email)
        if account is None:
            verify_password(password, _DUMMY_HASH)
            return None
        return account if verify_password(password, account.password_hash) else None

    def issue_setup_token(self) -> str | None:
        """When no account exists, a one-time token for the setup link; None when one exists."""
        if self.count():
            return None
        token = secrets.token_urlsafe(24)
        with session_scope(self.engine) as db:
            db.add(SetupToken(token_hash=_token_hash(token)))
            db.commit()
        return token

    def setup_token_valid(self, token: str) -> bool:
        if self.count():
            return False
        with session_scope(self.engine) as db:
            row = db.exec(select(SetupToken).where(SetupToken.token_hash == _token_hash(token))).first()
        return row is not None and row.used_at is None

    def use_setup_token(self, token: str, email: str, name: str, password: str) -> Facilitator:
        """Create the first account and spend the link, in one transaction: two clicks at the
        same moment cannot both create an account."""
        email, name = _checked(email, name, password)
        account = Facilitator(email=email, name=name, password_hash=hash_password(password))
        with session_scope(self.engine) as db:
            claimed = db.execute(
                update(SetupToken)
                .where(col(SetupToken.token_hash) == _token_hash(token), col(SetupToken.used_at).is_(None))
                .values(used_at=utcnow())
            )
            existing = db.exec(select(func.count()).select_from(Facilitator)).one()
            if claimed.rowcount != 1 or existing:  # type: ignore[attr-defined]
                db.rollback()
                raise AccountError(
                    "This setup link is no longer valid. Restart the server for a new one, "
                    "or add an account with the tovholder command."
                )
            db.add(account)
            db.flush()
            _adopt_ownerless(db, account)
            db.commit()
            db.refresh(account)
        log.info("first account created", extra={"facilitator_id": account.id})
        return account


def _adopt_ownerless(db: Any, account: Facilitator) -> None:
    """The first account takes the sessions and teams made before any account existed (by
    `tovholder demo`): a session without an owner is nobody's, never everybody's."""
    for table in (Run, Team):
        db.execute(update(table).where(col(table.facilitator_id).is_(None)).values(facilitator_id=account.id))
