"""Area names as lists show them when room is short: the part that tells an area apart stays."""

from __future__ import annotations

import re

__all__ = ["grid_name_parts"]

_GRID_NUMBER = re.compile(r"^(.*?)(\d+\s*(?:号)?(?:网格|单元网格)?)$")


def grid_name_parts(name: str) -> tuple[str, str]:
    """Split a grid's name into its shared prefix and the part that tells it apart.

    "东五社区01网格" → ("东五社区", "01网格"): lists cut the prefix when short of room and never
    the grid's number, so four grids of one community never read "东五社区0…" alike.
    """
    found = _GRID_NUMBER.match(name.strip())
    if not found or not found[1]:
        return "", name
    return found[1], found[2]
