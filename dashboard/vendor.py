"""The JavaScript vendored in ``assets/vendor/``: plotly.js's basic bundle, of plotly's own version.

Named here, apart from ``dashboard.bundles`` (which serves it to the pages and imports Dash),
so the deck's renderer can load it without the app (``dashboard.deck.images``).
"""

from __future__ import annotations

from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "assets" / "vendor"
PLOTLY_VERSION = "4.1.1"
PLOTLY_BASIC = VENDOR / f"plotly-basic-{PLOTLY_VERSION}.min.js"
