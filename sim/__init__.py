"""patrolsim: discrete-event simulation of patrol coverage over a road network.

``from sim import Study`` is the Python API (see docs/python-api.md). It is imported on first
use, so ``import sim.errors`` (or any other sub-module) does not load the whole package.
"""

__version__ = "0.1.0"
__all__ = ["Results", "Study", "StudyCache", "__version__"]

_LAZY = {"Study": "sim.study.api", "StudyCache": "sim.study.cache", "Results": "sim.study.results"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
