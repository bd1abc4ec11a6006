"""What a phone downloads: its own small socket client instead of socket.io-client, only the
stylesheet of the exercise it shows, and the static files gzipped."""

from __future__ import annotations

import re

from tests.harness import csrf_of
from tests.inprocess import InProcess

LINKS = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


def test_a_phone_loads_its_own_socket_client_and_only_the_stylesheet_it_shows(inproc: InProcess) -> None:
    tovholder = inproc.login()
    response = tovholder.post("/runs", data={"flow": "reflection", "locale": "en"})
    run_id = int(response.headers["location"].split("/")[2])
    run = inproc.house.runner.get_run(run_id)
    phone = inproc.client()
    join = phone.get(f"/j/{run.code}")
    assert not [href for href in LINKS.findall(join.text) if href.startswith("/exercises/")]
    joined = phone.post(f"/j/{run.code}", data={"csrf_token": csrf_of(join.text)})
    assert joined.status_code == 200  # the reply is the phone's page: the lobby
    lobby = joined.text
    linked = LINKS.findall(lobby)
    assert "/static/js/socket.js" in linked and not [h for h in linked if "socket.io" in h]
    assert not [href for href in linked if href.startswith("/exercises/")]

    runner = inproc.house.runner
    flow = runner.flow_of(run)
    runner.move(run_id, +1)
    while flow.steps[runner.get_run(run_id).step_index].exercise != "word_cloud":
        runner.move(run_id, +1)
    step = LINKS.findall(phone.get(f"/p/{run.code}").text)
    assert [href for href in step if href.startswith("/exercises/")] == ["/exercises/word_cloud/style.css"]
    console = LINKS.findall(tovholder.get(f"/runs/{run_id}/console").text)
    assert "/static/vendor/socket.io.min.js" in console and "/exercises/word_cloud/style.css" in console

    for path in ("/static/js/socket.js", "/static/css/tovholder.css", "/exercises/word_cloud/style.css"):
        served = phone.get(path, headers={"Accept-Encoding": "gzip"})
        assert served.status_code == 200 and served.headers.get("content-encoding") == "gzip", path
    assert "content-encoding" not in phone.get(f"/p/{run.code}", headers={"Accept-Encoding": "gzip"}).headers
    tovholder.close()
    phone.close()
