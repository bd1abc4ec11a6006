"""`make screenshots`: the current screens, for the README and for review, in docs/screenshots/.

A real server on a fresh database, sessions set at each exercise type's first step in the shipped
flows with a room of simulated answers (tests/stagehand.py), and Debian's Chromium: per language
(nb, en) the projector's lobby, and per exercise type the projector at 1920x1080, the console at
1280x800 and a phone at 390x844 and 320x640. Run: `uv run python -m tests.screenshots`."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.databases import add_account
from tests.harness import ROOT, Server, free_port, login, server_env
from tests.stagehand import Stagehand, first_steps

OUT = ROOT / "docs" / "screenshots"
LOCALES = ("nb", "en")
PROJECTOR = {"width": 1920, "height": 1080}
CONSOLE = {"width": 1280, "height": 800}
PHONES = ({"width": 390, "height": 844}, {"width": 320, "height": 640})


def shoot(page: Page, url: str, size: dict[str, int], path: Path, *, fitted: bool = False) -> None:
    page.set_viewport_size(size)  # type: ignore[arg-type]
    page.goto(url)
    page.wait_for_selector("body[data-synced]", state="attached", timeout=15_000)
    if fitted:
        page.wait_for_selector("#stage[data-fitted]", state="attached", timeout=15_000)
    page.evaluate("document.fonts.ready")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), animations="disabled")
    # 256 colours are plenty for a screen of flat colours and text, at a third of the bytes.
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="tovholder-screens-"))
    port = free_port()
    server = Server(env=server_env(data, port), port=port, data_dir=data).start()
    try:
        add_account(server.database_url, "t@example.org", "Tove")
        client = login(server)
        cookies = [{"name": k, "value": v, "url": server.url} for k, v in client.cookies.items()]
        client.close()
        if OUT.exists():
            shutil.rmtree(OUT)
        hand = Stagehand(server.database_url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            desk = browser.new_context(locale="nb-NO")
            desk.add_cookies(cookies)  # type: ignore[arg-type]
            phone = browser.new_context(is_mobile=True, has_touch=True, device_scale_factor=1)
            page, mobile = desk.new_page(), phone.new_page()
            for locale in LOCALES:
                lobby = hand.scene("core-task-1", locale, None, people=14)
                shoot(
                    page,
                    f"{server.url}/runs/{lobby.run_id}/projector",
                    PROJECTOR,
                    OUT / locale / "lobby-projector.png",
                )
                for pick in first_steps():
                    scene = hand.scene(pick.flow, locale, pick.index, people=12)
                    base = OUT / locale / pick.exercise
                    run = f"{server.url}/runs/{scene.run_id}"
                    shoot(
                        page,
                        f"{run}/projector",
                        PROJECTOR,
                        base.with_name(f"{pick.exercise}-projector.png"),
                        fitted=True,
                    )
                    shoot(page, f"{run}/console", CONSOLE, base.with_name(f"{pick.exercise}-console.png"))
                    phone.clear_cookies()
                    phone.add_cookies([{"name": "tov_p", "value": scene.phone_token, "url": server.url}])
                    mobile.goto(f"{server.url}/lang/{locale}?next=/p/{scene.code}")
                    for size in PHONES:
                        name = f"{pick.exercise}-phone-{size['width']}.png"
                        shoot(mobile, f"{server.url}/p/{scene.code}", size, base.with_name(name))
                    print(f"{locale} {pick.exercise}", flush=True)
            browser.close()
        hand.close()
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(f"wrote {sum(1 for _ in OUT.rglob('*.png'))} screenshots to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
