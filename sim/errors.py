"""The one exception type for bad user input (exit code 2 on the command line)."""
from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: a scenario, a flag, a file.

    Each problem is one readable line that names its place (YAML path, file, line).
    The command line prints them and exits with code 2, without a traceback.
    """

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class RunStopped(Exception):
    """A run stopped early (a worker died, the cluster failed); finished replications are saved."""
