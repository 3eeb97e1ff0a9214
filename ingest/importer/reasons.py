"""The importers' rejection of one row, with a reason from ``queries.reasons``."""

from __future__ import annotations

from queries.reasons import (  # noqa: F401 - re-exported: the importers name reasons from here
    AMBIGUOUS_TIME,
    BAD_TIMESTAMP,
    BAD_VALUE,
    CATEGORY_LIMIT,
    DUPLICATE_ID,
    FUTURE_TIME,
    IMPOSSIBLE_ORDER,
    MISSING_FIELD,
    NO_LOCATION,
    OUTSIDE_AREAS,
    REASON_BY_CODE,
    REASONS,
    UNDECODABLE,
    UNKNOWN_VALUE,
    Reason,
)


class RowRejected(Exception):
    """Raised while converting one row: the row goes to quarantine with this reason."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.code}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def message(self) -> str:
        """Return the stored message: "中文 / English: detail"."""
        return f"{self.reason.zh} / {self.reason.en}: {self.detail}"
