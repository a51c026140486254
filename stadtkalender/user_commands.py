"""``stadtkalender users add|list|disable|password``: the operator's side of console accounts."""

from __future__ import annotations

import argparse
import getpass
import sys

from aggregator.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    AccountError,
    AccountInfo,
    add_account,
    check_new_account,
    check_password,
    disable,
    get_account,
    list_accounts,
    set_password,
)
from stadtkalender.columns import print_columns, when
from stadtkalender.runtime import Runtime


class _PasswordInputError(Exception):
    """The password could not be read (empty standard input, or the two entries differ)."""


def _read_password(from_stdin: bool) -> str:
    """One line of standard input, or a password typed twice at a prompt that does not echo it."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise _PasswordInputError("--password-stdin: standard input has no password line")
        check_password(password)
        return password
    password = getpass.getpass(f"Password (at least {MIN_PASSWORD_LENGTH} characters): ")
    check_password(password)
    if getpass.getpass("Password again: ") != password:
        raise _PasswordInputError("the two passwords differ; nothing was changed")
    return password


def _describe(account: AccountInfo) -> str:
    venues = f" for {', '.join(account.venues)}" if account.venues else ""
    return f"{account.email} ({account.role}{venues}, {account.display_name!r})"


def _fail(action: str, exc: Exception) -> int:
    print(f"stadtkalender users {action}: {exc}", file=sys.stderr)
    return 1


def _cmd_add(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        check_new_account(
            runtime.factory,
            args.email,
            role=args.role,
            venues=args.venues,
            display_name=args.name,
            registry=runtime.ingest_context.venues,
        )
        password = _read_password(args.password_stdin)
        account = add_account(
            runtime.factory,
            args.email,
            role=args.role,
            password=password,
            venues=args.venues,
            display_name=args.name,
            registry=runtime.ingest_context.venues,
            now=runtime.clock(),
        )
    except (AccountError, _PasswordInputError) as exc:
        return _fail("add", exc)
    print(f"account {account.id} created: {_describe(account)}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    accounts = list_accounts(Runtime.open().factory)
    rows = [("id", "email", "name", "role", "venues", "created", "last login", "disabled")]
    rows += [
        (
            str(account.id),
            account.email,
            account.display_name,
            account.role,
            ",".join(account.venues) or "—",
            when(account.created_at),
            when(account.last_login_at),
            when(account.disabled_at),
        )
        for account in accounts
    ]
    print_columns(rows)
    if not accounts:
        print("no accounts yet: stadtkalender users add EMAIL --role editor")
    return 0


def _cmd_disable(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        before = get_account(runtime.factory, args.email)
        account = disable(runtime.factory, args.email, now=runtime.clock())
    except AccountError as exc:
        return _fail("disable", exc)
    state = "was already disabled" if before.disabled else "disabled"
    print(f"account {_describe(account)} {state} at {when(account.disabled_at)}")
    return 0


def _cmd_password(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        get_account(runtime.factory, args.email)  # an unknown e-mail fails before the prompt
        account = set_password(runtime.factory, args.email, _read_password(args.password_stdin))
    except (AccountError, _PasswordInputError) as exc:
        return _fail("password", exc)
    print(f"new password set for {_describe(account)}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``users add``, ``users list``, ``users disable`` and ``users password`` to ``stadtkalender``."""
    users = sub.add_parser("users", help="accounts of the editorial console")
    actions = users.add_subparsers(dest="users_action", required=True)
    stdin_help = "read the password as one line from standard input (for scripts) instead of a prompt"

    add = actions.add_parser("add", help="create an account (the password is asked for twice)")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", required=True, choices=ROLES, help="admin, editor, or venue (with --venue)")
    add.add_argument(
        "--venue",
        dest="venues",
        action="append",
        default=[],
        metavar="SLUG",
        help="a venue a venue account speaks for (repeatable; slugs from the venue registry)",
    )
    add.add_argument("--name", help="display name (default: the e-mail address)")
    add.add_argument("--password-stdin", action="store_true", help=stdin_help)
    add.set_defaults(handler=_cmd_add)

    listing = actions.add_parser("list", help="every account (passwords are never shown)")
    listing.set_defaults(handler=_cmd_list)

    off = actions.add_parser("disable", help="stop an account from signing in")
    off.add_argument("email", metavar="EMAIL")
    off.set_defaults(handler=_cmd_disable)

    password = actions.add_parser("password", help="set a new password for an account")
    password.add_argument("email", metavar="EMAIL")
    password.add_argument("--password-stdin", action="store_true", help=stdin_help)
    password.set_defaults(handler=_cmd_password)
