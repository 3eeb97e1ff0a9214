"""The external programs some tests need, found explicitly; a missing one skips, nothing else.

A test may skip only when a program outside Python is not installed, and the skip says which
and how to install it. Any other failure (an AssessmentError, a chart that cannot be drawn with
the browser present) must fail the test, so a broken deck path never reads "1 skipped".
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, g
from sqlalchemy import Engine

from queries.engine import init_db, make_engine
from queries.scope import Scope
from security.identity import ROLE_LEADER, Identity

# The names kaleido's browser finder (choreographer) tries on PATH, Debian's first.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                  "chrome")


def chromium_path() -> str | None:
    """Return the Chrome/Chromium kaleido drives: BROWSER_PATH if it exists, else one on PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def require_chromium() -> str:
    """Return Chromium's path, or skip the test saying that Chromium is missing."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (kaleido draws the deck's charts with it): "
                    "apt-get install chromium, or set BROWSER_PATH")
    return path


def require_program(*names: str, install: str) -> str:
    """Return the first of ``names`` on PATH, or skip the test naming the package to install."""
    found = next((path for name in names if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(f"{' / '.join(names)} is not installed: apt-get install {install}")
    return found


@contextmanager
def acting_as(identity: Identity) -> Iterator[None]:
    """Run callback code inside a request whose caller is ``identity`` (what the login hook
    sets), so role checks see a real identity without a browser."""
    with Flask("acting-as").test_request_context():
        g.identity = identity
        yield


def leader(display_name: str = "领导") -> Identity:
    """A logged-in leader with ``display_name`` (the 发布人 of what they publish)."""
    return Identity("leader", ROLE_LEADER, Scope.everything(), display_name)


def fresh_sqlite(path: Path) -> Engine:
    """A new SQLite database at ``path`` with every table created (more than one per test)."""
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    return engine
