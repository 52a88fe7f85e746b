"""Scenario files (SPEC §4): read the YAML, validate it in one place, return a frozen ``Scenario``.

Validation runs in two passes over the data as run (the file after ``--set`` overrides):
a pydantic schema for structure, types and ranges (unknown keys are errors), then the
cross-reference checks (ids that exist, patrol keys that fit their mode, ...). Both passes
always run and every problem is reported at once in one ``InputError``, each as
``FILE:LINE: yaml.path: message``. The simulation never re-validates what comes out of here.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import types
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Sequence, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.plugins.dists import PARAMS as DIST_PARAMS
from sim.plugins.dists import Dist, dist_from_dict
from sim.errors import InputError
from sim.config.network_spec import NetworkSpec, network_spec_from_arg

YamlPath = tuple[Union[str, int], ...]

DEFAULT_RADIUS_KM = 5.0  # random patrol over road nodes: pool radius around the base

# ---------------------------------------------------------------------------------------------
# The validated scenario (what the rest of the package reads)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Wall-clock start and length of a run, in hours."""

    start: datetime
    duration_hours: float
    warmup_hours: float


@dataclass(frozen=True)
class Site:
    """A named place on the map (degrees)."""

    id: str
    name: str
    lat: float
    lon: float
    kind: str
    approximate: bool
    note: str = ""


@dataclass(frozen=True)
class Escalation:
    """An incident unanswered for ``after_min`` minutes becomes disturbance type ``to``."""

    after_min: float
    to: str


@dataclass(frozen=True)
class DisturbanceType:
    """One kind of disturbance; ``rate_per_hour`` is for all its sites together."""

    type: str
    rate_per_hour: float
    site_weights: dict[str, float]
    hourly_profile: tuple[float, ...] | None
    on_scene_min: Dist
    units_required: int
    priority: int
    escalation: Escalation | None


@dataclass(frozen=True)
class UnitType:
    """A kind of vehicle: its agency and its speed relative to the road's travel time."""

    name: str
    agency: str
    speed_factor: float


@dataclass(frozen=True)
class Patrol:
    """How a unit group patrols; only the fields of its ``mode`` are set.

    post: ``at``; circuit: ``route``, ``dwell_min``; random: ``dwell_min`` and either
    ``sites`` (default: every site) or ``road_nodes`` within ``radius_km`` of the base; base: none.
    """

    mode: Literal["post", "circuit", "random", "base"]
    at: str | None = None
    route: tuple[str, ...] = ()
    dwell_min: float = 0.0
    sites: tuple[str, ...] = ()
    road_nodes: int | None = None
    radius_km: float | None = None


@dataclass(frozen=True)
class UnitGroup:
    """``count`` units of one type, based at site ``base``, patrolling alike."""

    type: str
    count: int
    base: str
    patrol: Patrol


@dataclass(frozen=True)
class Plan:
    """One deployment of units."""

    name: str
    description: str
    units: tuple[UnitGroup, ...]

    @property
    def n_units(self) -> int:
        return sum(group.count for group in self.units)


@dataclass(frozen=True)
class Dispatch:
    """Dispatch rules: who goes, in which order waiting incidents are served, what units do after."""

    policy: Literal["nearest"]
    queue: Literal["priority", "fifo"]
    after_service: Literal["resume", "return_to_base"]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``raw`` is the data as run (after overrides); do not mutate it."""

    name: str
    description: str
    network: NetworkSpec
    clock: Clock
    replications: int
    seed: int
    target_response_min: float
    max_snap_m: float
    sites: tuple[Site, ...]
    disturbances: tuple[DisturbanceType, ...]
    unit_types: dict[str, UnitType]
    plans: tuple[Plan, ...]
    dispatch: Dispatch
    source_path: str | None
    raw: dict[str, Any]
    sha256: str

    def plan(self, name: str) -> Plan:
        """The plan called ``name`` (InputError with a suggestion if there is none)."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise InputError(f"no plan '{name}' in scenario '{self.name}'"
                         + _suggest(name, [p.name for p in self.plans]))


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def load_scenario(source: str | Path | Mapping[str, Any], overrides: Mapping[str, object] | None = None,
                  *, folder: str | Path | None = None) -> Scenario:
    """Read, override, validate and convert a scenario; InputError lists every problem.

    ``source`` is a YAML file or the scenario's data as a mapping (problems then name the YAML
    path without a line; relative network paths resolve against ``folder``, default the
    current folder).
    """
    if isinstance(source, Mapping):
        data, report = copy.deepcopy(dict(source)), _Report("scenario", {})
        path = None
        folder = Path(folder) if folder is not None else Path.cwd()
    else:
        path = Path(source)
        data, report = _read_yaml(path, str(path))
        folder = path.parent
    data = _apply_overrides(data, overrides or {}, report)
    model: ScenarioModel | None = None
    try:
        model = ScenarioModel.model_validate(data)
    except ValidationError as exc:
        report.pydantic_errors(exc)
    _Checks(data, report, folder).run()
    report.raise_if_any()
    assert model is not None  # no problems reported, so the schema pass succeeded
    return _scenario(model, data, folder, None if path is None else str(path))


def scenario_hash(raw: Mapping[str, Any]) -> str:
    """sha256 of scenario data as canonical JSON (sorted keys): equal data, equal hash."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def choose_plans(scenario: Scenario, wanted: Sequence[str] | None) -> list[str]:
    """The plans to run: those asked for, in the order given (the first is the reference),
    else every plan in scenario order; an unknown name is an error with a suggestion."""
    names = [plan.name for plan in scenario.plans]
    if not wanted:
        return names
    problems = []
    for name in wanted:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (plans: {', '.join(names)})"
            problems.append(f"--plan: no plan '{name}' in the scenario{hint}")
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(wanted))


def network_spec(scenario: Scenario, arg: str | None) -> NetworkSpec:
    """The scenario's network, unless --network says otherwise ('osm' keeps its place, bbox
    and network type)."""
    if arg is None:
        return scenario.network
    if arg == "osm":
        net = scenario.network
        if net.place is None and net.bbox is None:
            raise InputError("--network osm: the scenario's network has no 'place' or 'bbox' to download")
        return NetworkSpec("osm", place=net.place, bbox=net.bbox, network_type=net.network_type)
    return network_spec_from_arg(arg)


def parse_override(text: str) -> tuple[str, object]:
    """``"KEY=VALUE"`` from the command line -> (KEY, VALUE parsed as YAML: "0.3" -> 0.3)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"--set {text}: expected KEY=VALUE, e.g. clock.duration_hours=24")
    try:
        return key, yaml.load(value, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise InputError(f"--set {text}: the value is not valid YAML ({_yaml_problem(exc)})") from None


# ---------------------------------------------------------------------------------------------
# Problems with their place in the file
# ---------------------------------------------------------------------------------------------


def _dotted(path: YamlPath) -> str:
    """``('plans', 2, 'units', 0, 'at')`` -> ``plans[2].units[0].at``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _suggest(name: str, known: list[str]) -> str:
    """"; did you mean 'x'?" for the closest known name, else the short list of known names."""
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if known and len(known) <= 12:
        return f" (known: {', '.join(known)})"
    return ""


class _Report:
    """Collects problems; each is placed at the YAML line of its path (or of its nearest parent)."""

    def __init__(self, label: str, lines: dict[YamlPath, int]):
        self.label = label
        self.lines = lines
        self.overridden: list[tuple[YamlPath, str]] = []  # (path set, override key as given)
        self._items: list[tuple[int, str]] = []  # (sort line, text); line 0 sorts first

    def general(self, message: str) -> None:
        """A problem without a place in the file (e.g. a bad override path)."""
        self._items.append((0, message))

    def at(self, path: YamlPath, message: str) -> None:
        for set_path, key in self.overridden:
            if path[: len(set_path)] == set_path:
                # the file's line would show a value that is not the one being checked
                self._items.append((0, f"{self.label}: {_dotted(path)}: {message} "
                                       f"(value given on the command line for {key})"))
                return
        where = f"{_dotted(path)}: " if path else ""
        if not self.lines:  # data given in code: no file, no lines
            self._items.append((0, f"{self.label}: {where}{message}"))
            return
        line = self.line(path)
        self._items.append((line, f"{self.label}:{line}: {where}{message}"))

    def line(self, path: YamlPath) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def pydantic_errors(self, exc: ValidationError) -> None:
        for err in exc.errors(include_url=False):
            loc: YamlPath = tuple(p for p in err["loc"] if p != "[key]")
            kind = err["type"]
            if kind == "extra_forbidden":
                key = str(loc[-1])
                allowed = _allowed_keys(loc[:-1])
                message = f"unknown key '{key}'" + _suggest(key, allowed)
            elif kind == "missing":
                message = "missing (required)"
            elif "[key]" in err["loc"]:
                message = f"keys here must be text, got {err['input']!r}"
            elif kind == "model_type":  # pydantic would name our schema class
                message = f"expected a mapping of keys, got {err['input']!r}"
            else:
                message = err["msg"].removeprefix("Value error, ")
                message = message[:1].lower() + message[1:]
                value = err.get("input")
                if not isinstance(value, (dict, list)) and kind != "value_error":
                    message += f", got {value!r}"
            self.at(loc, message)

    def raise_if_any(self) -> None:
        if self._items:
            ordered = sorted(self._items, key=lambda item: item[0])  # stable within a line
            raise InputError(list(dict.fromkeys(text for _, text in ordered)))


# ---------------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates and times as text: the schema parses them, with a YAML path.

    (PyYAML would raise a bare ValueError with no line for an impossible date like 2024-13-01.)
    """


# YAML 1.1 floats need a dot and a signed exponent, so PyYAML reads 1e12 or 1.0e300 as text;
# this pattern (YAML 1.2's) also takes exponents without a dot or a sign.
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)

_Loader.yaml_implicit_resolvers = {
    first: [(tag, _FLOAT if tag == "tag:yaml.org,2002:float" else regexp)
            for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.context, exc.problem) if part)
    return str(exc)


def _read_yaml(path: Path, label: str) -> tuple[dict[str, Any], _Report]:
    """The file's data and a report that knows the line of every key and list item.

    Duplicate keys are already in the report. A file that is no scenario at all raises.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{label}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{label}: cannot read the scenario file ({exc})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark is not None else label
        raise InputError(f"{where}: YAML syntax error: {_yaml_problem(exc)}") from None
    except (ValueError, TypeError) as exc:  # a value PyYAML cannot build, e.g. "!!int abc"
        raise InputError(f"{label}: unreadable YAML value: {exc}") from None
    finally:
        loader.dispose()
    if node is None or data is None:
        raise InputError(f"{label}: the scenario file is empty")
    if not isinstance(data, dict):
        raise InputError(f"{label}:{node.start_mark.line + 1}: a scenario must be a mapping "
                         f"of keys (name, network, clock, ...), not a {type(data).__name__}")
    lines: dict[YamlPath, int] = {(): node.start_mark.line + 1}
    report = _Report(label, lines)
    _record_lines(node, (), lines, report)
    return data, report


def _record_lines(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int],
                  report: _Report) -> None:
    """Fill ``lines`` with the 1-based line of every mapping key and sequence item under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue  # merge keys and complex keys have no path of their own
            child = path + (key_node.value,)
            first = lines.get(child)
            lines[child] = key_node.start_mark.line + 1
            if first is not None:
                # PyYAML silently keeps the last value; a planner would not expect that
                report.at(child, f"duplicate key '{key_node.value}' (also on line {first})")
            _record_lines(value_node, child, lines, report)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _record_lines(item, path + (i,), lines, report)


# ---------------------------------------------------------------------------------------------
# Overrides (``--set``): dotted paths applied to the data before validation
# ---------------------------------------------------------------------------------------------

_SEGMENT = re.compile(r"^([^\[\]]*)((?:\[\d+\])*)$")
_ITEM_NOUN = {"sites": "site", "disturbances": "disturbance type", "plans": "plan",
              "units": "unit group"}


class _OverrideError(Exception):
    pass


def _item_label(item: object) -> str | None:
    """The value a list item is addressed by: its ``id``, else ``name``, else ``type``."""
    if isinstance(item, dict):
        for key in ("id", "name", "type"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


def _override_steps(key: str) -> list[str | int]:
    steps: list[str | int] = []
    for segment in key.split("."):
        match = _SEGMENT.match(segment)
        if match is None or (not match.group(1) and not match.group(2)):
            raise _OverrideError(f"cannot read '{segment}' in the path")
        if match.group(1):
            steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return steps


def _child(container: Any, step: str | int, parent_key: str | int, where: YamlPath,
           last: bool) -> tuple[Any, str | int]:
    """Where ``step`` leads inside ``container``: (the child, its index or key)."""
    if isinstance(container, list):
        if isinstance(step, int):
            if not 0 <= step < len(container):
                raise _OverrideError(f"{_dotted(where)}[{step}]: index out of range "
                                     f"({len(container)} items)")
            return container[step], step
        found = [i for i, item in enumerate(container) if _item_label(item) == step]
        noun = _ITEM_NOUN.get(str(parent_key), "item")
        if not found:
            known = [label for label in map(_item_label, container) if label is not None]
            raise _OverrideError(f"no {noun} '{step}'" + _suggest(step, known))
        if len(found) > 1:
            raise _OverrideError(f"{len(found)} {noun}s are called '{step}' in {_dotted(where)}; "
                                 f"address one by position, e.g. {_dotted(where)}[{found[0]}]")
        return container[found[0]], found[0]
    if isinstance(container, dict):
        if isinstance(step, int):
            raise _OverrideError(f"{_dotted(where)} is not a list")
        if step not in container and not last:
            container[step] = {}  # e.g. dispatch.queue when the file has no dispatch section
        return container.get(step), step
    raise _OverrideError(f"{_dotted(where)} is a value, not a section")


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, object],
                     report: _Report) -> dict[str, Any]:
    """``data`` with each dotted path set; a path that leads nowhere is reported, not applied."""
    for key, value in overrides.items():
        # on a copy: a path that fails half-way must not leave the sections it created behind
        trial = copy.deepcopy(data)
        try:
            steps = _override_steps(key)
            container: Any = trial
            where: YamlPath = ()
            parent_key: str | int = ""
            for n, step in enumerate(steps):
                last = n == len(steps) - 1
                child, index = _child(container, step, parent_key, where, last)
                if last:
                    container[index] = copy.deepcopy(value)
                container, parent_key, where = child, step, where + (index,)
        except _OverrideError as exc:
            report.general(f"--set {key}: {exc}")
            continue
        data = trial
        report.overridden.append((where, key))
    return data


# ---------------------------------------------------------------------------------------------
# Pass 1: the schema (structure, types, ranges). Strict: YAML already gives real numbers and
# booleans, and the checks of pass 2 read the same data, so no silent coercion here.
# ---------------------------------------------------------------------------------------------

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # a scenario name is a folder name
Id = Annotated[str, Field(min_length=1)]


class NetworkModel(BaseModel):
    model_config = _STRICT
    source: Literal["demo", "osm", "file"]
    place: str | None = None
    bbox: list[float] | None = Field(default=None, min_length=4, max_length=4)
    path: str | None = None
    network_type: str = "drive"


class ClockModel(BaseModel):
    model_config = _STRICT
    start: datetime
    duration_hours: float = Field(gt=0)
    warmup_hours: float = Field(default=0.0, ge=0)

    @field_validator("start", mode="before")
    @classmethod
    def _iso_datetime(cls, value: Any) -> Any:
        # the loader keeps dates as text; objects come from "!!timestamp" or Python overrides
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"not an ISO date-time such as \"2024-10-23T00:00\": {value!r}")


class SiteModel(BaseModel):
    model_config = _STRICT
    id: Id
    name: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: str = ""
    approximate: bool = False
    note: str = ""


class DistModel(BaseModel):
    model_config = _STRICT
    dist: Literal["fixed", "exponential", "lognormal", "uniform", "triangular"]
    value: float | None = None
    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None


class EscalationModel(BaseModel):
    model_config = _STRICT
    after_min: float = Field(gt=0)
    to: str


class DisturbanceModel(BaseModel):
    model_config = _STRICT
    type: Id
    rate_per_hour: float = Field(ge=0)
    sites: Any = "all"  # "all" or {site id: weight}: checked in pass 2, with a path per site
    hourly_profile: list[Annotated[float, Field(ge=0)]] | None = None
    on_scene_min: DistModel
    units_required: int = Field(default=1, ge=1)
    priority: int = Field(ge=1)
    escalation: EscalationModel | None = None


class UnitTypeModel(BaseModel):
    model_config = _STRICT
    agency: str
    speed_factor: float = Field(default=1.0, gt=0)


class PatrolModel(BaseModel):
    model_config = _STRICT
    mode: Literal["post", "circuit", "random", "base"]
    at: str | None = None
    route: list[str] | None = None
    dwell_min: float | None = Field(default=None, ge=0)
    sites: list[str] | None = None
    road_nodes: int | None = Field(default=None, ge=1)
    radius_km: float | None = Field(default=None, gt=0)


class UnitGroupModel(BaseModel):
    model_config = _STRICT
    type: str
    count: int = Field(ge=1)
    base: str
    patrol: PatrolModel


class PlanModel(BaseModel):
    model_config = _STRICT
    name: Id
    description: str = ""
    units: list[UnitGroupModel] = Field(min_length=1)


class DispatchModel(BaseModel):
    model_config = _STRICT
    policy: Literal["nearest"] = "nearest"
    queue: Literal["priority", "fifo"] = "priority"
    after_service: Literal["resume", "return_to_base"] = "resume"


class ScenarioModel(BaseModel):
    model_config = _STRICT
    name: Id
    description: str = ""
    network: NetworkModel
    clock: ClockModel
    replications: int = Field(ge=1)
    seed: int = Field(ge=0)
    target_response_min: float = Field(gt=0)
    max_snap_m: float = Field(default=500.0, gt=0)
    sites: list[SiteModel] = Field(min_length=1)
    disturbances: list[DisturbanceModel] = Field(min_length=1)
    unit_types: dict[str, UnitTypeModel] = Field(min_length=1)
    plans: list[PlanModel] = Field(min_length=1)
    dispatch: DispatchModel = DispatchModel()

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        # results go to results/<name>/: no slashes, no leading dot, nothing a shell would mangle
        if not _NAME.match(value):
            raise ValueError(f"{value!r} cannot name the results folder: use letters, digits, '.', '_' "
                             "and '-', starting with a letter or digit, e.g. jember-pilkada-2024")
        return value


def _without_none(annotation: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _allowed_keys(loc: YamlPath) -> list[str]:
    """The keys the schema allows at ``loc`` (for did-you-mean on unknown keys)."""
    annotation: Any = ScenarioModel
    for part in loc:
        annotation = _without_none(annotation)
        if _is_model(annotation) and isinstance(part, str) and part in annotation.model_fields:
            annotation = annotation.model_fields[part].annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]  # the item type, whatever the index or key
        else:
            return []
    annotation = _without_none(annotation)
    return list(annotation.model_fields) if _is_model(annotation) else []


# ---------------------------------------------------------------------------------------------
# Pass 2: cross-references and rules between keys. Reads the raw data defensively, so that it
# still reports what it can when pass 1 found the structure broken (pass 1 reports the types).
# ---------------------------------------------------------------------------------------------

_PATROL_KEYS = {"post": {"at"}, "circuit": {"route", "dwell_min"},
                "random": {"dwell_min", "sites", "road_nodes", "radius_km"}, "base": set()}


def _number(value: Any) -> bool:
    """A finite int or float (YAML's true/false are bools, not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _items(section: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, item) for i, item in enumerate(section) if isinstance(item, dict)] \
        if isinstance(section, list) else []


class _Checks:
    """The rules pydantic cannot express: ids that exist and are unique, keys that fit together."""

    def __init__(self, data: dict[str, Any], report: _Report, folder: Path):
        self.data = data
        self.report = report
        self.folder = folder
        self.site_ids: list[str] | None = None
        self.dist_types: list[str] | None = None

    def run(self) -> None:
        self.site_ids = self._unique_ids("sites", "id", "site id")
        self.dist_types = self._unique_ids("disturbances", "type", "disturbance type")
        self._unique_ids("plans", "name", "plan name")
        self._network()
        self._clock()
        for i, dist in _items(self.data.get("disturbances")):
            self._disturbance(("disturbances", i), dist)
        unit_types = self.data.get("unit_types")
        type_names = [k for k in unit_types if isinstance(k, str)] \
            if isinstance(unit_types, dict) else None
        for i, plan in _items(self.data.get("plans")):
            self._plan(("plans", i), plan, type_names)

    def _ref(self, path: YamlPath, value: Any, known: list[str] | None, kind: str) -> None:
        """Report ``value`` if it is a name that is not among ``known``."""
        if known is not None and isinstance(value, str) and value not in known:
            self.report.at(path, f"unknown {kind} '{value}'" + _suggest(value, known))

    def _unique_ids(self, section: str, key: str, kind: str) -> list[str] | None:
        if not isinstance(self.data.get(section), list):
            return None
        seen: dict[str, int] = {}
        for i, item in _items(self.data[section]):
            value = item.get(key)
            if not isinstance(value, str):
                continue
            if value in seen:
                self.report.at((section, i, key), f"duplicate {kind} '{value}' "
                                                  f"(also {section}[{seen[value]}])")
            else:
                seen[value] = i
        return list(seen)

    def _network(self) -> None:
        net = self.data.get("network")
        if not isinstance(net, dict):
            return
        source = net.get("source")
        if source == "osm" and net.get("place") is None and net.get("bbox") is None:
            self.report.at(("network", "source"), "source osm needs 'place' or 'bbox'")
        if source == "file":
            path = net.get("path")
            if path is None:
                self.report.at(("network", "source"), "source file needs 'path'")
            elif isinstance(path, str) and not _resolve(path, self.folder).exists():
                self.report.at(("network", "path"),
                               f"file not found: {_resolve(path, self.folder)}")
        bbox = net.get("bbox")
        if isinstance(bbox, list) and len(bbox) == 4 and all(map(_number, bbox)):
            west, south, east, north = bbox
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                self.report.at(("network", "bbox"), "expected [west, south, east, north] in "
                                                    "degrees with west < east and south < north")

    def _clock(self) -> None:
        clock = self.data.get("clock")
        if not isinstance(clock, dict):
            return
        duration, warmup = clock.get("duration_hours"), clock.get("warmup_hours", 0)
        # a duration <= 0 is reported by pass 1 already
        if _number(duration) and _number(warmup) and 0 < duration <= warmup:
            self.report.at(("clock", "warmup_hours"), f"warmup_hours ({warmup}) must be "
                                                      f"shorter than duration_hours ({duration})")

    def _disturbance(self, path: YamlPath, dist: dict[str, Any]) -> None:
        weights = dist.get("sites", "all")
        if isinstance(weights, dict):
            if not weights:
                self.report.at(path + ("sites",), "no sites: give 'all' or site ids with weights")
            for site, weight in weights.items():
                self._ref(path + ("sites", site), site, self.site_ids, "site")
                if not _number(weight) or weight <= 0:
                    self.report.at(path + ("sites", site),
                                   f"weight must be a positive number, got {weight!r}")
        elif weights != "all":
            self.report.at(path + ("sites",), "expected 'all' or a mapping of site id to "
                                              f"weight such as {{alun_alun: 2}}, got {weights!r}")
        profile = dist.get("hourly_profile")
        if isinstance(profile, list):
            if len(profile) != 24:
                self.report.at(path + ("hourly_profile",), "needs exactly 24 numbers (one per "
                                                           f"hour from 00:00), got {len(profile)}")
            elif all(_number(x) and x == 0 for x in profile):
                self.report.at(path + ("hourly_profile",), "all 24 values are zero")
        if isinstance(dist.get("on_scene_min"), dict):
            self._dist(path + ("on_scene_min",), dist["on_scene_min"])
        escalation = dist.get("escalation")
        if isinstance(escalation, dict):
            target = escalation.get("to")
            if target is not None and target == dist.get("type"):
                self.report.at(path + ("escalation", "to"), "a disturbance type cannot "
                                                            "escalate to itself")
            else:
                self._ref(path + ("escalation", "to"), target, self.dist_types,
                          "disturbance type")

    def _dist(self, path: YamlPath, d: dict[str, Any]) -> None:
        name = d.get("dist")
        if name not in DIST_PARAMS:
            return  # pass 1 reports the unknown dist name
        takes = DIST_PARAMS[name]
        given = {k for k in d if k != "dist" and k in DistModel.model_fields}
        for key in sorted(given - set(takes)):
            self.report.at(path + (key,), f"'{key}' is not a parameter of dist '{name}' "
                                          f"(it takes: {', '.join(takes)})")
        missing = [p for p in takes if d.get(p) is None]
        if missing:
            self.report.at(path, f"dist '{name}' needs {', '.join(map(repr, missing))}")
            return
        p = {k: d[k] for k in takes}
        if not all(map(_number, p.values())):
            return  # pass 1 reports the types
        rules: list[tuple[bool, str, str]]  # (ok, parameter at fault, message)
        if name == "fixed":
            rules = [(p["value"] >= 0, "value", "must be >= 0 minutes")]
        elif name == "exponential":
            rules = [(p["mean"] > 0, "mean", "must be > 0")]
        elif name == "lognormal":
            rules = [(p["mean"] > 0, "mean", "must be > 0"),
                     (p["sd"] > 0, "sd", "must be > 0 (for no spread use dist fixed)")]
        elif name == "uniform":
            rules = [(p["low"] >= 0, "low", "must be >= 0 minutes"),
                     (p["low"] < p["high"], "high", "must be > low")]
        else:
            rules = [(p["low"] >= 0, "low", "must be >= 0 minutes"),
                     (p["low"] < p["high"], "high", "must be > low"),
                     (p["low"] <= p["mode"] <= p["high"], "mode", "must lie between low and high")]
        for ok, key, message in rules:
            if not ok:
                self.report.at(path + (key,), f"{message}, got {p[key]!r}")

    def _plan(self, path: YamlPath, plan: dict[str, Any], type_names: list[str] | None) -> None:
        total: int | None = 0
        for j, group in _items(plan.get("units")):
            where = path + ("units", j)
            self._ref(where + ("type",), group.get("type"), type_names, "unit type")
            self._ref(where + ("base",), group.get("base"), self.site_ids, "site")
            if isinstance(group.get("patrol"), dict):
                self._patrol(where + ("patrol",), group["patrol"])
            count = group.get("count")
            valid = isinstance(count, int) and not isinstance(count, bool) and count >= 1
            total = total + count if valid and total is not None else None
        if not isinstance(plan.get("units"), list) or total is None:
            return  # the unit count is unknown: pass 1 reports why
        for i, dist in _items(self.data.get("disturbances")):
            needed = dist.get("units_required", 1)
            if isinstance(needed, int) and needed > total:
                self.report.at(("disturbances", i, "units_required"),
                               f"disturbance type '{dist.get('type')}' needs {needed} units "
                               f"but plan '{plan.get('name')}' has only {total}")

    def _patrol(self, path: YamlPath, patrol: dict[str, Any]) -> None:
        mode = patrol.get("mode")
        if mode not in _PATROL_KEYS:
            return  # pass 1 reports the unknown mode
        for key in patrol:
            if key != "mode" and key in PatrolModel.model_fields \
                    and key not in _PATROL_KEYS[mode]:
                modes = [m for m, keys in _PATROL_KEYS.items() if key in keys]
                self.report.at(path + (key,), f"'{key}' is only for mode {' or '.join(modes)}, "
                                              f"not {mode}")
        if mode == "post":
            if patrol.get("at") is None:
                self.report.at(path, "mode post needs 'at': the site to stay at")
            self._ref(path + ("at",), patrol.get("at"), self.site_ids, "site")
        elif mode == "circuit":
            route = patrol.get("route")
            if route is None:
                self.report.at(path, "mode circuit needs 'route': the sites to visit in order")
            elif isinstance(route, list):
                if len(route) < 2:
                    self.report.at(path + ("route",), f"a circuit needs at least 2 stops, "
                                                      f"got {len(route)}")
                for k, stop in enumerate(route):
                    self._ref(path + ("route", k), stop, self.site_ids, "site")
        elif mode == "random":
            sites = patrol.get("sites")
            if sites is not None and patrol.get("road_nodes") is not None:
                self.report.at(path, "give either 'sites' or 'road_nodes', not both")
            if patrol.get("radius_km") is not None and patrol.get("road_nodes") is None:
                self.report.at(path + ("radius_km",), "'radius_km' only applies with "
                                                      "'road_nodes'")
            if isinstance(sites, list):
                if not sites:
                    self.report.at(path + ("sites",), "needs at least one site")
                for k, site in enumerate(sites):
                    self._ref(path + ("sites", k), site, self.site_ids, "site")


def _resolve(path: str, folder: Path) -> Path:
    """A network file path as given, relative to the scenario file's folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (folder / p).resolve()


# ---------------------------------------------------------------------------------------------
# Conversion of the validated model into the frozen Scenario
# ---------------------------------------------------------------------------------------------


def _network_spec(m: NetworkModel, folder: Path) -> NetworkSpec:
    """Every key as given (``--network osm`` reuses place/bbox of a demo scenario); path resolved."""
    bbox = tuple(m.bbox) if m.bbox is not None else None
    path = str(_resolve(m.path, folder)) if m.path is not None else None
    return NetworkSpec(m.source, place=m.place, bbox=bbox,  # type: ignore[arg-type]
                       path=path, network_type=m.network_type)


def _patrol(m: PatrolModel, site_ids: tuple[str, ...]) -> Patrol:
    if m.mode == "post":
        return Patrol("post", at=m.at)
    if m.mode == "circuit":
        return Patrol("circuit", route=tuple(m.route or ()), dwell_min=m.dwell_min or 0.0)
    if m.mode == "random":
        if m.road_nodes is not None:
            return Patrol("random", dwell_min=m.dwell_min or 0.0, road_nodes=m.road_nodes,
                          radius_km=m.radius_km or DEFAULT_RADIUS_KM)
        return Patrol("random", dwell_min=m.dwell_min or 0.0,
                      sites=tuple(m.sites) if m.sites is not None else site_ids)
    return Patrol("base")


def _scenario(m: ScenarioModel, raw: dict[str, Any], folder: Path, source_path: str | None) -> Scenario:
    site_ids = tuple(s.id for s in m.sites)
    disturbances = tuple(
        DisturbanceType(
            type=d.type,
            rate_per_hour=d.rate_per_hour,
            site_weights=({s: 1.0 for s in site_ids} if d.sites == "all"
                          else {s: float(w) for s, w in d.sites.items()}),
            hourly_profile=tuple(d.hourly_profile) if d.hourly_profile is not None else None,
            on_scene_min=dist_from_dict(d.on_scene_min.model_dump(exclude_none=True)),
            units_required=d.units_required,
            priority=d.priority,
            escalation=Escalation(d.escalation.after_min, d.escalation.to)
            if d.escalation is not None else None,
        )
        for d in m.disturbances
    )
    plans = tuple(
        Plan(p.name, p.description, tuple(
            UnitGroup(g.type, g.count, g.base, _patrol(g.patrol, site_ids)) for g in p.units))
        for p in m.plans
    )
    raw = copy.deepcopy(raw)
    return Scenario(
        name=m.name,
        description=m.description,
        network=_network_spec(m.network, folder),
        clock=Clock(m.clock.start, m.clock.duration_hours, m.clock.warmup_hours),
        replications=m.replications,
        seed=m.seed,
        target_response_min=m.target_response_min,
        max_snap_m=m.max_snap_m,
        sites=tuple(Site(s.id, s.name if s.name is not None else s.id, s.lat, s.lon, s.kind,
                         s.approximate, s.note) for s in m.sites),
        disturbances=disturbances,
        unit_types={k: UnitType(k, u.agency, u.speed_factor) for k, u in m.unit_types.items()},
        plans=plans,
        dispatch=Dispatch(m.dispatch.policy, m.dispatch.queue, m.dispatch.after_service),
        source_path=source_path,
        raw=raw,
        sha256=scenario_hash(raw),
    )
