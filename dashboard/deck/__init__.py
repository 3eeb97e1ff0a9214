"""The review-meeting deck (点评会PPT): slides built from gathered inputs,
charts drawn by kaleido."""

from __future__ import annotations

from dashboard.deck.build import build_deck, deck_bytes, deck_figures
from dashboard.deck.images import Charts
from queries.deck import DeckInputs


def deck_from(inputs: DeckInputs, charts: Charts | None = None) -> bytes:
    """Return the deck of gathered inputs as .pptx bytes (charts drawn by kaleido).

    ``charts``: a browser opened before the inputs were read (see ``Charts``); without one, the
    deck opens its own.
    """
    if charts is None:
        with Charts() as own:
            return deck_from(inputs, own)
    return deck_bytes(build_deck(inputs, charts.draw(deck_figures(inputs))))


def default_deck_name(month: str) -> str:
    """Return the deck's file name: gridwatch-2026-10.pptx."""
    return f"gridwatch-{month}.pptx"
