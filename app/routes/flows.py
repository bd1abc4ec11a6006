"""The tovholder's flows: edit a session's copy, export as YAML, import one, read the guide."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.deps import Csrf, CurrentFacilitator, House, browser_locale
from app.flow_copies import MAX_IMPORT_BYTES, custom_flows, edited_copy, import_flow, to_yaml
from app.flows import FlowError
from app.i18n import available_locales
from app.routes import page
from app.routes.errors import error_response
from app.runner import NotFound
from exercises.base import N_

router = APIRouter()


def _yaml_response(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="application/x-yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.yaml"'},
    )


@router.get("/flows/{name}.yaml")
async def export_flow(house: House, me: CurrentFacilitator, name: str) -> Response:
    assert me.id is not None
    flow = house.flows.get(name) or (await asyncio.to_thread(custom_flows, house.engine, me.id)).get(name)
    if flow is None:
        raise NotFound(N_("There is no flow named %(name)s."), name=name[:80])
    return _yaml_response(to_yaml(flow), flow.name)


@router.post("/flows/import", dependencies=[Csrf])
async def import_flow_file(
    request: Request, house: House, me: CurrentFacilitator, file: Annotated[UploadFile, File()]
) -> Response:
    assert me.id is not None
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    try:
        await asyncio.to_thread(import_flow, house.engine, me.id, raw, house.registry, house.flows)
    except FlowError as exc:
        problems = "; ".join(f"line {p.line}: {p.message}" for p in exc.problems[:8])
        return error_response(request, 422, N_("This flow cannot be used: %(problems)s"), problems=problems)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/runs/{run_id}/flow.yaml")
async def export_session_flow(house: House, me: CurrentFacilitator, run_id: int) -> Response:
    run = await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    return _yaml_response(to_yaml(house.runner.flow_of(run)), f"{run.flow_name}-{run.code}")


@router.get("/runs/{run_id}/edit")
async def edit_page(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    run = await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    flow = house.runner.flow_of(run)
    return page(
        request, "edit_flow.html", locale=run.locale, run=run, flow=flow, fallback_locale=flow.default_locale
    )


@router.post("/runs/{run_id}/edit", dependencies=[Csrf])
async def edit(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    run = await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if len(fields) > 400 or any(len(v) > 4000 for v in fields.values()):
        return error_response(
            request, 413, N_("That was too much at once: the request is over the size limit.")
        )
    try:
        flow = edited_copy(house.runner.flow_of(run), run.locale, fields, house.registry)
    except FlowError as exc:
        problems = "; ".join(p.message for p in exc.problems[:8])
        return error_response(request, 422, N_("This flow cannot be used: %(problems)s"), problems=problems)
    version = fields.get("version", "")
    await asyncio.to_thread(
        house.runner.replace_flow, run_id, flow, int(version) if version.isdigit() else None
    )
    return RedirectResponse(f"/runs/{run_id}/console", status_code=303)


@router.get("/guide")
async def guide(request: Request) -> Response:
    locale = browser_locale(request)
    name = locale if locale in available_locales() else "en"
    return page(request, "guide.html", locale=locale, guide_template=f"guide/guide_{name}.html")
