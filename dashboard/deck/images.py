"""Render plotly figures to PNG with kaleido, in one headless Chromium for the whole batch.

Kaleido ≥ 1 drives an installed Chrome or Chromium (``BROWSER_PATH``, else the usual names on
``PATH``, e.g. Debian's ``/usr/bin/chromium``); it never downloads one here. plotly.js comes
from the plotly package and MathJax is off, so rendering reads nothing from the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import kaleido
from kaleido.errors import ChromeNotFoundError, KaleidoError

from dashboard.deck.build import FigureSpec

SCALE = 2  # device pixels per figure pixel: sharp on a projector


class ChartRenderError(RuntimeError):
    """The charts cannot be drawn (no browser, or it failed); the message says what to do."""


async def _render(specs: Mapping[str, FigureSpec]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    async with kaleido.Kaleido(n=1, mathjax=False) as renderer:
        for key, spec in specs.items():
            width, height = spec.pixels
            out[key] = await renderer.calc_fig(
                spec.figure, opts={"format": "png", "width": width, "height": height,
                                   "scale": SCALE})
    return out


def render_images(specs: Mapping[str, FigureSpec]) -> dict[str, bytes]:
    """Return each figure as PNG bytes, drawn at its box's size.

    The batch runs on an event loop in a thread of its own, so callers that already run one
    (an ASGI server, Playwright's sync API) can render too.
    """
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kaleido") as pool:
            return pool.submit(lambda: asyncio.run(_render(specs))).result()
    except ChromeNotFoundError as exc:
        raise ChartRenderError(
            "drawing the charts needs Chrome or Chromium: install it (Debian: apt-get install "
            "chromium) or point BROWSER_PATH at one") from exc
    except (KaleidoError, OSError, TimeoutError) as exc:
        raise ChartRenderError(f"drawing the charts failed: {exc}") from exc
