"""Geometry on the map: one local projection to metres, shared by the network, maps and animations."""
from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def project_m(lon: np.ndarray, lat: np.ndarray, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Local equirectangular projection (m east, m north) around ``origin`` (lon, lat) in degrees:
    within 0.1% over a regency."""
    lon0, lat0 = origin
    x = np.radians(lon - lon0) * np.cos(np.radians(lat0)) * EARTH_RADIUS_M
    y = np.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y
