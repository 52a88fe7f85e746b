"""The hypercube model of a scenario's plan, beside the simulation of the same plan.

The model applies to plans whose units stay at a post or base. Its inputs come from the
scenario: each site with demand is an atom; its call rate is the disturbance rates averaged over
the measured part of the clock (hour-of-day profiles included), one call per required unit;
units prefer atoms by travel time from where they stand; a unit's service time is the mean
on-scene time plus the mean travel time of the calls it serves (a fixed point, iterated).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.option_names import API_NAMES, OptionNames
from sim.study.stats import mean_ci95
from sim.errors import InputError
from sim.analytic.hypercube import HypercubeInput, HypercubeResult, preference_from_travel, solve
from sim.analytic.hypercube_balance import EXACT_MAX_UNITS
from sim.model.incidents import MIN_PER_HOUR, hour_of_day
from sim.model import World, simulate, unit_ids
from sim.model.movement import SECONDS_PER_MIN
from sim.network.trees import times_s_from

MAX_EXACT_UNITS = EXACT_MAX_UNITS  # 2^20 states: the exact model's limit (about 0.8 GB, a minute a solve)
# Up to this many atoms, travel comes from each atom's reverse tree (the simulation's own numbers,
# to the bit); above, from one forward tree per post (the same fastest paths, summed from the
# other end: equal to about 1e-12 s, and a few hundred trees instead of thousands).
REVERSE_TREES_MAX_ATOMS = 500
SERVICE_TOLERANCE = 1e-10  # relative change of every service rate that ends the fixed point
MAX_SERVICE_ITERATIONS = 200


@dataclass(frozen=True)
class PlanModel:
    """A plan as a hypercube model, and its answer."""

    plan: str
    unit_ids: tuple[str, ...]
    unit_sites: tuple[str, ...]  # post or base of each unit
    atoms: tuple[str, ...]  # sites with demand
    model_input: HypercubeInput
    result: HypercubeResult
    notes: tuple[str, ...]  # where the model simplifies this scenario


def _profile_mean(scenario, profile: tuple[float, ...] | None) -> float:
    """Mean of an hour-of-day profile over the measured window of the clock."""
    if profile is None:
        return 1.0
    start_min = scenario.clock.warmup_hours * MIN_PER_HOUR
    end_min = scenario.clock.duration_hours * MIN_PER_HOUR
    minutes = np.arange(start_min, end_min) + 0.5
    return float(np.asarray(profile)[hour_of_day(scenario.clock.start, minutes)].mean())


def _units(scenario, plan) -> tuple[list[str], list[str], list[float]]:
    """Unit ids, where each stands, and speed factors, in the simulation's unit order."""
    roving = [f"{g.type} x{g.count} ({g.patrol.mode})" for g in plan.units if g.patrol.standing_site(g.base) is None]
    if roving:
        raise InputError(
            f"hypercube: plan '{plan.name}' has units that move ({', '.join(roving)}); the hypercube "
            "model needs every unit to stand still when free (a post or the base)"
        )
    sites, speed = [], []
    for group in plan.units:
        sites += [group.patrol.standing_site(group.base)] * group.count
        speed += [scenario.unit_types[group.type].speed_factor] * group.count
    return unit_ids(plan), sites, speed


def plan_model(scenario, world: World, plan_name: str, allow_approximate: bool = False,
               names: OptionNames = API_NAMES) -> PlanModel:
    """Build and solve the hypercube model of one plan (``names``: how the user allows the
    approximation, for the message when the exact model is too large)."""
    plan = scenario.plan(plan_name)
    ids, unit_sites, speed_factors = _units(scenario, plan)
    if len(ids) > MAX_EXACT_UNITS and not allow_approximate:
        raise InputError(f"hypercube: plan '{plan.name}' has {len(ids)} units, more than the exact model's "
                         f"{MAX_EXACT_UNITS}; add {names.approximate} for Larson's approximation")
    rate_per_min: dict[str, float] = {}
    on_scene_weighted: dict[str, float] = {}
    notes = []
    for disturbance in scenario.disturbances:
        total_weight = sum(disturbance.site_weights.values())
        calls_per_min = (disturbance.rate_per_hour * _profile_mean(scenario, disturbance.hourly_profile)
                         * disturbance.units_required / MIN_PER_HOUR)
        for site, weight in disturbance.site_weights.items():
            rate = calls_per_min * weight / total_weight
            rate_per_min[site] = rate_per_min.get(site, 0.0) + rate
            on_scene_weighted[site] = on_scene_weighted.get(site, 0.0) + rate * disturbance.on_scene_min.mean
        if disturbance.units_required > 1:
            notes.append(f"'{disturbance.type}' needs {disturbance.units_required} units: counted as "
                         f"{disturbance.units_required} separate calls")
        if disturbance.escalation is not None:
            notes.append(f"'{disturbance.type}' escalation is not modelled")
    atoms = [site.id for site in scenario.sites if rate_per_min.get(site.id, 0.0) > 0]
    if not atoms:
        raise InputError("hypercube: the scenario has no disturbance with a positive rate")
    arrival = np.array([rate_per_min[a] for a in atoms])
    on_scene_min = np.array([on_scene_weighted[a] / rate_per_min[a] for a in atoms])
    travel_min = _travel_s(world, unit_sites, atoms) / SECONDS_PER_MIN / np.array(speed_factors)[:, None]
    preference = preference_from_travel(travel_min)

    # Service time depends on which calls a unit serves, which depends on service times.
    service_min = np.full(len(ids), float(on_scene_min @ arrival / arrival.sum()))
    for _ in range(MAX_SERVICE_ITERATIONS):
        model_input = HypercubeInput(arrival, preference, 1.0 / service_min, travel_min)
        result = solve(model_input, allow_approximate, MAX_EXACT_UNITS)
        share = result.dispatch_fraction
        served = share.sum(axis=1)
        new_service_min = np.where(
            served > 0, ((share * (on_scene_min + travel_min)).sum(axis=1)) / np.maximum(served, 1e-300), service_min
        )
        if len(ids) > MAX_EXACT_UNITS:  # Larson's approximation assumes one service rate for all
            new_service_min = np.full(len(ids), float(served @ new_service_min / served.sum()))
        converged = np.all(np.abs(new_service_min - service_min) <= SERVICE_TOLERANCE * service_min)
        service_min = new_service_min
        if converged:
            break
    model_input = HypercubeInput(arrival, preference, 1.0 / service_min, travel_min)
    result = solve(model_input, allow_approximate, MAX_EXACT_UNITS)
    if len(set(unit_sites)) < len(unit_sites):
        notes.append("units standing together keep a fixed order in the model; the simulation sends "
                     "whichever is nearer (one may be on its way back): compare their sum")
    if len(ids) > MAX_EXACT_UNITS:
        notes.append(f"{len(ids)} units: Larson's approximation, with one mean service time for all units")
    return PlanModel(plan.name, tuple(ids), tuple(unit_sites), tuple(atoms), model_input, result,
                     tuple(dict.fromkeys(notes)))


def _travel_s(world: World, unit_sites: list[str], atoms: list[str]) -> np.ndarray:
    """(units, atoms) fastest travel time in seconds from each unit's post to each atom."""
    unit_nodes = np.array([world.site_node[site] for site in unit_sites], dtype=np.int64)
    atom_nodes = [world.site_node[atom] for atom in atoms]
    if len(atoms) > REVERSE_TREES_MAX_ATOMS:
        return times_s_from(world.network, unit_nodes, atom_nodes)
    # Atom by atom: each tree is used once, so a cache smaller than all of them never thrashes.
    return np.column_stack([world.tables.times_s_to(node, unit_nodes) for node in atom_nodes])


@dataclass(frozen=True)
class SimulatedFigures:
    """The model's figures measured in the simulation: per-replication values."""

    workload: np.ndarray  # (reps, N) busy fraction
    dispatch_fraction: np.ndarray  # (reps, N, J) share of counted calls served by unit n at atom j
    queue_probability: np.ndarray  # (reps,) share of counted incidents that waited
    mean_wait_min: np.ndarray  # (reps,)
    mean_travel_min: np.ndarray  # (reps,)


def simulate_figures(scenario, world: World, model: PlanModel, reps: int) -> SimulatedFigures:
    """Run the plan ``reps`` times and measure what the model predicts."""
    atom_index = {atom: j for j, atom in enumerate(model.atoms)}
    unit_index = {unit_id: n for n, unit_id in enumerate(model.unit_ids)}
    workload, dispatch, queued, wait, travel = [], [], [], [], []
    for rep in range(reps):
        result = simulate(scenario, world, model.plan, rep)
        counted = {i.spec.incident_id: i for i in result.incidents if i.counted}
        workload.append([unit.busy_fraction() for unit in result.units])
        calls = np.zeros((len(model.unit_ids), len(model.atoms)))
        for unit in result.units:
            for job in unit.stats.jobs:
                if job.incident_id in counted:
                    calls[unit_index[unit.unit_id], atom_index[counted[job.incident_id].spec.site]] += 1
        dispatch.append(calls / max(calls.sum(), 1.0))
        incidents = list(counted.values())
        waits = np.array([i.t_first_dispatch_min - i.spec.t_created_min for i in incidents])
        travels = np.array([i.t_first_arrival_min - i.t_first_dispatch_min for i in incidents])
        queued.append(float(np.mean(waits > 0)) if len(waits) else np.nan)
        wait.append(float(waits.mean()) if len(waits) else np.nan)
        travel.append(float(travels.mean()) if len(travels) else np.nan)
    return SimulatedFigures(np.array(workload), np.array(dispatch), np.array(queued), np.array(wait), np.array(travel))


def comparison(model: PlanModel, simulated: SimulatedFigures | None) -> dict:
    """Analytic figures, each beside its simulated mean and 95% half-width (``<name>_sim``,
    ``<name>_sim_ci95``) when the simulation ran."""
    result = model.result
    figures = {
        "plan": model.plan,
        "method": result.method,
        "queue_probability": result.queue_probability,
        "mean_wait_min": result.mean_wait_min,
        "mean_travel_min": result.mean_travel_min,
    }
    if simulated is not None:
        for name, values in (("queue_probability", simulated.queue_probability),
                             ("mean_wait_min", simulated.mean_wait_min),
                             ("mean_travel_min", simulated.mean_travel_min)):
            figures[f"{name}_sim"], figures[f"{name}_sim_ci95"] = mean_ci95(values)
        figures["reps"] = len(simulated.queue_probability)
    units = []
    for n, unit_id in enumerate(model.unit_ids):
        unit = {"unit_id": unit_id, "stands_at": model.unit_sites[n], "workload": float(result.workload[n]),
                "dispatch_fraction": {atom: float(result.dispatch_fraction[n, j])
                                      for j, atom in enumerate(model.atoms)}}
        if simulated is not None:
            unit["workload_sim"], unit["workload_sim_ci95"] = mean_ci95(simulated.workload[:, n])
            unit["dispatch_fraction_sim"] = {atom: mean_ci95(simulated.dispatch_fraction[:, n, j])[0]
                                             for j, atom in enumerate(model.atoms)}
        units.append(unit)
    figures["units"] = units
    figures["notes"] = list(model.notes)
    return figures


def format_comparison(figures: dict) -> str:
    """The table printed by ``hypercube``."""
    has_sim = "reps" in figures

    def sim(name: str, digits: int) -> str:
        if not has_sim:
            return ""
        mean, half = figures.get(f"{name}_sim"), figures.get(f"{name}_sim_ci95")
        return f"{mean:.{digits}f} ± {half:.{digits}f}" if half == half else f"{mean:.{digits}f}"

    header = f"{'':26s} {'model':>10s} {'simulation (95%)' if has_sim else '':>20s}"
    lines = [f"Hypercube model ({figures['method']}) of plan '{figures['plan']}'"
             + (f" beside {figures['reps']} simulated replications" if has_sim else ""), header]
    for label, name, digits in (("share of calls that queue", "queue_probability", 4),
                                ("mean queue wait (min)", "mean_wait_min", 3),
                                ("mean travel (min)", "mean_travel_min", 2)):
        lines.append(f"{label:26s} {figures[name]:10.{digits}f} {sim(name, digits):>20s}")
    lines.append("")
    lines.append(f"{'unit':16s} {'stands at':20s} {'workload':>10s} {'simulation (95%)' if has_sim else '':>20s}")
    for unit in figures["units"]:
        simulated = ""
        if has_sim:
            simulated = f"{unit['workload_sim']:.4f} ± {unit['workload_sim_ci95']:.4f}"
        lines.append(f"{unit['unit_id']:16s} {unit['stands_at']:20s} {unit['workload']:10.4f} {simulated:>20s}")
    for note in figures["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)
