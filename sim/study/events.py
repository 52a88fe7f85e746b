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
the last hour compared, no other incident is late with the event but in time without it or
delayed by more than the target, and either every one is answered exactly as without the event
(to a millionth of a minute) or the paired difference in their mean response over the
replications has a 95% interval that holds 0 (random patrols never drive the same streets again
after an event, so their responses differ a little both ways for ever); empty if that is not so
within ``AFTER_MAX_H`` hours.
"""
from __future__ import annotations

import math
from datetime import timedelta
from typing import Iterable, Mapping, Sequence

import numpy as np

from sim.config.calendar import minutes_after
from sim.model import simulate
from sim.model.simulate import RepResult
from sim.study.stats import mean_ci95, verdict

AFTER_MAX_H = 24   # the run without an event goes this many hours past its end at most
SAME_MIN = 1e-6    # responses closer than this (min) are the same
MIN_PER_HOUR = 60.0
EVENT_COLUMNS = [
    "event", "event_name", "plan", "window", "start", "end", "reps", "event_incidents", "event_response_mean_min",
    "event_within_target_pct", "others_incidents", "others_response_mean_min", "others_response_mean_min_without",
    "others_response_diff_min", "others_response_diff_ci95", "others_response_verdict", "others_within_target_pct",
    "others_within_target_pct_without", "others_late", "others_late_without", "others_late_diff",
    "others_late_diff_ci95", "recovered_after_h",
]


def _window_name(k: int) -> str:
    return "during" if k == 0 else f"after_{k}h"


def _without(scenario, world, result: RepResult, event_id: str, end_min: float) -> dict[int, float | None]:
    """First arrival (min) of each incident created before ``end_min`` in the replication run again
    without the event's incidents and stopped at ``end_min`` (then followed until answered)."""
    clock = scenario.clock.model_copy(update={"duration_hours": end_min / MIN_PER_HOUR})
    short = scenario.model_copy(update={"clock": clock})
    specs = [incident.spec for incident in result.incidents if incident.spec.t_created_min < end_min]
    again = simulate(short, world, result.plan, result.rep, incident_specs=specs, left_out_event=event_id)
    return {incident.spec.incident_id: incident.t_first_arrival_min for incident in again.incidents}


def rep_event_figures(scenario, world, result: RepResult) -> list[dict]:
    """For each event of the scenario inside the clock, one replication's figures (a part's
    ``events``): the event's own counted incidents (count, responses), and per window the other
    counted incidents' responses with and without the event (None: never reached), as long as
    the run without the event reached them all before it stopped."""
    horizon_min = scenario.clock.duration_hours * MIN_PER_HOUR
    target = scenario.target_response_min
    out = []
    for event in scenario.events or ():
        t0 = minutes_after(scenario.clock.start, event.start)
        if t0 >= horizon_min:
            continue
        t1 = min(t0 + event.hours * MIN_PER_HOUR, horizon_min)
        stop_min = min(t1 + AFTER_MAX_H * MIN_PER_HOUR, horizon_min)
        arrival = _without(scenario, world, result, event.id, stop_min)
        own = [i for i in result.incidents if i.counted and i.spec.event == event.id]
        windows = []
        edges = [t0, t1] + [t1 + k * MIN_PER_HOUR for k in range(1, AFTER_MAX_H + 1) if t1 + k * MIN_PER_HOUR <= stop_min]
        others = [i for i in result.incidents if i.counted and i.spec.event != event.id and i.spec.t_created_min >= t0]
        for k, (start, end) in enumerate(zip(edges, edges[1:])):
            mine = [i for i in others if start <= i.spec.t_created_min < end]
            without = [arrival[i.spec.incident_id] for i in mine]
            if any(t is None or t > stop_min for t in without):
                break  # the run without the event stopped before it reached them: no comparison from here
            windows.append({
                "window": _window_name(k), "start_min": start, "end_min": end,
                "with": [_response(i.t_first_arrival_min, i.spec.t_created_min) for i in mine],
                "without": [_response(t, i.spec.t_created_min) for t, i in zip(without, mine)],
            })
        out.append({"event": event.id, "target_min": target,
                    "own": [_response(i.t_first_arrival_min, i.spec.t_created_min) for i in own],
                    "windows": windows})
    return out


def _response(arrival_min: float | None, created_min: float) -> float | None:
    return None if arrival_min is None else arrival_min - created_min


def _tail_clear(tails: Sequence[Sequence[Mapping]], target_min: float) -> bool:
    """Whether the other incidents of some windows (per replication) show no effect of the event:
    none is late with it but in time without it, or delayed by more than the target; and either
    every one is answered exactly as without it, or, over two replications or more, the paired
    difference in their mean response has a 95% interval that holds 0."""
    pairs = [[(a, b) for window in tail for a, b in zip(window["with"], window["without"])] for tail in tails]
    for a, b in (pair for rep in pairs for pair in rep):
        if (a is None) != (b is None):
            return False
        if a is not None and (a > target_min >= b or a - b > target_min):
            return False
    if all(a is None or abs(a - b) <= SAME_MIN for rep in pairs for a, b in rep):
        return True
    diffs = [float(np.mean([a - b for a, b in rep if a is not None])) for rep in pairs
             if any(a is not None for a, _ in rep)]
    mean, half = mean_ci95(diffs)
    return len(diffs) >= 2 and not math.isnan(half) and mean - half <= 0.0 <= mean + half


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


def event_rows(scenario, plans: Sequence[str], figures: Mapping[str, Sequence[Sequence[dict]]]) -> list[dict]:
    """The rows of events.csv: per event, plan and window, the figures over replications.
    ``figures[plan]``: each replication's ``rep_event_figures``.

    Counts are means per replication; the mean responses are means over the replications with
    incidents in the window, and their difference is paired by replication with its 95%
    interval (so it is the difference of the two means); shares are pooled over replications."""
    names = {event.id: event.name for event in scenario.events or ()}
    start = scenario.clock.start
    rows = []
    for plan in plans:
        reps = figures.get(plan) or []
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
    first = windows[0]
    with_all = [r for w in windows for r in w["with"]]
    without_all = [r for w in windows for r in w["without"]]
    means = [(_mean(w["with"]), _mean(w["without"])) for w in windows if w["with"]]
    means = [(a, b) for a, b in means if not (math.isnan(a) or math.isnan(b))]
    diff, half = mean_ci95([a - b for a, b in means])
    late = [(_late(w["with"], target_min), _late(w["without"], target_min)) for w in windows]
    late_diff, late_half = mean_ci95([a - b for a, b in late])
    n = len(windows)

    def when(t_min: float) -> str:
        return (clock_start + timedelta(minutes=t_min)).isoformat(timespec="minutes")

    return {
        "window": first["window"], "start": when(first["start_min"]), "end": when(first["end_min"]),
        "others_incidents": len(with_all) / n,
        "others_response_mean_min": float(np.mean([a for a, _ in means])) if means else math.nan,
        "others_response_mean_min_without": float(np.mean([b for _, b in means])) if means else math.nan,
        "others_response_diff_min": diff, "others_response_diff_ci95": half,
        "others_response_verdict": verdict(diff, half, True, len(means)),
        "others_within_target_pct": _share(with_all, target_min),
        "others_within_target_pct_without": _share(without_all, target_min),
        "others_late": sum(a for a, _ in late) / n, "others_late_without": sum(b for _, b in late) / n,
        "others_late_diff": late_diff, "others_late_diff_ci95": late_half,
    }
