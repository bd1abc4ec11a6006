"""Open-file limits: 2,000 phones are 2,000 sockets on each side of loopback."""

from __future__ import annotations

import resource


def raise_open_files(wanted: int = 16384) -> tuple[int, int]:
    """Raise the soft limit of open files towards `wanted`, within the hard limit. Children
    started afterwards (servers, load processes) inherit it. Returns (soft, hard) as they are now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)
