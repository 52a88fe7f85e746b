"""What the page's API is asked, checked before any work: JSON bodies and query strings to requests.

Every problem is a ``field: message`` line (``InputError``), the field named as the request
writes it (``plan.units[0].patrol.at``, ``reps``); ``problem_fields`` turns those lines into the
JSON a 400 answer carries. The plan and its new sites are checked by the scenario schema later
(``sim.serve.engine``); here only the shape of the request and the bounds of its numbers.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from sim.config import limits
from sim.errors import InputError, shown

EVALUATE_KEYS = ("plan", "sites", "reps", "seed", "hours", "against", "client")
VARIANT_KEYS = ("plan", "sites")
AGAINST_KEYS = ("label", "plan", "sites")
OPTIMIZE_KEYS = ("plan", "sites", "reps", "seed", "hours", "objective")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_. -]*$")


@dataclass(frozen=True)
class PlanVariant:
    """A plan as in the YAML and the sites it adds to the scenario (posts placed on the page)."""

    plan: dict
    sites: tuple[dict, ...] = ()

    @property
    def name(self) -> str:
        return str(self.plan.get("name"))

    def data(self) -> dict:
        return {"plan": self.plan, "sites": list(self.sites)}


@dataclass(frozen=True)
class Evaluation:
    """``POST /api/evaluate``: one plan, replications, seed and hours; plans to pair it against."""

    variant: PlanVariant
    reps: int | None
    seed: int | None
    hours: float | None
    against: tuple[tuple[str, PlanVariant], ...] = ()
    client: str | None = None
    extra: dict = field(default_factory=dict)  # e.g. the optimiser's objective

    def run_key(self) -> dict:
        """What the numbers depend on: the plan, its sites, replications, seed and hours."""
        return {**self.variant.data(), "reps": self.reps, "seed": self.seed, "hours": self.hours}

    @property
    def digest(self) -> str:
        """A content digest of ``run_key``: the id of this evaluation for later GETs."""
        return digest(self.run_key())

    def with_variant(self, variant: PlanVariant) -> Evaluation:
        return Evaluation(variant, self.reps, self.seed, self.hours)


def digest(data: Any) -> str:
    """The first 32 hex digits of the sha256 of canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_json(body: bytes) -> Any:
    """The body as JSON, or InputError (a body of more than the bound is refused before, as 413)."""
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("body: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InputError(f"body: not JSON ({error.msg} at line {error.lineno} column {error.colno})") from None


def _unknown_keys(data: Mapping, known: tuple[str, ...], where: str) -> list[str]:
    prefix = f"{where}." if where else ""
    return [f"{prefix}{str(key)[:40]}: unknown key (known: {', '.join(known)})" for key in data if key not in known]


def _whole(value: Any, name: str, low: int, high: int, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{name}: expected a whole number from {low:,} to {high:,}, got {shown(value, 40)}")
        return None
    if not low <= value <= high:
        problems.append(f"{name}: {value:,} is outside {low:,} to {high:,}")
        return None
    return value


def _variant(data: Any, where: str, problems: list[str]) -> PlanVariant | None:
    """A plan and its sites from ``data`` (``where``: the field holding them, "" at the top)."""
    prefix = f"{where}." if where else ""
    plan = data.get("plan")
    if not isinstance(plan, dict):
        problems.append(f"{prefix}plan: expected a plan as in the YAML (name, units), got {shown(plan, 60)}")
        return None
    name = plan.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= limits.MAX_SERVE_ID_CHARS:
        problems.append(f"{prefix}plan.name: expected a name of 1 to {limits.MAX_SERVE_ID_CHARS} characters")
    units = plan.get("units")
    if isinstance(units, list) and len(units) > limits.MAX_SERVE_UNITS:
        problems.append(f"{prefix}plan.units: {len(units):,} groups, more than the {limits.MAX_SERVE_UNITS} vehicles "
                        "a plan on the page may have")
    sites = data.get("sites", [])
    if sites is None:
        sites = []
    if not isinstance(sites, list) or not all(isinstance(site, dict) for site in sites):
        problems.append(f"{prefix}sites: expected a list of sites as in the YAML (id, name, lat, lon)")
        return None
    if len(sites) > limits.MAX_SERVE_NEW_SITES:
        problems.append(f"{prefix}sites: {len(sites):,} new sites, more than the {limits.MAX_SERVE_NEW_SITES} "
                        "one request may add")
        return None
    return PlanVariant(plan, tuple(sites))


def parse_evaluation(data: Any, keys: tuple[str, ...] = EVALUATE_KEYS) -> Evaluation:
    """An Evaluation from a decoded JSON body; InputError with every problem at once."""
    if not isinstance(data, dict):
        raise InputError(f"body: expected a JSON object with {', '.join(keys)}, got {type(data).__name__}")
    problems = _unknown_keys(data, keys, "")
    variant = _variant(data, "", problems)
    reps = _whole(data.get("reps"), "reps", 1, limits.MAX_SERVE_REPS, problems)
    seed = _whole(data.get("seed"), "seed", 0, limits.MAX_SEED, problems)
    hours = data.get("hours")
    if hours is not None:
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not math.isfinite(hours) \
                or not 0 < hours <= limits.MAX_DURATION_HOURS:
            problems.append(f"hours: expected a number of hours above 0 and at most {limits.MAX_DURATION_HOURS:g}, "
                            f"got {shown(hours, 40)}")
            hours = None
        else:
            hours = float(hours)
    against = _against(data.get("against", []), problems)
    client = data.get("client")
    if client is not None and (not isinstance(client, str) or not 1 <= len(client) <= limits.MAX_SERVE_ID_CHARS):
        problems.append(f"client: expected a text of 1 to {limits.MAX_SERVE_ID_CHARS} characters")
        client = None
    extra = {}
    if "objective" in keys:
        from sim.optimize.objectives import OBJECTIVES  # the optimiser's registry

        objective = data.get("objective", "mclp")
        if not isinstance(objective, str) or objective not in OBJECTIVES:
            problems.append(f"objective: one of {', '.join(OBJECTIVES)}, got {shown(objective, 40)}")
        extra["objective"] = objective
    if problems:
        raise InputError(problems)
    assert variant is not None
    return Evaluation(variant, reps, seed, hours, against, client, extra)


def _against(items: Any, problems: list[str]) -> tuple[tuple[str, PlanVariant], ...]:
    if items is None:
        return ()
    if not isinstance(items, list) or len(items) > limits.MAX_SERVE_AGAINST:
        problems.append(f"against: expected a list of at most {limits.MAX_SERVE_AGAINST} plans "
                        "({label, plan, sites}) to pair the plan against")
        return ()
    found = []
    for k, item in enumerate(items):
        where = f"against[{k}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected {{label, plan, sites}}")
            continue
        problems.extend(_unknown_keys(item, AGAINST_KEYS, where))
        label = item.get("label")
        if not isinstance(label, str) or not _LABEL.match(label) or len(label) > limits.MAX_SERVE_ID_CHARS:
            problems.append(f"{where}.label: expected a short label of letters, digits, ' ', '.', '_' and '-'")
            continue
        variant = _variant(item, where, problems)
        if variant is not None:
            found.append((label, variant))
    return tuple(found)


def query_number(params: Mapping[str, str], name: str, default: float, low: float, high: float,
                 whole: bool = False) -> float:
    """A number from a query string, inside [low, high]; InputError naming the parameter."""
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise InputError(f"{name}: expected {kind} from {low:g} to {high:g}, got {shown(text, 40)}")
    return value


# -- problems as JSON --------------------------------------------------------------------------------

_FIELD = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]-]*)(?P<value> '[^']*')?: (?P<message>.*)$")


def problem_fields(problems: list[str]) -> list[dict[str, str]]:
    """Each problem line as ``{"field", "message"}`` (field "" when the line names none)."""
    found = []
    for line in problems:
        match = _FIELD.match(line)
        if match:
            value = f"{match['value'].strip()}: " if match["value"] else ""
            found.append({"field": match["field"], "message": value + match["message"]})
        else:
            found.append({"field": "", "message": line})
    return found
