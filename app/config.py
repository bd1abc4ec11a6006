"""Settings from TOVHOLDER_* environment variables."""

from __future__ import annotations

import logging
import secrets
from functools import cached_property
from pathlib import Path

import ifaddr
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


def lan_address() -> str:
    """This machine's first private IPv4 address, so phones on the same Wi-Fi can reach it."""
    candidates: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith(("127.", "169.254.")):
                candidates.append(ip.ip)
    private = [a for a in candidates if a.startswith(("10.", "192.168.", "172."))]
    return (private or candidates or ["127.0.0.1"])[0]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and secret live.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty: SQLite in data_dir.")
    redis_url: str = Field(default="", description="Redis URL for the socket manager; empty: in-process.")
    redis_channel: str = Field(
        default="tovholder", description="Redis pub/sub channel; servers of one deployment share it."
    )
    secret_key: str = Field(default="", description="Signs cookies; empty: generated under data_dir.")
    public_url: str = Field(default="", description="Base URL the QR code encodes; empty: LAN address.")
    host: str = "0.0.0.0"
    port: int = 8000
    sessions_dir: Path = Field(default=ROOT / "sessions", description="Where the flow files live.")
    min_group_size: int = 5
    retention_days: int = Field(default=365, ge=1, description="Sessions older than this are deleted.")
    coalesce_seconds: float = Field(default=0.25, description="Least time between two tally pushes.")
    max_body_bytes: int = 64 * 1024
    secure_cookies: bool = Field(default=False, description="Secure cookies without an https public URL.")
    max_participants: int = Field(default=500, ge=1, description="The most phones one session takes.")
    joins_per_minute: int = Field(
        default=60, ge=1, description="Joins from one address in a minute (more for a hall behind one NAT)."
    )
    rate_limits: bool = Field(
        default=True, description="Off only for a load test whose phones all come from one address."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of the proxies whose X-Forwarded-* headers are believed; "
        "empty: none (the client's own address counts).",
    )
    accessibility_contact: str = Field(
        default="",
        max_length=200,
        description="Where people report an accessibility problem (an email address or a web page), "
        "shown on /accessibility; empty: the statement asks them to tell the tovholder.",
    )
    threads: int = Field(
        default=4,
        ge=1,
        description="Threads for the pages' database work and drawing (FastAPI's pool, 40 by default): "
        "Python runs one at a time, so more only help a database far away (bench/FINDINGS.md).",
    )
    log_level: str = "INFO"
    access_log: bool = Field(default=False, description="Log every request (uvicorn's access log).")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'tovholder.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        log.info("generated a new secret key in %s", path)
        return key

    @property
    def https(self) -> bool:
        """Served over https (the public URL says so): secure cookies and HSTS."""
        return self.resolved_public_url.startswith("https://")

    @property
    def cookies_secure(self) -> bool:
        return self.secure_cookies or self.https

    @cached_property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host if self.host not in ("0.0.0.0", "::", "") else lan_address()
        return f"http://{host}:{self.port}"
