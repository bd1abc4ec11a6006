"""Flows are data: `sessions/*.yaml`, validated at start-up. A broken flow names file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exercises import AnyExercise, LocalText
from exercises.base import LOCALES
from exercises.words import text as text  # picks a flow text's language; here for the app to import

STEP_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_FLOW_BYTES = 512 * 1024
# The themes with a background page at /guide/<theme>; a flow or a step names the one it draws on.
BACKGROUNDS = ("core-task", "coordination", "alliance", "safety", "reflection")
Background = Literal["core-task", "coordination", "alliance", "safety", "reflection"]
# The poster kinds a step's results may feed; "alliance:agreements", "leadership:gaps" ... One step
# may feed several, comma-separated: "alliance:agreements, coordination:relationships".
_ONE_TAG = r"(core-task|coordination|lessons|alliance|safety|leadership):[a-z0-9-]{1,40}"
POSTER_TAG = rf"^{_ONE_TAG}(, ?{_ONE_TAG}){{0,3}}$"


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    exercise: str
    minutes: int = Field(ge=0, le=240)
    title: LocalText
    prompt: LocalText | None = None
    notes: LocalText
    hide_results: bool = False
    publish: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    earlier: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    off: bool = False  # switched off in a session's copy: next and back pass it by
    # The poster sections this step's results feed ("core-task:angles", "coordination:relations").
    poster: str | None = Field(default=None, pattern=POSTER_TAG)
    background: Background | None = None  # a background page for this step, if not the flow's
    settings: dict[str, Any] = Field(default_factory=dict)
    demo: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not STEP_ID.match(value):
            raise ValueError("a step id is lowercase letters, digits and '-', at most 63 long")
        return value


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: LocalText
    purpose: LocalText
    duration_minutes: int = Field(ge=1, le=600)
    source: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    default_locale: str = "en"
    locales: list[str] = Field(min_length=1)
    uses_units: bool = False  # participants pick their unit on joining
    background: Background | None = None  # the theme's background page, linked from the notes
    steps: list[Step] = Field(min_length=1)

    @field_validator("locales")
    @classmethod
    def _known_locales(cls, value: list[str]) -> list[str]:
        unknown = [x for x in value if x not in LOCALES]
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)} (known: {', '.join(LOCALES)})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Flow:
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale {self.default_locale!r} is not in locales")
        return self

    def background_of(self, step: Step) -> str | None:
        """The background page a step's notes link to: its own, else the flow's."""
        return step.background or self.background

    def step_index(self, step_id: str) -> int | None:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        return None


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FlowError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --- YAML with line numbers -------------------------------------------------------------------

Path_ = tuple[str | int, ...]
# libyaml's parser where PyYAML was built with it (the wheels are): the same nodes and marks, faster.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.Node) -> Any:
    """A scalar's value as safe_load gives it (a string stays as written; 3 is an int)."""
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _to_python(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key: Any = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key in out:
                raise FlowError([Problem(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")])
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, (*path, key), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(n, (*path, i), lines, file) for i, n in enumerate(node.value)]
    return _scalar(node)


def _line_for(loc: Iterable[str | int], lines: Mapping[Path_, int]) -> int:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1


def _where(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_flow(path: Path, registry: Mapping[str, AnyExercise]) -> Flow:
    """Parse and validate one flow file; raise FlowError listing every problem with its line."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FlowError([Problem(file, 1, f"cannot read the file: {exc.strerror}")]) from None
    if len(raw) > MAX_FLOW_BYTES:
        raise FlowError([Problem(file, 1, f"the file is over {MAX_FLOW_BYTES // 1024} KiB")])
    try:
        node = yaml.compose(raw.decode("utf-8"), Loader=_LOADER)
    except UnicodeDecodeError:
        raise FlowError([Problem(file, 1, "the file is not UTF-8 text")]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise FlowError([Problem(file, line, f"not valid YAML: {exc.problem}")]) from None
    if node is None:
        raise FlowError([Problem(file, 1, "the file is empty")])
    lines: dict[Path_, int] = {}
    data = _to_python(node, (), lines, file)
    return validate_flow(data, registry, file=file, lines=lines, expected_name=path.stem)


def validate_flow(
    data: Any,
    registry: Mapping[str, AnyExercise],
    *,
    file: str = "<flow>",
    lines: Mapping[Path_, int] | None = None,
    expected_name: str | None = None,
) -> Flow:
    lines = lines or {}
    if not isinstance(data, dict):
        raise FlowError([Problem(file, 1, "a flow is a mapping with name, title, steps ...")])
    problems: list[Problem] = []

    def add(loc: Iterable[str | int], message: str) -> None:
        loc = tuple(loc)
        problems.append(Problem(file, _line_for(loc, lines), f"{_where(loc)}: {message}"))

    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            add(err["loc"], err["msg"])
        raise FlowError(problems) from None

    if expected_name is not None and flow.name != expected_name:
        add(("name",), f"is {flow.name!r} but the file is named {expected_name!r}")
    seen: dict[str, int] = {}
    for i, step in enumerate(flow.steps):
        if step.id in seen:
            add(("steps", i, "id"), f"duplicate step id {step.id!r} (first at steps[{seen[step.id]}])")
        seen.setdefault(step.id, i)
        exercise = registry.get(step.exercise)
        if exercise is None:
            add(
                ("steps", i, "exercise"),
                f"unknown exercise {step.exercise!r} (known: {', '.join(sorted(registry))})",
            )
            continue
        try:
            settings = exercise.settings(step.settings)
        except ValidationError as exc:
            for err in exc.errors():
                add(("steps", i, "settings", *err["loc"]), err["msg"])
            continue
        for source in exercise.sources(settings):
            if source not in seen or seen[source] == i:
                add(("steps", i, "settings"), f"reads step {source!r}, which is not an earlier step")
    total = sum(s.minutes for s in flow.steps)
    if total != flow.duration_minutes:
        add(("duration_minutes",), f"is {flow.duration_minutes} but the steps add up to {total}")
    if problems:
        raise FlowError(problems)
    return flow


def missing_translations(flow: Flow) -> list[str]:
    """Texts that lack one of the flow's languages (they fall back to the default language)."""
    missing: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if value and set(value) <= set(LOCALES) and all(isinstance(v, str) for v in value.values()):
                missing.extend(f"{where}: no {loc!r} text" for loc in flow.locales if loc not in value)
                return
            for k, v in value.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(flow.model_dump(exclude={"steps": {"__all__": {"demo"}}}), "")
    return missing


def load_flows(directory: Path, registry: Mapping[str, AnyExercise]) -> dict[str, Flow]:
    """Every flow in the directory; all problems of all files are reported together."""
    flows: dict[str, Flow] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            flows[path.stem] = load_flow(path, registry)
        except FlowError as exc:
            problems.extend(exc.problems)
    if problems:
        raise FlowError(problems)
    return flows
