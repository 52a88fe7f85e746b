"""The main job's result files, byte for byte, as they were before the library reshaping.

The sha256 values of incidents.csv, units.csv and summary.csv were recorded from ``python
run_sim.py`` at commit 8de09b8 (before the package was split into sub-packages). A change that
moves any number in these files must be a deliberate model change, and then these values are
updated in the same commit with the reason.

comparison.csv was re-pinned when it gained the paired within-target and p90 figures (issue #13):
its first nine columns are byte for byte what they were (checked below against the old file's
pin), the new columns come after them. sites.csv and priorities.csv were pinned when they were
added (issue #13), and re-pinned when they gained each group's pooled share with its Wilson interval
and late count after their columns (issue #19): their first columns are checked against the
earlier pins the same way. areas.csv was pinned when it was added (issue #19). summary.csv was
re-pinned when it gained each plan's units and counts per week, comparison.csv when it gained the
paired late incidents per week and the fleet sizes, and comparison_pairs.csv (every ordered pair of
plans) was pinned when it was added (issue #19).
"""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

MAIN_JOB_SHA256 = {
    "incidents.csv": "5321123a34cbc38e1d5aa0dbff3f74ff1e62b1005a20048736426da718cd5412",
    "summary.csv": "3983ccb98120a9c193df2e44e1509c860428c32bb3ac70f718531af1db62fef6",
    "comparison.csv": "152cac0b14dc4002eafc66e1173c60a1f94d63501b861ab630bd002f2e391342",
    "comparison_pairs.csv": "e0a926db73a04ba0784f932963c9a59f780b359b80fe4fe237d82c639ceb0e72",
    "units.csv": "cc09e3afa74b90368333563981f14c1bf0035d98728463072349fc342e23842d",
    "sites.csv": "21e3daf75c37cd7fb84ff3b051f7aa150a35dbe4283424f49caa62aa29dbf632",
    "priorities.csv": "24df321905f59747266c1bb6002f9b236989089f4ea5bf0e5458e0956db358c4",
    "areas.csv": "a5e3a1247987cd624ba0ba6468b5eb86bfd4a7ab19b6ebd909c018ab5756630c",
}
# Files whose columns were appended to: (file, how many columns it had, sha256 of the file then).
OLD_COLUMNS_SHA256 = [
    # before the paired within-target and p90 columns (commit 8de09b8)
    ("comparison.csv", 9, "617f00a0a1ca1b9b920ba7ceec9ed56581fdaef318722ced3b26cd642ca218f3"),
    # before the paired late incidents per week and the fleet sizes (issue #19)
    ("comparison.csv", 14, "449fabba3fc3cf398c2d129ac898a66f8965701e53e9daa2d0746c6db3f370b1"),
    # before the units and counts per week (issue #19)
    ("summary.csv", 11, "e241f94c2c9694c6c84158341b1618cc81fa025418a454d404da9ef3883027d4"),
    # before the pooled share, its Wilson interval and the late count (issue #19)
    ("sites.csv", 11, "adfa9f88f250beb6daf2f7b79d4e3ddb39aa7d2d2ba81ec181c8ec19a9145d69"),
    ("priorities.csv", 9, "026b363aa3fe0be7aac094926b8c9001067b157ba88b28788a5fd4cfdc0b3fdb"),
]


def first_columns(path: Path, count: int) -> bytes:
    """The file with only its first ``count`` columns, written as the result files are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with path.open(newline="") as handle:
        for row in csv.reader(handle):
            writer.writerow(row[:count])
    return buffer.getvalue().encode()


@pytest.mark.slow
def test_main_job_gives_the_same_bytes_as_before(main_job) -> None:
    folder = main_job.folder  # `python run_sim.py`, run once for the session (tests/conftest.py)
    got = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in MAIN_JOB_SHA256}
    # The columns the files had before are unchanged, byte for byte.
    for name, count, sha256 in OLD_COLUMNS_SHA256:
        assert hashlib.sha256(first_columns(folder / name, count)).hexdigest() == sha256, \
            f"{name}: its first {count} columns moved"
    assert got == MAIN_JOB_SHA256


@pytest.mark.slow
def test_the_readme_shows_what_the_main_job_prints(main_job) -> None:
    """The README's table under its first command is the main job's terminal output as it is today,
    from the headline to the last line: a change to what the main job prints updates the README."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n```\nBest plan") + len("\n```\n")
    shown = readme[start:readme.index("\n```", start)].splitlines()
    printed = main_job.process.stdout.splitlines()
    printed = printed[next(i for i, line in enumerate(printed) if line.startswith("Best plan")):]
    assert shown == printed, "README.md's main-job block differs from what `python run_sim.py` prints now"
