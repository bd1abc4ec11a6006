"""Rate limits that every worker shares: in Redis when TOVHOLDER_REDIS_URL is set (through the
`limits` package), else in this process's memory. `rules()` says what is counted and how much.

They are sized for a meeting room: forty phones behind one Wi-Fi address that join within a
minute never meet a limit, a script that joins a thousand times does. Wrong join codes are counted
per address and the code's first two characters, so wrong codes never block the right one (unless
they begin as it does), and wrong passwords per address and account, so someone else's wrong
tries never lock a tovholder out of their own account."""

from __future__ import annotations

import logging

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


def rules(joins_per_minute: int = 60, max_participants: int = 500) -> dict[str, tuple[str, ...]]:
    """What is counted, per what, and how much (TOVHOLDER_JOINS_PER_MINUTE for a hall behind one
    address: the joins per session follow it; a session can fill to TOVHOLDER_MAX_PARTICIPANTS in
    a minute, so an all-hands that raises its cap is not held back by the rate)."""
    joins = joins_per_minute
    room = max(150, 2 * joins, max_participants)
    return {
        # A wrong join code (at /j/ or /p/), per (address, the code's first two characters).
        "wrong-code": ("20/minute", "60/hour"),
        # A join that succeeded, per address, and per session.
        "join-address": (f"{joins}/minute", f"{5 * joins}/hour"),
        "join-session": (f"{room}/minute", f"{max(1000, 10 * joins, 2 * max_participants)}/hour"),
        # A wrong password, per (address, account).
        "login": ("10/minute", "50/hour"),
    }


class Limits:
    """`blocked(rule, *key)` before the thing is done, `hit(rule, *key)` to count it."""

    def __init__(
        self,
        redis_url: str = "",
        prefix: str = "tovholder",
        enabled: bool = True,
        joins_per_minute: int = 60,
        max_participants: int = 500,
    ) -> None:
        self.enabled = enabled  # off: nothing is counted or blocked (a load test from one address)
        storage: Storage = (
            storage_from_string(redis_url, key_prefix=f"{prefix}-limits")  # type: ignore[assignment]
            if redis_url
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        counted = rules(joins_per_minute, max_participants)
        self._items: dict[str, list[RateLimitItem]] = {
            rule: [parse(text) for text in texts] for rule, texts in counted.items()
        }
        self._warned = False

    def blocked(self, rule: str, *key: str) -> bool:
        if not self.enabled:
            return False
        try:
            return not all(self._limiter.test(item, rule, *key) for item in self._items[rule])
        except Exception:  # Redis away: the room goes on, unlimited, and the log says so once
            self._warn()
            return False

    def hit(self, rule: str, *key: str) -> None:
        if not self.enabled:
            return
        try:
            for item in self._items[rule]:
                self._limiter.hit(item, rule, *key)
        except Exception:
            self._warn()

    def _warn(self) -> None:
        if not self._warned:
            self._warned = True
            log.exception("the rate limits cannot reach their storage; requests go unlimited")
