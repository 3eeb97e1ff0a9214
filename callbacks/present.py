"""Glue for presentation mode: the carousel's two clientside callbacks (assets/present.js).

Stepping is pure UI, so it runs in the browser: a tick or a key updates the carousel's state,
and the state shows one page and the indicator. No server round-trip per step.
"""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from dashboard import ids


def register(app: Dash) -> None:
    """Wire the carousel's clientside callbacks into ``app``."""
    app.clientside_callback(
        ClientsideFunction("gridwatch_present", "step"),
        Output(ids.PRESENT_STATE, "data"),
        Input(ids.PRESENT_TICK, "n_intervals"), Input(ids.PRESENT_KEYS, "data"),
        State(ids.PRESENT_STATE, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridwatch_present", "show"),
        Output({"type": ids.PRESENT_FRAME, "index": ALL}, "className"),
        Output(ids.PRESENT_INDICATOR, "children"),
        Output(ids.PRESENT_PROGRESS, "style"),
        Input(ids.PRESENT_STATE, "data"),
    )
