"""Every shipped flow from start to end with 12 real phones in 3 units, over real sockets: the
phones answer whatever each step asks, the tovholder uses each step's console controls, and each
step's answers are stored once and counted on the projector."""

from __future__ import annotations

import asyncio
import html
import re
from collections import Counter

import pytest

from app.flows import load_flows
from exercises import build_registry
from exercises.base import StepContext
from tests.answers import fill
from tests.harness import ROOT, Server
from tests.live import Phone, Screen, Tovholder, version_of, wait_for
from tests.test_live_session import count_answers

FLOWS = sorted(load_flows(ROOT / "sessions", build_registry()))
UNITS = ["Day team", "Evening team", "Therapists"]
PHONES = 12
# Actions that undo the others; a tovholder uses them to correct, not to run the step.
SPARED = {"remove_group", "reset", "stop", "pause", "split", "place"}
STEP_FORM = re.compile(r'<form[^>]*class="control control--step"[^>]*>.*?</form>', re.S)
ACTION = re.compile(r'hx-post="([^"]+)"')
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
INPUT = re.compile(r"<(input|textarea)\b([^>]*)>", re.S)


def control_forms(console_html: str) -> list[tuple[str, dict[str, str]]]:
    """The step's console controls, each as (action url, fields a tovholder would fill in)."""
    forms = []
    for form in STEP_FORM.findall(console_html):
        action = ACTION.search(form)
        assert action, form
        fields: dict[str, str] = {}
        for attrs, body in SELECT.findall(form):
            name = re.search(r'name="([^"]+)"', attrs)
            options = [v for v in re.findall(r'value="([^"]*)"', body) if v]
            if name:
                fields[name.group(1)] = options[0] if options else ""
        for tag, attrs in INPUT.findall(SELECT.sub("", form)):
            name = re.search(r'name="([^"]+)"', attrs)
            if not name or name.group(1) == "csrf_token":
                continue
            value = re.search(r'value="([^"]*)"', attrs)
            kind = re.search(r'type="([^"]+)"', attrs)
            if kind and kind.group(1) == "hidden":
                # As a browser sends it: the attribute's entities read (a suggestion is JSON).
                fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
            elif kind and kind.group(1) == "date":
                fields[name.group(1)] = "2027-03-01"
            elif kind and kind.group(1) == "number":
                fields[name.group(1)] = value.group(1) if value and value.group(1) else "60"
            elif tag == "textarea":
                fields[name.group(1)] = "Together we give every citizen safe help at home"
            else:
                fields[name.group(1)] = value.group(1) if value and value.group(1) else "Hand-offs"
        forms.append((action.group(1), fields))
    return forms


@pytest.mark.timeout(900)
@pytest.mark.parametrize("flow_name", FLOWS)
async def test_each_flow_runs_from_start_to_end_with_twelve_phones_in_three_units(
    shared_sqlite_server: Server, flow_name: str
) -> None:
    server = shared_sqlite_server
    flows = load_flows(ROOT / "sessions", build_registry())
    flow = flows[flow_name]
    registry = build_registry()
    tov = Tovholder(server.url)
    await tov.login()
    r = await tov.http.post("/teams", data={"name": f"Home care {flow_name}", "units": "\n".join(UNITS)})
    assert r.status_code == 303, r.text
    dashboard = await tov.http.get("/dashboard")
    team_id = re.findall(r'<option value="(\d+)">Home care ' + re.escape(flow_name), dashboard.text)[0]
    r = await tov.http.post("/runs", data={"flow": flow_name, "locale": "en", "team": team_id})
    assert r.status_code == 303, r.text
    run_id = int(r.headers["location"].split("/")[2])
    console_page = await tov.http.get(f"/runs/{run_id}/console")
    code = re.search(r'data-run="([A-Z0-9]+)"', console_page.text)
    assert code
    projector = Screen(server.url, "projector", code.group(1), tov.cookies)
    await projector.connect()
    phones = [
        Phone(server.url, code.group(1), unit=UNITS[i % 3] if flow.uses_units else None)
        for i in range(PHONES)
    ]
    await asyncio.gather(*(p.join() for p in phones))

    expected: Counter[str] = Counter()
    version = projector.version
    for step in flow.steps:
        r = await tov.control(run_id, "next", version=version)
        assert r.status_code == 200, r.text
        version = version_of(r.text)
        await wait_for(
            lambda: all(p.screen and p.screen.version >= version for p in phones),
            f"the phones to reach {flow_name}/{step.id}",
        )
        # The tovholder uses the step's own controls as a person would: each kind of action a few
        # times, reading the console again after each (new groups appear in the card menus).
        used: Counter[str] = Counter()
        for round_ in range(12):
            forms = [
                (url, fields)
                for url, fields in control_forms(r.text)
                if url.rsplit("/", 1)[1] not in SPARED and used[url.rsplit("/", 1)[1]] < 3
            ]
            if not forms:
                break
            url, fields = forms[0]
            used[url.rsplit("/", 1)[1]] += 1
            for name, value in fields.items():
                if value == "Hand-offs":
                    fields[name] = f"Theme {round_}"
            done = await tov.http.post(url, data={**fields, "version": str(version)})
            assert done.status_code == 200, f"{url}: {done.status_code} {done.text[:500]}"
            version = version_of(done.text)
            r = done
        await wait_for(
            lambda: all(p.screen and p.screen.version >= version for p in phones),
            f"the phones to see the controls' effect on {flow_name}/{step.id}",
        )
        exercise = registry[step.exercise]
        if not exercise.collects_answers:
            continue
        # Some steps take answers only with a context (units, cards): the phone form decides.
        limit = max(1, min(2, exercise.max_answers(exercise.settings(step.settings), StepContext())))

        async def answer(i: int, phone: Phone) -> int:
            assert phone.screen is not None
            sent = 0
            for card in range(1 + i % limit):
                fields = fill(phone.screen.html, i, card)
                if fields is None:
                    break
                ack = await phone.answer_by_socket(step.id, fields)
                assert ack["ok"], f"{flow_name}/{step.id}: {ack}"
                sent += 1
            return sent

        expected[step.id] = sum(await asyncio.gather(*(answer(i, p) for i, p in enumerate(phones))))
        if not (await tov.http.get(f"/runs/{run_id}/console")).text.count('data-key="reveal"'):
            continue
        want = f"{expected[step.id]} answers · "
        if step.hide_results:
            r = await tov.control(run_id, "reveal", version=version)
            version = version_of(r.text)
        await wait_for(lambda: want in projector.html, f"the projector to count {want!r} on {step.id}")
        assert "Traceback" not in server.log()
    r = await tov.control(run_id, "close", version=version)
    assert r.status_code == 200
    stored = count_answers(server, run_id)
    assert stored == +expected, f"{flow_name}: stored {stored}, sent {expected}"
    results = await tov.http.get(f"/runs/{run_id}/results")
    assert results.status_code == 200
    for p in phones:
        await p.close()
    await projector.close()
    await tov.http.aclose()
    assert "Traceback" not in server.log(), server.log()[-3000:]
