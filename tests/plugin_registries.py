"""For tests that register plug-ins: put every registry back as it was afterwards, so that the plug-ins
of one test are not in the names another test's messages list."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES
from sim.plugins.dists import DISTS
from sim.plugins.loading import FILE_MODULE_PREFIX
from sim.plugins.patrols import PATROL_MODES

REGISTRIES = (PATROL_MODES, POLICIES, QUEUE_DISCIPLINES, DISTS)


@contextlib.contextmanager
def registries_restored() -> Iterator[None]:
    """Remove the plug-ins registered inside the block, and forget the plug-in files loaded in it (so
    that loading one again registers its plug-ins again)."""
    before = [set(registry) for registry in REGISTRIES]
    modules = set(sys.modules)
    try:
        yield
    finally:
        for registry, names in zip(REGISTRIES, before):
            for name in set(registry) - names:
                registry.remove(name)
        for name in set(sys.modules) - modules:
            if name.startswith(FILE_MODULE_PREFIX):  # a .py file loaded as a plug-in
                del sys.modules[name]
