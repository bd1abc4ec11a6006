"""The tovholder's flows: edit a session's copy, export as YAML, import one, read the guide."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.deps import Csrf, CurrentFacilitator, FormFields, HouseDep, OwnedRun, browser_locale
from app.errors import InvalidInput, NotFound
from app.flow_copies import MAX_IMPORT_BYTES, edited_copy, to_yaml
from app.flows import FlowError
from app.i18n import available_locales
from app.routes import page
from app.routes.errors import error_response
from exercises.base import N_

router = APIRouter()
MAX_EDIT_FIELDS = 400
MAX_EDIT_TEXT = 4000


def _yaml_response(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="application/x-yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.yaml"'},
    )


def _unusable(exc: FlowError, with_lines: bool) -> InvalidInput:
    problems = "; ".join(f"line {p.line}: {p.message}" if with_lines else p.message for p in exc.problems[:8])
    return InvalidInput(N_("This flow cannot be used: %(problems)s"), problems=problems)


@router.get("/flows/{name}.yaml")
def export_flow(house: HouseDep, me: CurrentFacilitator, name: str) -> Response:
    assert me.id is not None
    flow = house.flow_copies.available(me.id).get(name)
    if flow is None:
        raise NotFound(N_("There is no flow named %(name)s."), name=name[:80])
    return _yaml_response(to_yaml(flow), flow.name)


@router.post("/flows/import", dependencies=[Csrf])
def import_flow_file(
    house: HouseDep, me: CurrentFacilitator, file: Annotated[UploadFile, File()]
) -> Response:
    assert me.id is not None
    raw = file.file.read(MAX_IMPORT_BYTES + 1)
    try:
        house.flow_copies.import_flow(me.id, raw)
    except FlowError as exc:
        raise _unusable(exc, with_lines=True) from None
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/runs/{run_id}/flow.yaml")
def export_session_flow(house: HouseDep, run: OwnedRun) -> Response:
    return _yaml_response(to_yaml(house.runner.flow_of(run)), f"{run.flow_name}-{run.code}")


@router.get("/runs/{run_id}/edit")
def edit_page(request: Request, house: HouseDep, run: OwnedRun) -> Response:
    flow = house.runner.flow_of(run)
    return page(
        request, "edit_flow.html", locale=run.locale, run=run, flow=flow, fallback_locale=flow.default_locale
    )


@router.post("/runs/{run_id}/edit", dependencies=[Csrf])
def edit(request: Request, house: HouseDep, run: OwnedRun, run_id: int, fields: FormFields) -> Response:
    texts = {k: v for k, v in fields.items() if isinstance(v, str)}
    if len(texts) > MAX_EDIT_FIELDS or any(len(v) > MAX_EDIT_TEXT for v in texts.values()):
        return error_response(
            request, 413, N_("That was too much at once: the request is over the size limit.")
        )
    try:
        flow = edited_copy(house.runner.flow_of(run), run.locale, texts, house.registry)
    except FlowError as exc:
        raise _unusable(exc, with_lines=False) from None
    version = texts.get("version", "")
    house.runner.replace_flow(run_id, flow, int(version) if version.isdigit() else None)
    return RedirectResponse(f"/runs/{run_id}/console", status_code=303)


@router.get("/guide")
def guide(request: Request) -> Response:
    locale = browser_locale(request)
    name = locale if locale in available_locales() else "en"
    return page(request, "guide.html", locale=locale, guide_template=f"guide/guide_{name}.html")
