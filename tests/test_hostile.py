"""A corpus of hostile texts (tests/data/hostile.json, 240 of them: HTML and SVG event handlers,
htmx attributes, Jinja and Typst markup, CSV formulas, bidi and zero-width characters, lone
surrogates, 4,000-character lines) through every text field a participant or a tovholder has: the
names phones join with, cards, words, cards to group, group names, the team's name and units, an
imported flow's texts, the word filter, the poster's subject and a reworded poster item. Then every
view is rendered in Chromium with a listener for dialogs and CSP violations, and the exports and
the poster are read back. Zero executions, zero 5xx, and no spreadsheet formula."""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import io
import json
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from playwright.sync_api import Browser, Page

from tests.harness import ROOT, Server, csrf_of, login, start_run
from tests.live import Screen
from tests.small_flows import small_flow, small_step

pytest_plugins = ["tests.browser"]

CORPUS: list[str] = [t["text"] for t in json.loads((ROOT / "tests/data/hostile.json").read_text())["texts"]]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WATCH = """
window.__hostile = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__hostile.push("csp: " + e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def flow(texts: list[str]) -> dict[str, Any]:
    """A flow whose own texts are hostile: a card step, a word step and a grouping step, each
    feeding the lessons poster."""

    def t(n: int) -> dict[str, str]:
        return {"en": texts[n % len(texts)][:200]}

    def step(id: str, exercise: str, n: int, **extra: Any) -> dict[str, Any]:
        return small_step(id, exercise, title=t(n), notes=t(n + 1), **extra)

    return small_flow(
        "hostile",
        step("cards", "open_text", 2, settings={"max_cards": 10, "max_length": 1000}, poster="lessons:learn"),
        step(
            "words", "word_cloud", 4, settings={"max_words": 5, "max_length": 60}, poster="lessons:activity"
        ),
        step("board", "grouping", 6, settings={"max_cards": 10}, poster="lessons:keep-develop"),
        title=t(0),
        purpose=t(1),
        duration_minutes=15,
    )


def assert_no_5xx(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, (response.request.url, response.status_code, response.text[:500])
    return response


def form_body(data: dict[str, str]) -> bytes:
    """A form body that can carry what UTF-8 cannot (a lone surrogate), as a careless client would."""
    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in data.items()
    ).encode()


async def answer_all(
    url: str, code: str, phones: list[dict[str, str]], step: str, field: str, texts: list[str], per_phone: int
) -> list[dict[str, Any]]:
    """Each text as an answer over a phone's socket, `per_phone` to a phone, phones in parallel."""
    screens = [
        Screen(url, "phone", code, cookies) for cookies in phones[: (len(texts) + per_phone - 1) // per_phone]
    ]
    assert len(screens) * per_phone >= len(texts)
    for screen in screens:
        await screen.connect()

    async def send(screen: Screen, batch: list[str]) -> list[dict[str, Any]]:
        acks = []
        for text in batch:
            payload = {"step": step, "key": secrets.token_urlsafe(12), "fields": {field: text}}
            acks.append(await screen.sio.call("answer", payload, timeout=20))
        return acks

    try:
        acks = await asyncio.gather(
            *(send(s, texts[i * per_phone : (i + 1) * per_phone]) for i, s in enumerate(screens))
        )
    finally:
        for screen in screens:
            await screen.close()
    return [ack for batch in acks for ack in batch]


def in_thread(coro: Any) -> Any:
    """asyncio.run on a thread of its own: Playwright's sync API holds this thread's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Watch:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.pages = 0

    def page(self, page: Page, name: str) -> Page:
        page.on(
            "dialog", lambda d: (self.problems.append(f"[{name}] dialog {d.type}: {d.message}"), d.dismiss())
        )
        page.on("pageerror", lambda exc: self.problems.append(f"[{name}] pageerror: {exc}"))
        page.on(
            "response",
            lambda r: self.problems.append(f"[{name}] {r.status} {r.url}") if r.status >= 500 else None,
        )
        return page

    def visit(self, page: Page, url: str) -> None:
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        self.pages += 1
        self.problems.extend(page.evaluate("window.__hostile"))


def test_hostile_texts_never_execute_and_never_break_a_page(
    shared_sqlite_server: Server, chromium: Browser, tmp_path: Path
) -> None:
    assert len(CORPUS) >= 200
    url = shared_sqlite_server.url
    plain = [t for t in CORPUS if encodable(t)]
    tov = login(shared_sqlite_server)

    # The tovholder's fields: a team and its units, an imported flow, the word filter, group names.
    for n, name in enumerate(CORPUS[:40]):
        units = "\n".join(CORPUS[40 + n * 3 : 43 + n * 3])
        assert_no_5xx(
            tov.post(
                "/teams",
                content=form_body({"name": name, "units": units, "csrf_token": tov.headers["X-CSRF-Token"]}),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        )
    upload = yaml.safe_dump(flow(plain)).encode()
    imported = tov.post("/flows/import", files={"file": ("hostile.yaml", upload, "application/x-yaml")})
    assert imported.status_code == 303, imported.text
    run_id, code = start_run(tov, "hostile")
    version = lambda: int(tov.get(f"/runs/{run_id}/console").text.split('data-version="')[1].split('"')[0])  # noqa: E731
    assert_no_5xx(tov.post(f"/runs/{run_id}/word-filter", data={"words": "\n".join(plain[100:160])[:8000]}))

    # Thirty phones join with hostile names (one whose name is refused joins without one).
    phones: list[dict[str, str]] = []
    with httpx.Client(base_url=url, timeout=30) as phone:
        token = csrf_of(phone.get(f"/j/{code}").text)
        for name in CORPUS[:30]:
            phone.cookies.delete("tov_p")
            for given in (name, ""):
                joined = assert_no_5xx(
                    phone.post(
                        f"/j/{code}",
                        content=form_body({"name": given, "csrf_token": token}),
                        headers={"content-type": "application/x-www-form-urlencoded"},
                    )
                )
                if joined.status_code == 200:
                    phones.append(dict(phone.cookies.items()))
                    break
    assert len(phones) == 30

    # Every text in a card, a few to a card (the ones a card cannot carry, and the formulas, each
    # alone); the short ones as words too, and cards to group; the tovholder names groups.
    alone = [t for t in CORPUS if not encodable(t) or len(t) > 500 or t.startswith(FORMULA_START)]
    rest = [t for t in CORPUS if t not in alone]
    cards = alone + ["\n".join(rest[i : i + 8]) for i in range(0, len(rest), 8)]
    acks: list[dict[str, Any]] = []
    assert tov.post(f"/runs/{run_id}/next").status_code in (200, 303)
    acks += in_thread(answer_all(url, code, phones, "cards", "text", cards, 10))
    assert tov.post(f"/runs/{run_id}/next").status_code in (200, 303)
    words = [t for t in CORPUS if len(t) <= 80][:50]
    acks += in_thread(answer_all(url, code, phones, "words", "word", words, 5))
    assert tov.post(f"/runs/{run_id}/next").status_code in (200, 303)
    board = ["\n".join(rest[i : i + 10]) for i in range(0, len(rest), 10)]
    acks += in_thread(answer_all(url, code, phones, "board", "text", board, 10))
    for name in CORPUS[:20]:
        assert_no_5xx(
            tov.post(
                f"/runs/{run_id}/steps/board/add_group",
                content=form_body({"name": name, "csrf_token": tov.headers["X-CSRF-Token"]}),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        )
    assert all(ack.get("status", 200) < 500 for ack in acks), [a for a in acks if a.get("status", 200) >= 500]
    assert sum(bool(ack.get("ok")) for ack in acks) >= 0.7 * len(acks)  # most stored, as they are

    # The poster's subject and a reworded item.
    posters = tov.get(f"/runs/{run_id}/posters")
    assert posters.status_code == 200
    items = re.findall(r'name="item" value="([^"]+)"', posters.text)
    assert items, "the poster has no items to reword"
    for n, hostile in enumerate(CORPUS[125:145]):  # the Typst markup
        action = {"action": "edit", "item": items[n % len(items)]} if n % 2 else {"action": "subject"}
        assert_no_5xx(
            tov.post(
                f"/runs/{run_id}/posters/lessons",
                content=form_body({**action, "text": hostile, "csrf_token": tov.headers["X-CSRF-Token"]}),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        )

    # Every view, in Chromium.
    watch = Watch()
    context = chromium.new_context()
    context.add_init_script(WATCH)
    context.add_cookies([{"name": k, "value": v, "url": url} for k, v in tov.cookies.items()])
    page = watch.page(context.new_page(), "tovholder")
    phone_context = chromium.new_context()
    phone_context.add_init_script(WATCH)
    phone_page = watch.page(phone_context.new_page(), "phone")
    phone_page.goto(f"{url}/j/{code}")
    phone_page.locator("form button[type=submit]").click()
    phone_page.wait_for_url(f"**/p/{code}")
    seen: list[str] = []
    for position in range(3):
        assert_no_5xx(tov.post(f"/runs/{run_id}/reveal", data={"version": version()}))
        for view in ("projector", "console"):
            watch.visit(page, f"{url}/runs/{run_id}/{view}")
            seen.append(page.inner_text("body"))
        watch.visit(phone_page, f"{url}/p/{code}")
        assert_no_5xx(tov.post(f"/runs/{run_id}/hide", data={"version": version()}))
        watch.visit(page, f"{url}/runs/{run_id}/projector")
        if position < 2:
            assert tov.post(f"/runs/{run_id}/back").status_code in (200, 303)
    for path in ("/dashboard", f"/runs/{run_id}/results", f"/runs/{run_id}/posters", f"/runs/{run_id}/edit"):
        watch.visit(page, url + path)
    assert_no_5xx(tov.post(f"/runs/{run_id}/close"))
    watch.visit(phone_page, f"{url}/p/{code}")
    watch.visit(page, f"{url}/runs/{run_id}/results")
    shown = "\n".join(seen)
    assert "<svg/onload=alert(22)>" in shown and "{{ 7*7 }}" in shown  # there, as text
    context.close()
    phone_context.close()
    assert watch.pages >= 18
    assert not watch.problems, watch.problems

    # The exports and the poster, read back.
    sheet = tov.get(f"/runs/{run_id}/export.csv")
    assert sheet.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(sheet.text.lstrip("\ufeff"))) for cell in row]
    assert len(cells) > 200
    formulas = [c for c in cells if c.startswith(FORMULA_START)]
    assert not formulas, formulas[:5]
    assert any(c.startswith("'=") for c in cells)  # a formula is there, as text
    summary = tov.get(f"/runs/{run_id}/export.json")
    assert summary.status_code == 200 and json.loads(summary.text)
    document = tov.get(f"/runs/{run_id}/export.md")
    assert document.status_code == 200
    raw_html = re.findall(r".{0,60}<(?:script|svg|img)\b.{0,60}", document.text)
    assert not raw_html, raw_html[:5]
    assert not re.search(r"(?<!\\)\]\(javascript:", document.text)  # no link: its brackets are escaped
    poster = tov.get(f"/runs/{run_id}/posters/lessons.pdf")
    assert poster.status_code == 200, poster.text[:300]
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster.content)
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "root:" not in printed and "/bin/" not in printed  # no file was read into it
    assert printed.strip()
    assert "Traceback" not in shared_sqlite_server.log()
