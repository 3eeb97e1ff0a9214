"""督办 (supervision): a leader flags a case with a note; the department sees it pinned.

A flag is read and written only for a case inside the caller's scope (``scope.case_clause()``
in the same statement), so a forged case id of another department neither gets flagged nor
shows its history. Flags are never deleted: clearing stamps who and when, and the case page
keeps the whole history. Every flag and clearing is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from queries import accounts
from queries.models import Case, SupervisionFlag
from queries.scope import Scope

NOTE_MAX = 500  # characters of a flag's note kept (a textarea could send more)


@dataclass(frozen=True)
class FlagRow:
    """One 督办 of a case, as its history lists it."""

    id: int
    case_id: int
    flagged_by: str
    note: str
    at: datetime
    cleared_at: datetime | None
    cleared_by: str | None

    @property
    def active(self) -> bool:
        """True while the flag is not cleared (the case stays pinned)."""
        return self.cleared_at is None


def active_flag() -> ColumnElement[bool]:
    """Return the clause "this case has a flag not cleared": the desk's pin."""
    return exists().where(SupervisionFlag.case_id == Case.id,
                          SupervisionFlag.cleared_at.is_(None))


def _external_id(session: Session, case_id: int, scope: Scope) -> str | None:
    return session.scalar(select(Case.external_id).where(Case.id == case_id,
                                                         scope.case_clause()))


def flag_case(session: Session, case_id: int, *, scope: Scope, by: str, note: str,
              now: datetime, actor: str | None = None) -> FlagRow | None:
    """Flag a case of ``scope`` (audited); None when no case of the scope has this id.

    ``by`` is the name the history shows (a display name), ``actor`` the audit log's username
    (``by`` when not given).

    The caller commits. Who may flag (a leader) is the caller's check; the scope here keeps a
    flag from reaching a case the caller cannot see.
    """
    external_id = _external_id(session, case_id, scope)
    if external_id is None:
        return None
    flag = SupervisionFlag(case_id=case_id, flagged_by=by[:64], note=note.strip()[:NOTE_MAX],
                           at=now)
    session.add(flag)
    session.flush()
    accounts.audit(session, actor or by, "supervise", external_id, flag.note, now=now)
    return _row(flag)


def clear_flag(session: Session, flag_id: int, *, scope: Scope, by: str,
               now: datetime) -> bool:
    """Clear one active flag of a case in ``scope`` (audited); False when there is none."""
    flag = session.scalar(
        select(SupervisionFlag).join(Case, SupervisionFlag.case_id == Case.id)
        .where(SupervisionFlag.id == flag_id, SupervisionFlag.cleared_at.is_(None),
               scope.case_clause()))
    if flag is None:
        return False
    flag.cleared_at, flag.cleared_by = now, by[:64]
    external_id = _external_id(session, flag.case_id, scope) or ""
    accounts.audit(session, by, "supervise-clear", external_id, flag.note, now=now)
    return True


def flags_of(session: Session, case_id: int, *, scope: Scope) -> list[FlagRow]:
    """Return a case's flag history, newest first (empty outside ``scope``)."""
    rows = session.scalars(
        select(SupervisionFlag).join(Case, SupervisionFlag.case_id == Case.id)
        .where(SupervisionFlag.case_id == case_id, scope.case_clause())
        .order_by(SupervisionFlag.at.desc(), SupervisionFlag.id.desc()))
    return [_row(flag) for flag in rows]


def _row(flag: SupervisionFlag) -> FlagRow:
    return FlagRow(flag.id, flag.case_id, flag.flagged_by, flag.note, flag.at, flag.cleared_at,
                   flag.cleared_by)
