"""``stadtkalender tokens issue|list|revoke``: the operator's side of venue push tokens."""

from __future__ import annotations

import argparse
import sys

from calendar_api.push.tokens import PushToken, TokenError, issue_token, list_tokens, revoke_token
from stadtkalender.columns import print_columns, when
from stadtkalender.runtime import Runtime


def _cmd_issue(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        token, secret = issue_token(
            runtime.factory,
            args.venues,
            name=args.name,
            registry=runtime.ingest_context.venues,
            read_only=args.read_only,
            source=args.source,
            reserved=set(runtime.specs),
            now=runtime.clock(),
        )
    except TokenError as exc:
        print(f"stadtkalender tokens issue: {exc}", file=sys.stderr)
        return 1
    mode = "read-only" if token.read_only else "read-write"
    print(
        f"token {token.id} ({mode}) for {', '.join(token.venues)}, source {token.source}, "
        f"name {token.name!r}:"
    )
    print()
    print(f"    {secret}")
    print()
    print("This is the only time the token is shown; only its hash is stored. Send it as")
    print("'Authorization: Bearer <token>' to /api/v1/push/...")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    tokens = list_tokens(Runtime.open().factory)
    rows = [("id", "prefix", "name", "venues", "source", "mode", "created", "last used", "revoked")]
    rows += [
        (
            str(token.id),
            token.prefix,
            token.name,
            ",".join(token.venues),
            token.source,
            "read-only" if token.read_only else "read-write",
            when(token.created_at),
            when(token.last_used_at),
            when(token.revoked_at),
        )
        for token in tokens
    ]
    print_columns(rows)
    if not tokens:
        print("no tokens yet: stadtkalender tokens issue VENUE --name NAME")
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    try:
        runtime = Runtime.open()
        token: PushToken = revoke_token(runtime.factory, args.token, now=runtime.clock())
    except TokenError as exc:
        print(f"stadtkalender tokens revoke: {exc}", file=sys.stderr)
        return 1
    print(f"token {token.id} ({token.prefix}…, {token.name!r}) revoked at {when(token.revoked_at)}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokens issue``, ``tokens list`` and ``tokens revoke`` to the ``stadtkalender`` command."""
    tokens = sub.add_parser("tokens", help="venue push API tokens")
    actions = tokens.add_subparsers(dest="tokens_action", required=True)

    issue = actions.add_parser("issue", help="create a token for a venue and print it once")
    issue.add_argument("venues", nargs="+", metavar="VENUE", help="venue slug(s) from the venue registry")
    issue.add_argument("--name", required=True, help='what the token is for, e.g. "Spielplan-Export"')
    issue.add_argument("--read-only", action="store_true", help="may read the log and events, not write")
    issue.add_argument("--source", help="source name to write under (default: push:<venue>)")
    issue.set_defaults(handler=_cmd_issue)

    listing = actions.add_parser("list", help="every token (the tokens themselves are never shown)")
    listing.set_defaults(handler=_cmd_list)

    revoke = actions.add_parser("revoke", help="revoke a token by id or prefix")
    revoke.add_argument("token", metavar="ID_OR_PREFIX")
    revoke.set_defaults(handler=_cmd_revoke)
