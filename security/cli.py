"""``gridwatch user``, ``gridwatch token`` and ``gridwatch audit``: accounts from the shell.

Every change is written to the audit log with the actor ``cli``. Passwords come from a prompt,
from stdin (``--password-stdin``) or are generated and printed once; they are never options.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from sqlalchemy.orm import Session, sessionmaker

from queries import accounts
from settings import Settings

CLI_ACTOR = "cli"
OpenSessions = Callable[[], tuple[Settings, sessionmaker[Session]]]


def _password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    """Return a password and whether it was generated (then it is printed once)."""
    if generate:
        return accounts.generate_password(), True
    if password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return click.prompt("password", hide_input=True, confirmation_prompt=True), False


def register(cli: click.Group, open_sessions: OpenSessions) -> None:
    """Add the ``user``, ``token`` and ``audit`` commands; ``open_sessions`` opens the DB."""

    def change(action: str, target: str, detail: str,
               work: Callable[[Session, Settings], object]) -> object:
        settings, sessions = open_sessions()
        with sessions() as session:
            try:
                result = work(session, settings)
            except accounts.AccountError as exc:
                raise click.ClickException(str(exc)) from exc
            accounts.audit(session, CLI_ACTOR, action, target, detail, now=settings.now_live())
            session.commit()
        return result

    @cli.group()
    def user() -> None:
        """Manage the accounts that log in (leader, department, area)."""

    @user.command("add")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice(["leader", "department", "area"]))
    @click.option("--department", default=None, help="department code (role department)")
    @click.option("--area", default=None, help="area code (role area)")
    @click.option("--name", "display_name", default="", help="name shown as 发布人 etc.")
    @click.option("--password-stdin", is_flag=True, help="read the password from stdin")
    @click.option("--generate", is_flag=True, help="generate a password and print it once")
    def user_add(username: str, role: str, department: str | None, area: str | None,
                 display_name: str, password_stdin: bool, generate: bool) -> None:
        """Create a user."""
        password, generated = _password(password_stdin, generate)
        change("user-add", username, f"role={role} department={department or ''} "
               f"area={area or ''}",
               lambda s, st: accounts.add_user(s, username, password, role, now=st.now_live(),
                                               display_name=display_name,
                                               department=department, area=area))
        click.echo(f"created {username} ({role})")
        if generated:
            click.echo(f"password (shown once): {password}")

    @user.command("list")
    def user_list() -> None:
        """List users."""
        _settings, sessions = open_sessions()
        with sessions() as session:
            for a in accounts.list_users(session):
                state = "disabled" if a.disabled else "enabled"
                click.echo(f"{a.username}\t{a.role}\t{a.unit or '-'}\t{state}\t{a.display_name}")

    @user.command("disable")
    @click.argument("username")
    @click.option("--enable", is_flag=True, help="re-enable instead")
    def user_disable(username: str, enable: bool) -> None:
        """Disable a user (their session ends at its next request)."""
        change("user-enable" if enable else "user-disable", username, "",
               lambda s, _st: accounts.disable_user(s, username, disabled=not enable))
        click.echo(f"{username} {'enabled' if enable else 'disabled'}")

    @user.command("reset-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="read the password from stdin")
    @click.option("--generate", is_flag=True, help="generate a password and print it once")
    def user_reset(username: str, password_stdin: bool, generate: bool) -> None:
        """Set a new password (clears a lockout)."""
        password, generated = _password(password_stdin, generate)
        change("user-reset-password", username, "",
               lambda s, _st: accounts.reset_password(s, username, password))
        click.echo(f"password of {username} reset")
        if generated:
            click.echo(f"password (shown once): {password}")

    @user.command("grant")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice(["leader", "department", "area"]))
    @click.option("--department", default=None)
    @click.option("--area", default=None)
    def user_grant(username: str, role: str, department: str | None, area: str | None) -> None:
        """Change a user's role and unit."""
        change("user-grant", username, f"role={role} department={department or ''} "
               f"area={area or ''}",
               lambda s, _st: accounts.grant(s, username, role, department=department,
                                             area=area))
        click.echo(f"{username} is now {role}")

    @cli.group()
    def token() -> None:
        """Manage the wall screens' kiosk tokens."""

    @token.command("add")
    @click.argument("name")
    @click.option("--url", "base_url", default="http://127.0.0.1:8050",
                  help="the app's address, for the printed kiosk URL")
    def token_add(name: str, base_url: str) -> None:
        """Create a kiosk token and print its URL once."""
        secret = change("token-add", name, "",
                        lambda s, st: accounts.add_token(s, name, now=st.now_live()))
        click.echo(f"kiosk URL (shown once): {base_url.rstrip('/')}/screen?kiosk={secret}")

    @token.command("list")
    def token_list() -> None:
        """List kiosk tokens."""
        _settings, sessions = open_sessions()
        with sessions() as session:
            for t in accounts.list_tokens(session):
                state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "live"
                click.echo(f"{t.name}\t{t.created_at:%Y-%m-%d %H:%M}\t{state}")

    @token.command("revoke")
    @click.argument("name")
    def token_revoke(name: str) -> None:
        """Revoke a kiosk token: its wall stops at the next poll."""
        change("token-revoke", name, "",
               lambda s, st: accounts.revoke_token(s, name, now=st.now_live()))
        click.echo(f"token {name} revoked")

    @cli.command("audit")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
    def audit_command(limit: int) -> None:
        """Show the latest audit-log entries."""
        _settings, sessions = open_sessions()
        with sessions() as session:
            for row in accounts.read_audit(session, limit):
                click.echo(f"{row.at:%Y-%m-%d %H:%M:%S}\t{row.actor}\t{row.action}\t"
                           f"{row.target}\t{row.detail}")
