"""Accounts, kiosk tokens and the audit log: plain data in, plain data out (no Flask).

Passwords are hashed with argon2id (argon2-cffi: the memory-hard hash OWASP recommends first,
with its own salt and parameters in each hash string). Kiosk tokens are 32 random bytes
(``secrets.token_urlsafe``); only their SHA-256 is stored, which suffices for a high-entropy
secret and lets every request check one by an indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from queries.models import Area, AuditEntry, Department, KioskToken, User
from queries.scope import Scope
from security.identity import ROLE_AREA, ROLE_DEPARTMENT, ROLE_LEADER, ROLES

# Logins: after MAX_FAILURES wrong passwords in a row the account is locked for LOCK_MINUTES.
MAX_FAILURES = 5
LOCK_MINUTES = 15
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so both answers take an argon2 verify's time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user or token change Gridwatch refuses; the message says why."""


@dataclass(frozen=True)
class Account:
    """A user as the app reads it (never the hash)."""

    username: str
    display_name: str
    role: str
    scope: Scope
    disabled: bool
    locked_until: datetime | None
    created_at: datetime
    unit: str = ""  # the department or area code the scope names


@dataclass(frozen=True)
class LoginResult:
    """The outcome of one login attempt: ``account`` when it succeeded, else ``reason``.

    ``reason`` is for the log and audit only; the page shows one generic message.
    """

    account: Account | None
    reason: str = ""
    failures: int = 0


@dataclass(frozen=True)
class TokenRow:
    """A kiosk token as listed (the secret itself is shown once, at creation)."""

    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuditRow:
    """One audit-log line."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def hash_password(password: str) -> str:
    """Return the argon2id hash string of ``password``."""
    return _HASHER.hash(password)


def generate_password() -> str:
    """Return a random password to print once (16 URL-safe characters, ~96 bits)."""
    return secrets.token_urlsafe(12)


def _scope(session: Session, user: User) -> tuple[Scope, str]:
    if user.role == ROLE_LEADER:
        return Scope.everything(), ""
    if user.role == ROLE_DEPARTMENT and user.department_id is not None:
        department = session.get(Department, user.department_id)
        return Scope.department(user.department_id), department.code if department else ""
    if user.role == ROLE_AREA and user.area_id is not None:
        area = session.get(Area, user.area_id)
        return Scope.area(user.area_id), area.code if area else ""
    return Scope.nothing(), ""


def _account(session: Session, user: User) -> Account:
    scope, unit = _scope(session, user)
    return Account(username=user.username, display_name=user.display_name or user.username,
                   role=user.role, scope=scope, disabled=user.disabled,
                   locked_until=user.locked_until, created_at=user.created_at, unit=unit)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def _unit(session: Session, role: str, department: str | None,
          area: str | None) -> tuple[int | None, int | None]:
    """Resolve the department / area codes a role needs into ids."""
    if role not in ROLES or role not in (ROLE_LEADER, ROLE_DEPARTMENT, ROLE_AREA):
        raise AccountError(f"role {role!r}: expected leader, department or area")
    if role == ROLE_DEPARTMENT:
        if not department:
            raise AccountError("a department user needs --department CODE")
        found = session.scalar(select(Department.id).where(Department.code == department))
        if found is None:
            raise AccountError(f"no department with code {department!r}")
        return found, None
    if role == ROLE_AREA:
        if not area:
            raise AccountError("an area user needs --area CODE")
        found = session.scalar(select(Area.id).where(Area.code == area))
        if found is None:
            raise AccountError(f"no area with code {area!r}")
        return None, found
    return None, None


def add_user(session: Session, username: str, password: str, role: str, *, now: datetime,
             display_name: str = "", department: str | None = None,
             area: str | None = None) -> Account:
    """Create an enabled user; the caller commits."""
    if not username or len(username) > 64:
        raise AccountError("a username has 1 to 64 characters")
    if len(password) < 10:
        raise AccountError("a password has at least 10 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    department_id, area_id = _unit(session, role, department, area)
    user = User(username=username, display_name=display_name or username, role=role,
                department_id=department_id, area_id=area_id,
                password_hash=hash_password(password), disabled=False, failed_logins=0,
                created_at=now)
    session.add(user)
    session.flush()
    return _account(session, user)


def list_users(session: Session) -> list[Account]:
    """Return every user, by username."""
    return [_account(session, u) for u in session.scalars(select(User).order_by(User.username))]


def get_account(session: Session, username: str) -> Account | None:
    """Return one user (None when unknown): the session hook re-reads it on every request."""
    user = session.scalar(select(User).where(User.username == username))
    return None if user is None else _account(session, user)


def enabled_user_count(session: Session) -> int:
    """Return how many users can log in (``serve`` refuses to start with none)."""
    return len(session.scalars(select(User.id).where(User.disabled.is_(False))).all())


def disable_user(session: Session, username: str, *, disabled: bool = True) -> None:
    """Disable (or re-enable) a user; a live session ends at its next request."""
    _user(session, username).disabled = disabled


def reset_password(session: Session, username: str, password: str) -> None:
    """Set a new password and clear the failure count and lock."""
    if len(password) < 10:
        raise AccountError("a password has at least 10 characters")
    user = _user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None


def grant(session: Session, username: str, role: str, *, department: str | None = None,
          area: str | None = None) -> Account:
    """Change a user's role and the unit its scope names."""
    user = _user(session, username)
    user.department_id, user.area_id = _unit(session, role, department, area)
    user.role = role
    session.flush()
    return _account(session, user)


def backoff_seconds(failures: int) -> float:
    """Return the delay before answering a failed login: doubling from 0.25 s, at most 4 s."""
    return 0.0 if failures <= 0 else min(4.0, 0.25 * 2 ** (failures - 1))


def verify_login(session: Session, username: str, password: str, *,
                 now: datetime) -> LoginResult:
    """Check a login, counting failures and locking after ``MAX_FAILURES``; the caller commits.

    An unknown user still costs one argon2 verify so timing does not tell which names exist.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None, "unknown user")
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(None, "locked", user.failed_logins)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            return LoginResult(None, "wrong password; locked", user.failed_logins)
        return LoginResult(None, "wrong password", user.failed_logins)
    if user.disabled:
        return LoginResult(None, "disabled")
    user.failed_logins = 0
    user.locked_until = None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(_account(session, user))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(session: Session, name: str, *, now: datetime) -> str:
    """Create a kiosk token and return its secret (shown once; only the hash is kept)."""
    if not name or len(name) > 64:
        raise AccountError("a token name has 1 to 64 characters")
    if session.scalar(select(KioskToken.id).where(KioskToken.name == name)) is not None:
        raise AccountError(f"token {name!r} already exists")
    secret = secrets.token_urlsafe(32)
    session.add(KioskToken(name=name, token_hash=_token_hash(secret), created_at=now))
    session.flush()
    return secret


def list_tokens(session: Session) -> list[TokenRow]:
    """Return every kiosk token, by name."""
    return [TokenRow(t.name, t.created_at, t.revoked_at)
            for t in session.scalars(select(KioskToken).order_by(KioskToken.name))]


def revoke_token(session: Session, name: str, *, now: datetime) -> None:
    """Revoke a kiosk token: the wall using it is refused at its next poll."""
    token = session.scalar(select(KioskToken).where(KioskToken.name == name))
    if token is None:
        raise AccountError(f"no token {name!r}")
    if token.revoked_at is None:
        token.revoked_at = now


def live_tokens(session: Session) -> dict[str, str]:
    """Return every live (not revoked) token as hash → name: one statement for all walls."""
    rows = session.execute(select(KioskToken.token_hash, KioskToken.name)
                           .where(KioskToken.revoked_at.is_(None)))
    return {digest: name for digest, name in rows}


def token_hash(secret: str) -> str:
    """The stored form of a token's secret (``live_tokens``' keys)."""
    return _token_hash(secret)


def check_token(session: Session, secret: str) -> str | None:
    """Return the name of the live token ``secret`` is, or None (unknown or revoked)."""
    if not secret:
        return None
    token = session.scalar(select(KioskToken).where(KioskToken.token_hash == _token_hash(secret)))
    return token.name if token is not None and token.revoked_at is None else None


def audit(session: Session, actor: str, action: str, target: str = "", detail: str = "", *,
          now: datetime) -> None:
    """Append one audit entry; the caller commits."""
    session.add(AuditEntry(at=now, actor=actor[:80], action=action[:40], target=target[:120],
                           detail=detail))


def read_audit(session: Session, limit: int = 100) -> list[AuditRow]:
    """Return the latest ``limit`` audit entries, newest first."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditRow(r.at, r.actor, r.action, r.target, r.detail) for r in rows]
