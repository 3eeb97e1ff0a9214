"""Render plotly figures to PNG with kaleido, in one headless Chromium for the whole batch.

Kaleido ≥ 1 drives an installed Chrome or Chromium (``BROWSER_PATH``, else the usual names on
``PATH``, e.g. Debian's ``/usr/bin/chromium``); it never downloads one here. plotly.js is the
basic bundle the pages load (``dashboard.vendor``: bar and scatter traces, the only ones our
figures draw), 1.2 MB against the plotly package's 4.8 MB, which took Chromium a second or two
longer to load and drew the same PNGs; MathJax is off, so rendering reads nothing from the
network.

Opening the browser (launching Chromium and loading plotly.js into its page, about 3.5 s on
the bench machine) needs no data, so ``Charts`` opens it in a thread of its own while the month
is read; ``draw`` then renders there while the slides are laid out, and a chart is waited for
only when its slide is reached (``Drawn``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from types import TracebackType

import kaleido
from kaleido._kaleido_tab import _KaleidoTab
from kaleido.errors import ChromeNotFoundError, KaleidoError

from dashboard.deck.build import FigureSpec
from dashboard.vendor import PLOTLY_BASIC

SCALE = 2  # device pixels per figure pixel: sharp on a projector


class ChartRenderError(RuntimeError):
    """The charts cannot be drawn (no browser, or it failed); the message says what to do."""


class _OnePage(kaleido.Kaleido):
    """Kaleido drawing every chart in the page it loaded once.

    Kaleido reloads its page after each figure, which loads plotly.js again: about 0.2 s a
    chart, as long as drawing it. plotly.js draws each figure into an element of its own and
    purges it, so the PNGs are byte for byte those of a fresh page (tests/test_deck.py).
    """

    async def _return_kaleido_tab(self, tab: _KaleidoTab) -> None:
        await self.tabs_ready.put(tab)


def _render_error(exc: BaseException) -> ChartRenderError | None:
    """Return the error a caller is shown for a failure of the browser, or None for a bug."""
    if isinstance(exc, ChromeNotFoundError):
        return ChartRenderError(
            "drawing the charts needs Chrome or Chromium: install it (Debian: apt-get install "
            "chromium) or point BROWSER_PATH at one")
    if isinstance(exc, (KaleidoError, OSError, TimeoutError)):
        return ChartRenderError(f"drawing the charts failed: {exc}")
    return None


class Drawn(Mapping[str, bytes]):
    """The charts being drawn: reading one waits until it is done."""

    def __init__(self, futures: Mapping[str, Future[bytes]]) -> None:
        self._futures = futures

    def __getitem__(self, key: str) -> bytes:
        future = self._futures[key]
        try:
            return future.result()
        except Exception as exc:
            error = _render_error(exc)
            if error is None:
                raise
            raise error from exc

    def __iter__(self) -> Iterator[str]:
        return iter(self._futures)

    def __len__(self) -> int:
        return len(self._futures)


class Charts:
    """One headless Chromium, opened on creation in a thread with its own event loop.

    The thread also lets callers that already run an event loop (an ASGI server, Playwright's
    sync API) render. Use it as a context manager: leaving closes the browser, and an error in
    opening it is reported only by the charts read (a refused month is reported as itself).
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido",
                                        daemon=True)
        self._thread.start()
        self._opened = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        self._futures: list[Future[bytes]] = []
        self._drawing: list[asyncio.Task[None]] = []  # touched in the loop's thread only

    @staticmethod
    async def _open() -> kaleido.Kaleido:
        renderer = _OnePage(n=1, mathjax=False, plotlyjs=PLOTLY_BASIC)
        await renderer.open()
        return renderer

    def draw(self, specs: Mapping[str, FigureSpec]) -> Drawn:
        """Start drawing each figure at its box's size, in order; return them as they come."""
        futures: dict[str, Future[bytes]] = {key: Future() for key in specs}
        self._futures.extend(futures.values())
        self._loop.call_soon_threadsafe(self._start, specs, futures)
        return Drawn(futures)

    def _start(self, specs: Mapping[str, FigureSpec], futures: dict[str, Future[bytes]]) -> None:
        self._drawing.append(self._loop.create_task(self._draw(specs, futures)))

    async def _draw(self, specs: Mapping[str, FigureSpec],
                    futures: dict[str, Future[bytes]]) -> None:
        try:
            # Shielded: cancelling the drawing must not cancel the opening, which close awaits.
            renderer = await asyncio.shield(asyncio.wrap_future(self._opened))
            for key, spec in specs.items():
                width, height = spec.pixels
                futures[key].set_result(await renderer.calc_fig(
                    spec.figure, opts={"format": "png", "width": width, "height": height,
                                       "scale": SCALE}))
        except Exception as exc:  # the failed chart and every one after it report it
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)

    async def _close(self) -> None:
        for task in self._drawing:
            task.cancel()
        await asyncio.gather(*self._drawing, return_exceptions=True)
        try:
            renderer = await asyncio.wrap_future(self._opened)
        except Exception:  # it never opened: nothing to close (the charts say why)
            return
        await renderer.close()

    def close(self) -> None:
        """Close the browser (waiting for it to finish opening) and end the thread.

        A chart not drawn by then is cancelled: reading it raises instead of waiting.
        """
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        finally:
            for future in self._futures:
                future.cancel()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Charts:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def render_images(specs: Mapping[str, FigureSpec]) -> dict[str, bytes]:
    """Return each figure as PNG bytes, drawn at its box's size."""
    with Charts() as charts:
        drawn = charts.draw(specs)
        return {key: drawn[key] for key in specs}
