"""The one exception type for bad user input (exit code 2 on the command line)."""
from __future__ import annotations

import re
import reprlib

MAX_PROBLEM_CHARS = 1000  # a problem line longer than this is cut: it would hide the others


def shown(value: object, limit: int = 200) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters: a value can be huge
    (an alias bomb, a pasted file, a number of a thousand digits); its start is enough to
    recognise it, and it is never expanded whole to be cut."""
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict = 3, 8, 8, 8
    short.maxstring = short.maxother = short.maxlong = limit
    text = short.repr(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    if isinstance(value, (list, tuple, dict)) and len(value) > short.maxlist:
        text += f" ({len(value):,} items)"
    return text


def _one_line(problem: str) -> str:
    line = re.sub(r"\s*\n\s*", " ", str(problem)).strip()
    return line if len(line) <= MAX_PROBLEM_CHARS else line[:MAX_PROBLEM_CHARS] + "…"


class InputError(Exception):
    """Bad input from the user: a scenario, a flag, a file.

    Each problem is one readable line that names its place (YAML path, file, line).
    The command line prints them and exits with code 2, without a traceback.
    """

    def __init__(self, problems: str | list[str]):
        self.problems = [_one_line(p) for p in ([problems] if isinstance(problems, str) else problems)]
        super().__init__("\n".join(self.problems))


class RunStopped(Exception):
    """A run stopped early (a worker died, the cluster failed); finished replications are saved."""


class ScenarioWarning(UserWarning):
    """A scenario that runs, but probably not as its author meant (printed as ``warning: ...``)."""
