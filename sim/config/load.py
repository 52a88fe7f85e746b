"""Loading a scenario: read (file or data), apply overrides, validate in one pass.

Every problem is reported at once in one ``InputError``, each as ``FILE:LINE: yaml.path: message``:
the schema's (structure, types, ranges, the plug-ins' own rules) and the rules between parts (ids
that exist, units required against fleets), all found by ``Scenario``'s validators.
"""
from __future__ import annotations

import copy
import difflib
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.config.known import Known
from sim.config.network_spec import NetworkSpec, network_spec_from_arg
from sim.config.option_names import API_NAMES, OptionNames
from sim.config.overrides import apply_overrides
from sim.config.problems import Report
from sim.config.scenario import Scenario, scenario_hash
from sim.config.yaml_reader import read_yaml, read_yaml_value
from sim.errors import InputError, ScenarioWarning, shown
from sim.plugins.loading import MAX_PLUGINS, load_entry_points, load_plugin

__all__ = ["choose_plans", "load_scenario", "network_spec", "parse_override", "scenario_hash", "use_plugins"]


def load_scenario(source: str | Path | Mapping[str, Any], overrides: Mapping[str, object] | None = None,
                  *, folder: str | Path | None = None, plugins: Sequence[str] = (),
                  names: OptionNames = API_NAMES) -> Scenario:
    """Read, override, validate and freeze a scenario; InputError lists every problem.

    ``source`` is a YAML file or the scenario's data as a mapping (problems then name the YAML
    path without a line; relative network paths resolve against ``folder``, default the
    current folder). ``plugins`` are modules (or ``.py`` files, relative to the current folder)
    to import first, besides those the scenario names and the installed entry points. ``names``
    say how the user gave the overrides (``--set`` on the command line), for the messages.
    """
    use_plugins(plugins)
    if isinstance(source, Mapping):
        data, report = copy.deepcopy(dict(source)), Report("scenario", {}, names)
        source_path = None
        folder = Path(folder) if folder is not None else Path.cwd()
    else:
        path = Path(source)
        data, lines = read_yaml(path, str(path))
        report, source_path, folder = Report(str(path), lines, names), str(path), path.parent
    data = apply_overrides(data, overrides or {}, report)
    on_command_line = any(path[:2] in (("clock",), ("clock", "duration_hours")) for path, _ in report.overridden)
    context = {"folder": folder, "report": report, "raw": data, "source_path": source_path,
               "known": Known(clock_set_on_command_line=on_command_line)}
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        report.pydantic_errors(exc, Scenario)
    report.raise_if_any()  # the schema's problems and the overrides' own
    assert scenario is not None  # no problem reported, so the scenario validated
    for text in scenario.warnings:
        warnings.warn(ScenarioWarning(text), stacklevel=2)
    return scenario


def use_plugins(plugins: Sequence[str] = ()) -> tuple[str, ...]:
    """Import the installed plug-ins (entry points, once; one that fails is a warning) and ``plugins``
    (InputError naming each that fails); returns the names of the modules imported."""
    for problem in load_entry_points():
        warnings.warn(ScenarioWarning(problem), stacklevel=3)
    if isinstance(plugins, str) or not isinstance(plugins, Sequence):
        raise InputError(f"plugins: expected a list of module names or .py files, got {shown(plugins, 80)}")
    if len(plugins) > MAX_PLUGINS:
        raise InputError(f"plugins: {len(plugins):,} modules, more than the {MAX_PLUGINS} one study may name")
    problems, modules = [], []
    for text in plugins:
        try:
            modules.append(load_plugin(text))
        except ValueError as error:
            problems.append(f"plugin {shown(text, 80)}: {error}")
    if problems:
        raise InputError(problems)
    return tuple(modules)


def choose_plans(scenario: Scenario, wanted: Sequence[str] | None, name: str = API_NAMES.plans) -> list[str]:
    """The plans to run: those asked for, in the order given (the first is the reference),
    else every plan in scenario order; an unknown name is an error with a suggestion, under the
    option's ``name``."""
    names = [plan.name for plan in scenario.plans]
    if not wanted:
        return names
    problems = []
    for plan in wanted:
        if plan not in names:
            close = difflib.get_close_matches(plan, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (plans: {', '.join(names)})"
            problems.append(f"{name}: no plan '{plan}' in the scenario{hint}")
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(wanted))


def network_spec(scenario: Scenario, arg: str | None, name: str = API_NAMES.network) -> NetworkSpec:
    """The scenario's network, unless ``arg`` (the option ``name``: ``--network`` on the command line)
    says otherwise ('osm' keeps its place, bbox and network type)."""
    net = scenario.network
    if arg is None:
        return net
    if arg == "osm":
        if net.place is None and net.bbox is None:
            raise InputError(f"{name} osm: the scenario's network has no 'place' or 'bbox' to download")
        return NetworkSpec("osm", place=net.place, bbox=net.bbox, network_type=net.network_type)
    return network_spec_from_arg(arg, name)


def parse_override(text: str, name: str = API_NAMES.sets) -> tuple[str, object]:
    """``"KEY=VALUE"`` (``--set`` on the command line) -> (KEY, VALUE read as YAML: "0.3" -> 0.3);
    problems under the option's ``name``."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"{name} {text}: expected KEY=VALUE, e.g. clock.duration_hours=24")
    label = f"{name} {key}"
    try:
        return key, read_yaml_value(value, label)
    except InputError as error:  # the value once, cut: it may be a pasted file or an alias bomb
        problem = re.sub(rf"^{re.escape(label)}(:\d+)?: ", "", error.problems[0])
        raise InputError(f"{label}={value[:60] + '…' if len(value) > 60 else value}: {problem}") from None
