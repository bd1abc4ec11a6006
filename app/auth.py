"""Tovholder accounts: scrypt password hashes, a signed login cookie, the first-start setup link."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from app.db import session_scope
from app.models import Facilitator, SetupToken, utcnow

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
    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="tovholder-login")

    def dumps(self, account_id: int) -> str:
        return self._s.dumps({"f": account_id})

    def loads(self, value: str | None) -> int | None:
        if not value:
            return None
        try:
            data = self._s.loads(value, max_age=LOGIN_MAX_AGE)
        except BadSignature:
            return None
        account = data.get("f") if isinstance(data, dict) else None
        return account if isinstance(account, int) else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The tovholders' accounts and the first-start setup link."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
            db.add(account)
            db.commit()
            db.refresh(account)
        log.info("account created", extra={"facilitator_id": account.id})
        return account

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
            db.commit()
            db.refresh(account)
        log.info("first account created", extra={"facilitator_id": account.id})
        return account
