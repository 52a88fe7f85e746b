"""What a calendar event does to everyone else: ``events.csv``.

For each event, each plan and each replication, the replication is run a second time without
the event: its incidents are drawn, and drawn for, but never arise (``simulate(left_out_event=)``),
so with common random numbers every other incident arises at the same time and place with the
same draws, and before the event starts everything happens as in the run itself. The difference
in how the other incidents are answered is the event's knock-on effect alone.

The run without the event goes from the start of the clock to the event's end plus
``AFTER_MAX_H`` hours (or the clock's end, if sooner): that is its cost, about that share of a
replication per event. Windows are the event itself (``during``) and each following hour
(``after_1h``, ...), compared for the incidents created in them, as long as every such incident
was reached in the run without the event before it stopped, and until the hour after the effect
is gone. The effect is gone ``recovered_after_h`` hours after the event's end when, from then to
the last hour compared, every other incident is answered exactly as without the event (to a
millionth of a minute), or, over ``MIN_REPS_NOISE`` replications or more, the paired differences
in their mean response and in their late count both have 95% intervals that hold 0 (random
patrols and circuits never drive in step again after an event, so their responses differ a little,
both ways, for ever); empty if that is not so within ``AFTER_MAX_H`` hours.
"""
from __future__ import annotations

import math
import textwrap
import time
from datetime import timedelta
from typing import Iterable, Mapping, Sequence

import numpy as np

from sim.config.calendar import minutes_after
from sim.model import simulate
from sim.model.simulate import RepResult
from sim.study.stats import mean_ci95, verdict
from sim.study.tables import WIDTH, laid_out

EVENTS_FILE = "events.csv"
AFTER_MAX_H = 24   # the run without an event goes this many hours past its end at most
SAME_MIN = 1e-6    # responses closer than this (min) are the same
MIN_REPS_NOISE = 5  # replications it takes to call differences that go both ways noise, not an effect
MIN_PER_HOUR = 60.0
EVENT_COLUMNS = [
    "event", "event_name", "plan", "window", "start", "end", "reps", "event_incidents", "event_response_mean_min",
    "event_within_target_pct", "others_incidents", "others_incidents_without", "others_response_mean_min",
    "others_response_mean_min_without",
    "others_response_diff_min", "others_response_diff_ci95", "others_response_verdict", "others_within_target_pct",
    "others_within_target_pct_without", "others_late", "others_late_without", "others_late_diff",
    "others_late_diff_ci95", "recovered_after_h",
]


SMALL_REPS_NOTE = (f"With fewer than {MIN_REPS_NOISE} replications only an exact match counts as gone, so for "
                   "plans with random patrols or circuits (which never drive in step again after an event) "
                   "'gone after' is the last hour with any difference, often long after the effect.")


def _window_name(k: int) -> str:
    return "during" if k == 0 else f"after_{k}h"


def _without(scenario, world, result: RepResult, event_id: str, end_min: float) -> dict[int, tuple[bool, float | None]]:
    """(counted, first arrival min) of each incident created before ``end_min`` in the replication
    run again without the event's incidents and stopped at ``end_min`` (then followed until answered)."""
    clock = scenario.clock.model_copy(update={"duration_hours": end_min / MIN_PER_HOUR})
    short = scenario.model_copy(update={"clock": clock})
    specs = [incident.spec for incident in result.incidents if incident.spec.t_created_min < end_min]
    again = simulate(short, world, result.plan, result.rep, incident_specs=specs, left_out_event=event_id)
    return {i.spec.incident_id: (i.counted, i.t_first_arrival_min) for i in again.incidents}


def rep_event_figures(scenario, world, result: RepResult) -> list[dict]:
    """For each event of the scenario inside the clock, one replication's figures (a part's
    ``events``): the event's own counted incidents' responses, and per window every other
    candidate incident created in it after the warm-up, as [counted, response] with the event and
    without it (response None: never reached; counted 0: deterred, or before the warm-up), as
    long as the run without the event reached every counted one before it stopped."""
    horizon_min = scenario.clock.duration_hours * MIN_PER_HOUR
    warmup_min = scenario.clock.warmup_hours * MIN_PER_HOUR
    out = []
    for event in scenario.events or ():
        t0 = minutes_after(scenario.clock.start, event.start)
        if t0 >= horizon_min:
            continue
        t1 = min(t0 + event.hours * MIN_PER_HOUR, horizon_min)
        stop_min = min(t1 + AFTER_MAX_H * MIN_PER_HOUR, horizon_min)
        started = time.perf_counter()
        again = _without(scenario, world, result, event.id, stop_min)
        without_s = time.perf_counter() - started
        own = [i for i in result.incidents if i.counted and i.spec.event == event.id]
        others = [i for i in result.incidents
                  if i.spec.event != event.id and i.spec.t_created_min >= max(t0, warmup_min)]
        edges = [t0, t1] + [t1 + k * MIN_PER_HOUR for k in range(1, AFTER_MAX_H + 1) if t1 + k * MIN_PER_HOUR <= stop_min]
        windows = []
        for k, (start, end) in enumerate(zip(edges, edges[1:])):
            mine = [i for i in others if start <= i.spec.t_created_min < end]
            if any(again[i.spec.incident_id][0] and (again[i.spec.incident_id][1] or math.inf) > stop_min for i in mine):
                break  # the run without the event stopped before it reached them: no comparison from here
            windows.append({"window": _window_name(k), "start_min": start, "end_min": end, "incidents": [
                [int(i.counted), _response(i.t_first_arrival_min, i.spec.t_created_min),
                 int(again[i.spec.incident_id][0]), _response(again[i.spec.incident_id][1], i.spec.t_created_min)]
                for i in mine]})
        out.append({"event": event.id, "target_min": scenario.target_response_min, "without_s": without_s,
                    "own": [_response(i.t_first_arrival_min, i.spec.t_created_min) for i in own],
                    "windows": windows})
    return out


def _response(arrival_min: float | None, created_min: float) -> float | None:
    return None if arrival_min is None else arrival_min - created_min


def _side(incidents: Iterable[Sequence], without: bool) -> list[float | None]:
    """The counted incidents' responses (None: never reached) with the event, or ``without`` it."""
    k = 2 if without else 0
    return [row[k + 1] for row in incidents if row[k]]


def _same(a: Sequence, b: Sequence) -> bool:
    return all(x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) <= SAME_MIN)
               for x, y in zip(a, b))


def _tail_clear(tails: Sequence[Sequence[Mapping]], target_min: float) -> bool:
    """Whether the other incidents of some windows (per replication) show no effect of the event:
    every one counted and answered exactly as without it, or, over MIN_REPS_NOISE replications or
    more with such incidents, paired differences in their mean response and in their late count
    whose 95% intervals both hold 0."""
    reps = [[row for window in tail for row in window["incidents"]] for tail in tails]
    if all(_same(row[:2], row[2:]) for rep in reps for row in rep):
        return True
    reps = [rep for rep in reps if rep]
    if len(reps) < MIN_REPS_NOISE:
        return False
    response = [_mean(_side(rep, False)) - _mean(_side(rep, True)) for rep in reps]
    late = [_late(_side(rep, False), target_min) - _late(_side(rep, True), target_min) for rep in reps]
    return all(mean - half <= 0.0 <= mean + half for mean, half in (mean_ci95(response), mean_ci95(late))
               if not math.isnan(half))


def recovered_after(per_rep: Sequence[Sequence[Mapping]], target_min: float) -> int | None:
    """Hours after the event's end from which the other incidents show no effect of it (``_tail_clear``
    over every window from then to the last compared), for each replication's windows (during,
    after_1h, ...); None if that is not so before the last window compared."""
    n_windows = min(len(windows) for windows in per_rep)
    for hours in range(n_windows - 1):
        if _tail_clear([windows[hours + 1:n_windows] for windows in per_rep], target_min):
            return hours
    return None


def _late(responses: Iterable[float | None], target_min: float) -> int:
    return sum(1 for r in responses if r is None or r > target_min)


def _mean(responses: Sequence[float | None]) -> float:
    reached = [r for r in responses if r is not None]
    return float(np.mean(reached)) if reached else math.nan


def _share(responses: Sequence[float | None], target_min: float) -> float:
    return 100.0 * (len(responses) - _late(responses, target_min)) / len(responses) if responses else math.nan


def event_rows(scenario, plans: Sequence[str], figures: Mapping[str, Sequence[Mapping]]) -> list[dict]:
    """The rows of events.csv: per event, plan and window, the figures over replications.
    ``figures[plan]``: each replication's part ``events`` (its ``rep_event_figures`` under "events").

    Counts are means per replication; the mean responses are means over the replications with
    incidents in the window, and their difference is paired by replication with its 95%
    interval (so it is the difference of the two means); shares are pooled over replications."""
    names = {event.id: event.name for event in scenario.events or ()}
    start = scenario.clock.start
    rows = []
    for plan in plans:
        reps = [part["events"] for part in figures.get(plan) or []]
        if not reps:
            continue
        for index, event in enumerate(reps[0]):
            per_rep = [rep[index] for rep in reps]
            target = event["target_min"]
            recovered_h = recovered_after([rep["windows"] for rep in per_rep], target)
            n_windows = min(len(rep["windows"]) for rep in per_rep)
            if recovered_h is not None:
                n_windows = min(n_windows, recovered_h + 2)  # the event, the hours it lasts, the first hour clear
            own = [r for rep in per_rep for r in rep["own"]]
            base = {"event": event["event"], "event_name": names.get(event["event"], ""), "plan": plan,
                    "reps": len(per_rep), "event_incidents": len(own) / len(per_rep),
                    "event_response_mean_min": _mean(own), "event_within_target_pct": _share(own, target),
                    "recovered_after_h": recovered_h}
            for k in range(n_windows):
                windows = [rep["windows"][k] for rep in per_rep]
                rows.append(base | _window_row(windows, target, start))
    return rows


def _window_row(windows: Sequence[Mapping], target_min: float, clock_start) -> dict:
    """One window's figures over the replications (each a window of ``rep_event_figures``)."""
    first, n = windows[0], len(windows)
    sides = [(_side(w["incidents"], False), _side(w["incidents"], True)) for w in windows]
    means = [(_mean(a), _mean(b)) for a, b in sides]
    means = [(a, b) for a, b in means if not (math.isnan(a) or math.isnan(b))]
    diff, half = mean_ci95([a - b for a, b in means])
    late = [(_late(a, target_min), _late(b, target_min)) for a, b in sides]
    late_diff, late_half = mean_ci95([a - b for a, b in late])
    with_all = [r for a, _ in sides for r in a]
    without_all = [r for _, b in sides for r in b]

    def when(t_min: float) -> str:
        return (clock_start + timedelta(minutes=t_min)).isoformat(timespec="minutes")

    return {
        "window": first["window"], "start": when(first["start_min"]), "end": when(first["end_min"]),
        "others_incidents": len(with_all) / n, "others_incidents_without": len(without_all) / n,
        "others_response_mean_min": float(np.mean([a for a, _ in means])) if means else math.nan,
        "others_response_mean_min_without": float(np.mean([b for _, b in means])) if means else math.nan,
        "others_response_diff_min": diff, "others_response_diff_ci95": half,
        "others_response_verdict": verdict(diff, half, True, len(means)),
        "others_within_target_pct": _share(with_all, target_min),
        "others_within_target_pct_without": _share(without_all, target_min),
        "others_late": sum(a for a, _ in late) / n, "others_late_without": sum(b for _, b in late) / n,
        "others_late_diff": late_diff, "others_late_diff_ci95": late_half,
    }


def cost_share(figures: Mapping[str, Sequence[Mapping]]) -> float:
    """The time of the runs without each event as a share of the replications' own (parts' ``events``)."""
    parts = [part for mine in figures.values() for part in mine]
    own = sum(part["run_s"] for part in parts)
    without = sum(event["without_s"] for part in parts for event in part["events"])
    return without / own if own > 0 else math.nan


def event_lines(rows: Sequence[Mapping], has_events: bool, cost: float = math.nan) -> list[str]:
    """The terminal table's lines on events: per event and plan, the other incidents during it
    with and without it, and the hours after its end until the effect was gone; ``cost``: the
    runs without the events as a share of the replications' time."""
    if not has_events:
        return []
    if not rows:
        return ["Calendar events: their effect on the other incidents was not computed (the runs without each "
                "event were skipped; `run` makes them unless told not to, Study.run with event_effects=True; a "
                "resumed run needs every replication run with them).", ""]

    def pair(a: float, b: float, digits: int = 1) -> str:
        return f"{_num(a, digits)} / {_num(b, digits)}"

    def gone(row: Mapping) -> str:
        hours = row["recovered_after_h"]
        return f"> {AFTER_MAX_H} h" if hours is None else f"{hours} h"

    order = list(dict.fromkeys(row["event"] for row in rows))
    during = sorted((row for row in rows if row["window"] == "during"), key=lambda row: order.index(row["event"]))
    columns = [("event", lambda row: str(row["event"])[:16]), ("plan", lambda row: str(row["plan"])[:18]),
               ("others", lambda row: _num(row["others_incidents"]) if row["others_incidents"] == row[
                   "others_incidents_without"] else pair(row["others_incidents"], row["others_incidents_without"])),
               ("mean response (min)", lambda row: pair(row["others_response_mean_min"],
                                                        row["others_response_mean_min_without"])),
               ("late", lambda row: pair(row["others_late"], row["others_late_without"])),
               ("gone after", gone)]
    text = (f"During each event, the other incidents (per replication), their mean response and those late, "
            f"with the event / without it (the same replications run again without its incidents); and the "
            f"hours after its end until they were answered as without it ({EVENTS_FILE} has each hour):")
    costs = [] if math.isnan(cost) else [f"The runs without the events took {cost:.0%} of the time of the "
                                         "replications themselves (they can be skipped)."]
    if min(int(row["reps"]) for row in during) < MIN_REPS_NOISE:
        costs.append(SMALL_REPS_NOTE)
    return [*textwrap.wrap(text, WIDTH), *laid_out(columns, during, left=2),
            *(part for line in costs for part in textwrap.wrap(line, WIDTH)), ""]


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"
