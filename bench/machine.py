"""The machine a benchmark ran on, for its first JSON line (the 1-minute load average when asked)."""
from __future__ import annotations

import os
import platform


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_avg_1min": round(os.getloadavg()[0], 2)}
