"""WGS-84 ↔ GCJ-02 ↔ BD-09, the offsets Chinese map providers draw in.

Coordinates are stored in WGS-84; when the tile layer is GCJ-02 every point and outline sent
to the map is shifted first, or cases land 300–500 m off their street. The formula is the
widely published Krasovsky-ellipsoid transform; it is a pure function of one point.

Imported cases may arrive in GCJ-02 (Gaode, Tencent) or BD-09 (Baidu), so the inverses are
here too. GCJ-02 has no closed-form inverse: ``gcj02_to_wgs84`` iterates the forward
transform until the residual is below 1e-7° (about 1 cm). BD-09 is GCJ-02 with one more
published rotation-and-scale, inverted in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from math import atan2, cos, pi, sin, sqrt
from typing import Any

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the transform defines it
_EE = 0.00669342162296594323  # its first eccentricity squared

Transform = Callable[[float, float], tuple[float, float]]


def _out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    r += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    r += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    r += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    r += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    r += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    r += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 (lon, lat) of a WGS-84 point; points outside China are not shifted."""
    if _out_of_china(lon, lat):
        return lon, lat
    dlat = _dlat(lon - 105.0, lat - 35.0)
    dlon = _dlon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * pi
    magic = 1 - _EE * sin(rad) ** 2
    dlat = dlat * 180.0 / ((_A * (1 - _EE)) / (magic * sqrt(magic)) * pi)
    dlon = dlon * 180.0 / (_A / sqrt(magic) * cos(rad) * pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Return the WGS-84 (lon, lat) of a GCJ-02 point, by fixed-point iteration (≈ 1 cm)."""
    if _out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _ in range(30):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        d_lon, d_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - d_lon, w_lat - d_lat
        if abs(d_lon) < 1e-9 and abs(d_lat) < 1e-9:
            break
    return w_lon, w_lat


_X_PI = pi * 3000.0 / 180.0  # the BD-09 constant as Baidu publishes it


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """Return the BD-09 (lon, lat) of a GCJ-02 point."""
    z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * _X_PI)
    theta = atan2(lat, lon) + 0.000003 * cos(lon * _X_PI)
    return z * cos(theta) + 0.0065, z * sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 (lon, lat) of a BD-09 point (the published inverse)."""
    x, y = lon - 0.0065, lat - 0.006
    z = sqrt(x * x + y * y) - 0.00002 * sin(y * _X_PI)
    theta = atan2(y, x) - 0.000003 * cos(x * _X_PI)
    g_lon, g_lat = z * cos(theta), z * sin(theta)
    # The published inverse is itself approximate (~1 m); two Newton-free corrections against
    # the forward transform bring it under a centimetre.
    for _ in range(3):
        b_lon, b_lat = gcj02_to_bd09(g_lon, g_lat)
        g_lon, g_lat = g_lon - (b_lon - lon), g_lat - (b_lat - lat)
    return g_lon, g_lat


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """Return the BD-09 (lon, lat) of a WGS-84 point (Baidu's tiles)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Return the WGS-84 (lon, lat) of a BD-09 point."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def identity(lon: float, lat: float) -> tuple[float, float]:
    """Return the point unchanged (WGS-84 tiles, or no tiles at all)."""
    return lon, lat


def transform_for(tile_crs: str) -> Transform:
    """Return the point transform that matches the tile layer's coordinate system."""
    return wgs84_to_gcj02 if tile_crs == "gcj02" else identity


def shift_geometry(geometry: dict[str, Any], fn: Transform, digits: int = 5) -> dict[str, Any]:
    """Return a GeoJSON geometry with every position passed through ``fn`` and rounded."""

    def walk(coords: Any) -> Any:
        if coords and isinstance(coords[0], (int, float)):
            lon, lat = fn(coords[0], coords[1])
            return [round(lon, digits), round(lat, digits)]
        return [walk(c) for c in coords]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}
