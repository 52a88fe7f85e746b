"""The optimiser's text: ``proposed_plan.yaml`` (to paste into a scenario), ``optimize.json`` and
what the terminal shows."""
from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq



def _version() -> str:
    try:
        return metadata.version("patrolsim")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _flow(mapping: dict) -> CommentedMap:
    """A mapping written on one line, like the scenario file's sites and unit groups."""
    out = CommentedMap()
    for key, value in mapping.items():
        out[key] = _flow(value) if isinstance(value, dict) else value
    out.fa.set_flow_style()
    return out


def proposed_plan_yaml(comment: Sequence[str], sites: Sequence[dict], plans: Sequence[dict]) -> str:
    """A YAML block with the new sites and the plans, headed by ``comment`` lines: paste the sites
    under the scenario's ``sites:`` and the plans under its ``plans:``."""
    data = CommentedMap()
    if sites:
        data["sites"] = CommentedSeq(_flow(site) for site in sites)
    plan_list = CommentedSeq()
    for plan in plans:
        entry = CommentedMap(name=plan["name"], description=plan["description"])
        entry["units"] = CommentedSeq(_flow(group) for group in plan["units"])
        plan_list.append(entry)
    data["plans"] = plan_list
    yaml = YAML()
    yaml.width = 4096  # one site or unit group per line, however long
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    header = "".join(f"# {line}\n" if line else "#\n" for line in comment)
    return header + buffer.getvalue()


def proof_text(optimal: bool, gap: float, time_limit_s: float | None = None) -> str:
    """Whether the program proved its placement best, in words a planner reads: the gap is how much
    better than this placement the best one could at most be, by the solver's bound."""
    if optimal:
        return "proven optimal"
    limit = f" in the {time_limit_s:g} s time limit" if time_limit_s is not None else " in the time limit"
    shown = "less than 0.01%" if gap < 5e-5 else f"{gap:.2%}"
    return (f"not proven optimal{limit}: the best placement could be at most {shown} better than this one "
            "(gap to the solver's bound)")


def plan_comment(scenario_name: str, objective, candidates: str, n_candidates: int, units_text: str,
                 target_min: float, busy: float, optimal: bool, gap: float, refine_text: str,
                 synthetic: bool, network_label: str, new_sites: bool, demand_words: str = "the measured clock",
                 labels: Sequence = (), extra: Sequence[str] = ()) -> list[str]:
    """The comment heading ``proposed_plan.yaml``: how the plan was found, what it assumes, and
    where each post is (``labels``: its name, nearest named site, kecamatan, coordinates)."""
    assumption = objective.assumption(busy)
    lines = [
        f"Proposed by patrolsim {_version()} `optimize` for scenario {scenario_name}:",
        f"{units_text}, placed by {objective.title},",
        f"solved as an integer program ({proof_text(optimal, gap)}) over {n_candidates} candidate posts "
        f"({candidates}).",
        f"Assumes: demand = each site's expected incidents per hour over {demand_words}; a site is",
        f"covered when a post is within {target_min:g} min of it at speed factor 1; units stand at their",
        "posts when free; faster unit types got the posts with the longest travel"
        + (f"; {assumption}." if assumption else "."),
    ]
    if refine_text:
        lines.append(refine_text)
    lines += list(extra)
    lines += [f"Road network: {network_label}."]
    if labels:
        lines.append("Posts (kecamatan: that of the nearest kecamatan centre, approximate; lat, lon):")
        lines += [f"  {label.id}: {label.name}" + (f", near {label.near}" if label.near else "")
                  + f"; Kecamatan {label.kecamatan} ({label.kecamatan_km:.1f} km from its centre); "
                  f"{label.lat:.5f}, {label.lon:.5f}" for label in labels]
    if new_sites:
        lines += ["New sites have kind proposed_post and approximate: true: survey a real standing place near each"
                  + ("; on a synthetic network they are not real places." if synthetic else "."),
                  "To use it: add the sites under `sites:` and the plan under `plans:` of the scenario.",
                  "A disturbance with `sites: all` would then put incidents at the new sites too: list its sites."]
    else:
        lines.append("To use it: add the plan under `plans:` of the scenario (its posts are existing sites).")
    lines.append("")
    return lines


def _clean(value):
    """JSON without NaN or infinity (null instead), numbers rounded to 6 significant digits."""
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, float):
        return None if not math.isfinite(value) else float(f"{value:.6g}")
    return value


def json_text(data: dict, indent: int | None = 2) -> str:
    """``data`` as JSON text (NaN and infinity as null)."""
    return json.dumps(_clean(data), indent=indent, sort_keys=False) + ("\n" if indent else "")


def _fmt(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def comparison_table(proposal: str, summary: Sequence[dict], paired: Sequence, target_min: float) -> str:
    """The proposal and each plan, simulated: within-target share and mean response with 95%
    intervals, and the proposal minus each plan, paired by replication."""
    by_plan = {row["plan"]: row for row in summary}
    head = (f"{'plan':24s} {'within ' + format(target_min, 'g') + ' min (%)':>18s} {'mean response (min)':>20s}"
            f"   proposal minus plan: {'points':>13s} {'minutes':>13s}  verdict")
    lines = [head, "-" * len(head)]

    def row(plan: str) -> str:
        s = by_plan[plan]
        return (f"{plan:24s} {_fmt(s['within_target_pct']) + ' ± ' + _fmt(s['within_target_ci95']):>18s} "
                f"{_fmt(s['response_mean_min']) + ' ± ' + _fmt(s['response_mean_ci95']):>20s}")

    lines.append(row(proposal) + "   (the proposal)")
    for item in paired:
        points = f"{_fmt(item.within_target_diff_pct, signed=True)} ± {_fmt(item.within_target_diff_ci95)}"
        minutes = f"{_fmt(item.response_diff_min, signed=True)} ± {_fmt(item.response_diff_ci95)}"
        lines.append(f"{row(item.plan)}   {'':22s}{points:>13s} {minutes:>13s}  {item.verdict}")
    return "\n".join(lines)


def figures_lines(figures: dict, target_min: float, time_limit_s: float) -> list[str]:
    """The model's figures of a placement in words."""
    travel = figures["mean_travel_min"]
    return [
        f"program: {proof_text(figures['optimal'], figures['gap'], time_limit_s)}, {figures['seconds']:.2f} s, "
        f"{figures['solver']}",
        f"posts: {', '.join(figures['posts'])}",
        f"model: {figures['covered_share']:.1%} of demand within {target_min:g} min of a post; mean travel "
        f"{_fmt(travel, 2)} min from the nearest post; expected covered share {figures['expected_covered_share']:.1%} "
        f"(busy probability {figures['busy']:.3f})",
    ]


# -- the optimiser's folder ----------------------------------------------------------------------------------

OPTIMIZE = "optimize"  # the command an optimisation's folder records (sim.study.command_folders)
#: what was asked that makes an optimisation's answer (not where it runs, nor how it is printed)
REQUEST_KEYS = ("fleet", "units", "objective", "candidates", "busy", "refine", "refine_budget", "refine_metric",
                "verify_reps", "time_limit_s", "goal", "bases", "phase", "at")


def default_folder(request, scenario_name: str, objective: str) -> Path:
    """``results/<scenario>/optimize-<objective>`` and what kind of request it is (a fleet, a number of
    units or a range of them, a goal, a refinement, a phase), so two kinds of request never share a
    folder: ``optimize-mclp``, ``optimize-mclp-units-3..12``, ``optimize-mclp-refine``."""
    from sim.optimize.request import units_text
    from sim.study.experiment import safe_name

    parts = [objective]
    if request.goal is not None:
        parts.append(f"goal-{request.goal.share:g}")
    elif request.units:
        parts.append(f"units-{units_text(request.units)}")
    elif request.fleet is not None:
        parts.append(f"fleet-{request.fleet}")
    if request.refine:
        parts.append("refine")
    if request.phase is not None:
        parts.append(f"phase-{request.phase}")
    if request.at is not None:
        parts.append(f"at-{request.at}")
    return Path("results") / scenario_name / safe_name("optimize-" + "-".join(parts))


def folder_identity(request, scenario, network) -> dict:
    """What makes an optimisation's folder: the scenario's content (with ``--set``), the road network
    and the request's REQUEST_KEYS."""
    from sim.config import scenario_hash

    asked = {key: getattr(request, key) for key in REQUEST_KEYS}
    asked["goal"] = None if request.goal is None else dict(request.goal.__dict__)
    return {"scenario": scenario_hash(scenario.raw), "network": network.content_hash(),
            "request": json.loads(json.dumps(asked, default=str))}


def identity_differs(held: dict, new: dict) -> str:
    """What differs between two optimisations, in words: the request's keys, the scenario, the roads."""
    found = [f"{key.replace('_', ' ')} {held.get('request', {}).get(key)}, not {new['request'].get(key)}"
             for key in REQUEST_KEYS if held.get("request", {}).get(key) != new["request"].get(key)]
    found += ["another scenario content"] * (held.get("scenario") != new["scenario"])
    found += ["another road network"] * (held.get("network") != new["network"])
    return "; ".join(found)[:200]


def folder_names(request):
    """How the optimiser's options are named in messages about its folder (the command line's flags)."""
    from sim.config.option_names import OptionNames

    return OptionNames(out=request.flag("out"), replace=request.flag("replace"))


def check_folder(out: Path, request, scenario, network) -> None:
    """Refuse, before any work, a folder holding another optimisation (unless ``request.replace``)
    or files patrolsim did not write (sim.study.command_folders)."""
    from sim.study.command_folders import check_command_folder

    check_command_folder(out, OPTIMIZE, folder_identity(request, scenario, network), request.replace,
                         folder_names(request), identity_differs)


def write_folder(out: Path, request, scenario, network, write) -> Path:
    """``write(folder)`` fills a new folder that then replaces ``out`` whole: the same request's
    output is replaced, nothing of another request stays beside it."""
    from sim.study.command_folders import replace_command_folder

    return replace_command_folder(out, OPTIMIZE, folder_identity(request, scenario, network), write,
                                  request.replace, folder_names(request), identity_differs)
