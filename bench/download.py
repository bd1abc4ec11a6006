"""What one phone downloads to join: the join page, the phone page it is sent to, and every
stylesheet, script and icon they name (each once, as a browser caches them), as served and
gzipped."""

from __future__ import annotations

import gzip
import re
from typing import Any

import httpx

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
UNIT = re.compile(r'name="unit" value="([^"]*)"')


async def join_download(url: str, code: str) -> dict[str, Any]:
    files: dict[str, dict[str, int]] = {}
    async with httpx.AsyncClient(
        base_url=url, timeout=60, headers={"Accept-Encoding": "gzip, deflate", "Accept-Language": "en"}
    ) as http:

        def count(name: str, r: httpx.Response) -> None:
            files[name] = {
                "served": r.num_bytes_downloaded,
                "bytes": len(r.content),
                "gzipped": len(gzip.compress(r.content, compresslevel=6)) if r.content else 0,
                "server_gzips": int(r.headers.get("content-encoding") == "gzip"),
            }

        async def assets(html: str) -> None:
            for path in ASSET.findall(html):
                if path not in files:
                    count(path, await http.get(path))

        page = await http.get(f"/j/{code}")
        count(f"GET /j/{code}", page)
        await assets(page.text)
        token = CSRF.search(page.text)
        units = UNIT.findall(page.text)
        data = {
            "csrf_token": token.group(1) if token else "",
            "name": "Kari",
            "unit": units[0] if units else "",
        }
        phone = await http.post(f"/j/{code}", data=data)  # the reply is the phone's page
        if phone.status_code != 200:
            raise RuntimeError(f"POST /j/{code}: {phone.status_code}")
        count(f"POST /j/{code}", phone)
        await assets(phone.text)
    return {
        "served": sum(f["served"] for f in files.values()),
        "bytes": sum(f["bytes"] for f in files.values()),
        "gzipped": sum(f["gzipped"] for f in files.values()),
        "server_gzips": any(f["server_gzips"] for f in files.values()),
        "files": files,
    }
