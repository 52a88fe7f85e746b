"""Geometry on the map: one local projection to metres, shared by the network, maps, animations
and the demo-network generator."""
from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def project_m(lon: np.ndarray, lat: np.ndarray, origin: tuple[float, float],
              radius_m: float = EARTH_RADIUS_M) -> tuple[np.ndarray, np.ndarray]:
    """Local equirectangular projection (m east, m north) around ``origin`` (lon, lat) in degrees:
    within 0.1% over a regency. ``radius_m`` is the Earth radius the metres are measured with."""
    lon0, lat0 = origin
    x = np.radians(lon - lon0) * np.cos(np.radians(lat0)) * radius_m
    y = np.radians(lat - lat0) * radius_m
    return x, y


def unproject_deg(x_m: np.ndarray, y_m: np.ndarray, origin: tuple[float, float],
                  radius_m: float = EARTH_RADIUS_M) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`project_m`: (lon, lat) in degrees of points given in metres."""
    lon0, lat0 = origin
    lon = lon0 + np.degrees(x_m / (np.cos(np.radians(lat0)) * radius_m))
    lat = lat0 + np.degrees(y_m / radius_m)
    return lon, lat
