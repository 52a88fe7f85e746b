"""The README and docs/*.md hold together: every link reaches its file and heading, and every
``python run_sim.py …`` / ``patrolsim …`` command shown in a shell block parses with the real
command-line parser (nothing is run)."""
from __future__ import annotations

import contextlib
import io
import itertools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import parse_args
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+).+?\1")
SEPARATORS = {"&&", "||", ";", "|", "&"}


@dataclass(frozen=True)
class Line:
    """One line of a Markdown file, with where it is and the fenced block it is in."""

    path: Path
    number: int
    text: str
    fence: str | None  # the info string of the fenced block holding it ("" for a bare fence), else None


def lines_of(path: Path, text: str | None = None) -> list[Line]:
    text = path.read_text(encoding="utf-8") if text is None else text
    out, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip().split(" ")[0].lower() if fence is None else None
            continue
        out.append(Line(path, number, line, fence))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text as shown, lower case, punctuation dropped
    (letters, digits, ``_`` and ``-`` kept), spaces as hyphens."""
    shown = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    shown = re.sub(r"[`*]", "", shown).strip().lower()
    return re.sub(r"[^\w\- ]", "", shown).replace(" ", "-")


def anchors(path: Path, text: str | None = None) -> set[str]:
    """The anchors of a Markdown file's headings, repeated ones numbered as GitHub does."""
    seen: dict[str, int] = {}
    found = set()
    for line in lines_of(path, text):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line.text)
        if line.fence is not None or not heading:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path, text: str | None = None) -> list[str]:
    """Every relative link of a Markdown file whose file or ``#anchor`` is missing, as
    ``file:line: message``."""
    problems = []
    for line in lines_of(path, text):
        if line.fence is not None:
            continue
        for target in LINK.findall(INLINE_CODE.sub("", line.text)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            where = f"{path.relative_to(ROOT)}:{line.number}"
            if not file_part:
                linked, headings = path, anchors(path, text)
            else:
                linked = (path.parent / file_part).resolve()
                headings = anchors(linked) if linked.suffix == ".md" and linked.is_file() else set()
            if file_part and not linked.exists():
                problems.append(f"{where}: link to {target}: no file {file_part}")
            elif anchor and linked.suffix == ".md" and anchor not in headings:
                problems.append(f"{where}: link to {target}: {linked.name} has no heading "
                                f"with anchor #{anchor}")
    return problems


def shown_commands(path: Path, text: str | None = None) -> list[tuple[int, list[str]]]:
    """The patrolsim commands in the file's shell blocks: (line, arguments after
    ``python run_sim.py`` or ``patrolsim``). Continued lines are joined, comments dropped."""
    commands = []
    pending, start = "", 0
    for line in lines_of(path, text):
        if line.fence not in SHELL_BLOCKS:
            pending = ""
            continue
        text_now = re.sub(r"^\s*\$\s+", "", line.text) if not pending else line.text
        if not pending:
            start = line.number
        if text_now.rstrip().endswith("\\"):
            pending += text_now.rstrip()[:-1] + " "
            continue
        lexer = shlex.shlex(pending + text_now, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        pending = ""
        segment: list[str] = []
        for word in [*lexer, ";"]:
            if word not in SEPARATORS:
                segment.append(word)
                continue
            if segment[:2] in (["python", "run_sim.py"], ["python3", "run_sim.py"]):
                commands.append((start, segment[2:]))
            elif segment[:1] == ["patrolsim"]:
                commands.append((start, segment[1:]))
            segment = []
    return commands


def help_of(command: tuple[str, ...]) -> str:
    """The --help text of a command (``("network", "build")``), as the parser prints it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        parse_args([*command, "--help"])
    return out.getvalue()


def refused(argv: list[str]) -> str | None:
    """What the real parser says against this command line, or None when it parses. A flag
    must be written in full: argparse would take ``--rep`` for ``--reps``, the docs should not."""
    try:
        parse_args(argv)
    except InputError as error:
        return "; ".join(error.problems)
    except SystemExit as stop:  # --help prints and exits 0
        return None if stop.code == 0 else f"exit {stop.code}"
    command = tuple(itertools.takewhile(lambda word: not word.startswith("-"), argv))
    if not command:
        return None
    known = help_of(command)
    for word in argv:
        flag = word.split("=")[0]
        if flag.startswith("--") and not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", known):
            return f"{flag} is not a flag of {' '.join(command)} (only the start of one?)"
    return None


def test_the_docs_are_there_and_the_readme_fits_on_a_few_screens():
    names = {path.name for path in DOCS}
    assert {"README.md", "design.md", "commands.md", "scenario.md", "outputs.md", "limits.md"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(readme) <= 250, f"README.md has {len(readme)} lines; move reference text to docs/"


def test_readme_starts_with_the_two_commands_ci_runs():
    """The first shell block installs and runs the main job, the second is the test command that
    .ci/run runs."""
    blocks = [line.text for line in lines_of(ROOT / "README.md")[:8] if line.fence == "bash"]
    assert blocks[0].endswith('pip install -e ".[test]" && python run_sim.py'), blocks
    assert blocks[1] == "python -m pytest -q -n auto", blocks
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("\n" + blocks[1])


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_every_link_reaches_its_file_and_heading(path):
    problems = broken_links(path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_every_command_shown_parses_with_the_real_parser(path):
    problems = [f"{path.relative_to(ROOT)}:{number}: {' '.join(argv)}: {message}"
                for number, argv in shown_commands(path)
                if (message := refused(argv)) is not None]
    assert not problems, "\n".join(problems)


def test_the_commands_found_include_the_main_job_and_continued_lines():
    """The extraction finds what the docs show: the README's main job after the install, and a
    command continued over three lines with quoted YAML in it."""
    readme = shown_commands(ROOT / "README.md")
    assert (4, []) in readme
    text = ("```bash\npython run_sim.py run s.yaml --out r \\\n  --set 'a={b: 1}' \\\n"
            "  --set x=2   # a comment\n```\n")
    assert shown_commands(ROOT / "docs" / "x.md", text) == [
        (2, ["run", "s.yaml", "--out", "r", "--set", "a={b: 1}", "--set", "x=2"])]
    every = sum(len(shown_commands(path)) for path in DOCS)
    assert every >= 20, f"only {every} commands found in the docs' shell blocks"


def test_a_flag_that_does_not_exist_is_named_with_its_file_and_line():
    text = ("Intro.\n\n```bash\npython run_sim.py validate s.yaml\n"
            "patrolsim run s.yaml --no-such-flag 3\n```\n\n```\npython run_sim.py run --not-shell\n```\n")
    path = ROOT / "docs" / "example.md"
    found = shown_commands(path, text)
    assert found == [(4, ["validate", "s.yaml"]), (5, ["run", "s.yaml", "--no-such-flag", "3"])]
    assert refused(found[0][1]) is None
    assert "unrecognized arguments: --no-such-flag 3" in refused(found[1][1])
    assert "invalid choice: 'nonsense'" in refused(["nonsense"])
    assert refused(["run", "s.yaml", "--max-rep", "3"]) == (
        "--max-rep is not a flag of run s.yaml (only the start of one?)")
    assert refused(["network", "info", "--json"]) is None


def test_a_broken_file_or_anchor_is_named_with_its_file_and_line():
    text = ("# Title\n\n## Same\n\n## Same\n\n"
            "See [a](#same-1), [b](#same-2), [c](limits.md#limits-on-input),\n"
            "[d](limits.md#no-such-heading), [e](nowhere.md), [f](https://example.org/x#y), `[g](#code)`.\n"
            "```\n[h](#in-a-block)\n```\n")
    path = ROOT / "docs" / "example.md"
    assert broken_links(path, text) == [
        "docs/example.md:7: link to #same-2: example.md has no heading with anchor #same-2",
        "docs/example.md:8: link to limits.md#no-such-heading: limits.md has no heading with anchor "
        "#no-such-heading",
        "docs/example.md:8: link to nowhere.md: no file nowhere.md",
    ]


def test_github_slugs():
    assert slug("Where should the cars stand? The optimiser") == "where-should-the-cars-stand-the-optimiser"
    assert slug("Agencies, joint patrols and pre-emption") == "agencies-joint-patrols-and-pre-emption"
    assert slug("`--reps auto` and `site_sets`") == "--reps-auto-and-site_sets"
    assert slug("The election season, phase by phase") == "the-election-season-phase-by-phase"
