"""Fixtures shared by test modules."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One network cache for the module, also for subprocesses (they read PATROLSIM_CACHE)."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("PATROLSIM_CACHE")
    os.environ["PATROLSIM_CACHE"] = str(path)
    yield path
    if old is None:
        del os.environ["PATROLSIM_CACHE"]
    else:
        os.environ["PATROLSIM_CACHE"] = old
