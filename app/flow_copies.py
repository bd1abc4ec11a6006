"""A session's own copy of its flow: switch steps off and edit any text before or during the
session; export a flow as YAML and import one. Every copy is validated like a shipped flow."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.db import session_scope
from app.flows import Flow, FlowError, Problem, load_flow, validate_flow
from app.models import CustomFlow
from exercises import AnyExercise

TEXT_FIELDS = ("title", "prompt", "notes")
MAX_IMPORT_BYTES = 512 * 1024
FLOW_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")


def edited_copy(
    flow: Flow, locale: str, form: Mapping[str, str], registry: Mapping[str, AnyExercise]
) -> Flow:
    """The flow with the edit form applied: `on:<step>` checkboxes and `<field>:<step>` texts in
    `locale`. An emptied title or notes keeps the old text; an emptied prompt removes it."""
    data: dict[str, Any] = flow.model_dump(mode="json")
    for step in data["steps"]:
        sid = step["id"]
        step["off"] = f"on:{sid}" not in form
        for name in TEXT_FIELDS:
            key = f"{name}:{sid}"
            if key not in form:
                continue
            value = form[key].replace("\r\n", "\n").strip()
            texts = dict(step.get(name) or {})
            if value:
                texts[locale] = value
            elif name == "prompt":
                texts.pop(locale, None)
            step[name] = texts or None
    if all(step["off"] for step in data["steps"]):
        raise FlowError([Problem("<session>", 1, "at least one step must stay on")])
    return validate_flow(data, registry, file="<session>")


def to_yaml(flow: Flow) -> str:
    data = flow.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


class FlowCopies:
    """The flows a tovholder imported, beside the shipped ones."""

    def __init__(
        self, engine: Engine, registry: Mapping[str, AnyExercise], shipped: Mapping[str, Flow]
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.shipped = shipped

    def import_flow(self, facilitator_id: int, raw: bytes) -> Flow:
        """Validate an uploaded flow and keep it for this tovholder (replacing one of the same
        name)."""
        if len(raw) > MAX_IMPORT_BYTES:
            raise FlowError([Problem("<upload>", 1, f"the file is over {MAX_IMPORT_BYTES // 1024} KiB")])
        try:
            declared = yaml.safe_load(raw.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError):
            declared = None  # the loader below says what is wrong, with the line
        name = declared.get("name") if isinstance(declared, dict) else None
        stem = name if isinstance(name, str) and FLOW_NAME.fullmatch(name) else "upload"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{stem}.yaml"
            path.write_bytes(raw)
            flow = load_flow(path, self.registry)
        if flow.name in self.shipped:
            raise FlowError([Problem("<upload>", 1, f"the name {flow.name!r} is taken by a shipped flow")])
        with session_scope(self.engine) as db:
            row = db.exec(
                select(CustomFlow).where(
                    CustomFlow.facilitator_id == facilitator_id, CustomFlow.name == flow.name
                )
            ).first()
            if row is None:
                row = CustomFlow(facilitator_id=facilitator_id, name=flow.name, definition={})
            row.definition = flow.model_dump(mode="json")
            db.add(row)
            db.commit()
        return flow

    def imported(self, facilitator_id: int) -> dict[str, Flow]:
        """The tovholder's imported flows, by name."""
        with session_scope(self.engine) as db:
            rows = db.exec(
                select(CustomFlow)
                .where(CustomFlow.facilitator_id == facilitator_id)
                .order_by(col(CustomFlow.name))
            ).all()
        return {row.name: Flow.model_validate(row.definition) for row in rows}

    def available(self, facilitator_id: int) -> dict[str, Flow]:
        """Every flow this tovholder can start: the shipped ones, then their imported ones."""
        return {**self.shipped, **self.imported(facilitator_id)}
