"""Simulated results per site on a map: the share of incidents reached within the target.

The command line reads ``sites.csv`` (one row per plan and site) and hands its rows here as
plain dicts; this module turns them into ``SiteResult`` per plan and site, sorts sites into
colour classes and names the sites that miss the target. No file reading, no drawing.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sim.i18n import Messages
from sim.viz import palette
from sim.viz.palette import MISS_BELOW_PCT, NO_SHARE_COLOUR as NO_RESULT_COLOUR

SITE_COLUMNS = ("plan", "site", "site_name", "kind", "incidents", "response_mean_min", "response_mean_ci95",
                "response_p90_min", "within_target_pct", "within_target_ci95", "escalated_pct")
NUMBER_COLUMNS = SITE_COLUMNS[4:]
# With a deterrence block sites.csv also has deterred_pct (issue #12): the maps shade each site by it,
# a halo of this colour, as opaque as DETERRED_MAX_ALPHA at 100% of candidates deterred.
DETERRED_COLOUR = "#6a3d9a"
DETERRED_MAX_ALPHA = 0.8


@dataclass(frozen=True)
class SiteResult:
    """One plan's simulated figures at one site (nan where the site had no counted incidents).

    ``within_target_pct`` is the share a map colours and names: pooled over every replication
    (in_target of incidents) with its 95% Wilson interval ``low_pct``-``high_pct`` when sites.csv
    has the pooled columns, as the report and areas.csv give it; else the mean over replications
    with its Student-t half-width ``within_target_ci95``.
    """

    site: str
    incidents: int
    response_mean_min: float
    response_p90_min: float
    within_target_pct: float
    within_target_ci95: float
    deterred_pct: float = math.nan  # of the site's candidate incidents (nan: no deterrence block)
    late: int = -1                  # counted incidents reached late or never (-1: not in the file)
    low_pct: float = math.nan       # the pooled share's 95% Wilson interval
    high_pct: float = math.nan

    @property
    def has_incidents(self) -> bool:
        return self.incidents > 0 and math.isfinite(self.within_target_pct)

    @property
    def misses(self) -> bool:
        """Fewer than MISS_BELOW_PCT % of its incidents reached within the target."""
        return self.has_incidents and self.within_target_pct < MISS_BELOW_PCT

    @property
    def pooled(self) -> bool:
        return self.late >= 0


def _number(text: str | float | None) -> float:
    if text is None or (isinstance(text, str) and not text.strip()):
        return math.nan
    return float(text)


def site_results(rows: Iterable[Mapping[str, object]], plan: str) -> dict[str, SiteResult]:
    """The rows of ``plan`` (rows as read from sites.csv, values text or numbers) by site id.

    ValueError for a row whose numbers do not read.
    """
    results = {}
    for row in rows:
        if row["plan"] != plan:
            continue
        incidents = _number(row["incidents"])
        late = _number(row.get("late"))
        pooled = math.isfinite(late)
        share = "within_target_pooled_pct" if pooled else "within_target_pct"
        results[str(row["site"])] = SiteResult(
            site=str(row["site"]),
            incidents=int(incidents) if math.isfinite(incidents) else 0,
            response_mean_min=_number(row["response_mean_min"]),
            response_p90_min=_number(row["response_p90_min"]),
            within_target_pct=_number(row[share]),
            within_target_ci95=_number(row["within_target_ci95"]),
            deterred_pct=_number(row.get("deterred_pct")),
            late=int(late) if pooled else -1,
            low_pct=_number(row.get("within_target_low_pct")),
            high_pct=_number(row.get("within_target_high_pct")),
        )
    return results


def share_colour(result: SiteResult | None) -> str:
    """The colour of a site's simulated within-target share (sim.viz.palette; no counted incidents:
    NO_RESULT_COLOUR)."""
    if result is None or not result.has_incidents:
        return NO_RESULT_COLOUR
    return palette.share_colour(result.within_target_pct)


def missed(results: Mapping[str, SiteResult]) -> list[SiteResult]:
    """The sites that miss the target, most late incidents first (as sim.study.shares ranks them;
    ties and files without late counts: the lower share, then the site id)."""
    return sorted((r for r in results.values() if r.misses), key=lambda r: (-r.late, r.within_target_pct, r.site))


def share_text(result: SiteResult) -> str:
    """``"2% (0-13)"`` (pooled, with its Wilson interval) or ``"2% ± 3"`` (mean over replications)."""
    if result.pooled and math.isfinite(result.low_pct):
        return f"{result.within_target_pct:.0f}% ({result.low_pct:.0f}-{result.high_pct:.0f})"
    ci = f" ± {result.within_target_ci95:.0f}" if math.isfinite(result.within_target_ci95) else ""
    return f"{result.within_target_pct:.0f}%{ci}"


def result_text(result: SiteResult, target_min: float, m: Messages) -> str:
    """``"2% (0-13) within 15 min, 20 late of 21 incidents (p90 31.5 min)"``."""
    p90 = m("map.result.p90", p90=m.num(result.response_p90_min, ".1f")) if math.isfinite(result.response_p90_min) else ""
    late = m("map.result.late", late=m.num(result.late, ",")) if result.pooled else ""
    deterred = (m("map.result.deterred", pct=m.num(result.deterred_pct, ".0f"))
                if math.isfinite(result.deterred_pct) else "")
    return m("map.result", share=share_text(result), target=m.num(target_min, "g"), late=late,
             incidents=m.num(result.incidents, ","), p90=p90, deterred=deterred)


def deterred_alpha(result: SiteResult | None) -> float:
    """Opacity of a site's deterrence halo: its deterred share × DETERRED_MAX_ALPHA (0 without one)."""
    if result is None or not math.isfinite(result.deterred_pct):
        return 0.0
    return DETERRED_MAX_ALPHA * min(max(result.deterred_pct, 0.0), 100.0) / 100.0


def has_deterrence(results) -> bool:
    """Whether any site's results carry a deterred share (results of a run with a deterrence block)."""
    return results is not None and any(math.isfinite(r.deterred_pct) for r in results.values())


def missed_lines(plan: str, results: Mapping[str, SiteResult], names: Mapping[str, str], target_min: float,
                 m: Messages, limit: int | None = None) -> list[str]:
    """Lines naming the sites that miss the target in ``plan`` (at most ``limit``, then how many more)."""
    worst = missed(results)
    target, miss = m.num(target_min, "g"), m.num(MISS_BELOW_PCT, "g")
    if not worst:
        return [m("map.missedLines.none", plan=plan, target=target, miss=miss)]
    head = m("map.missedLines.head", plan=plan, n=len(worst), target=target, miss=miss)
    shown = worst if limit is None else worst[:limit]
    lines = [head] + [f"  {names.get(r.site, r.site)}: {result_text(r, target_min, m)}" for r in shown]
    if len(worst) > len(shown):
        lines.append("  " + m("map.more", n=len(worst) - len(shown)))
    return lines


def check_sites(results: Mapping[str, SiteResult], plan: str, site_ids: Sequence[str]) -> None:
    """ValueError unless ``results`` has rows for ``plan`` and only for the scenario's sites."""
    if not results:
        raise ValueError(f"no rows for plan '{plan}'")
    unknown = sorted(set(results) - set(site_ids))
    if unknown:
        raise ValueError(f"plan '{plan}' has rows for sites the scenario does not have: {', '.join(unknown[:5])}")
