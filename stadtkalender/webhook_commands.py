"""``stadtkalender webhooks add|list|log|enable``: registering webhooks and seeing every delivery attempt."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select

from aggregator.models import Webhook
from aggregator.webhooks import WebhookError, delivery_log, enable, hook_filter, register
from stadtkalender.columns import print_columns, when
from stadtkalender.runtime import Runtime

_OPTION = {"venues": "venue", "categories": "category", "sources": "source"}
"""A filter's part by the option that sets it."""


def _cmd_add(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        with runtime.factory() as session, session.begin():
            hook = register(
                session,
                args.url,
                owner=args.owner,
                venues=args.venue,
                categories=args.category,
                sources=args.source,
                settings=runtime.settings.open_data,
                now=runtime.clock(),
            )
            hook_id, secret = hook.id, hook.secret
    except WebhookError as exc:
        print(f"stadtkalender webhooks add: {exc}", file=sys.stderr)
        return 1
    print(f"webhook {hook_id} for {args.url}: every change from now on, signed with the secret")
    print()
    print(f"    {secret}")
    print()
    print("Verify the webhook-signature header with any Standard Webhooks library and this secret.")
    return 0


def _cmd_list(_args: argparse.Namespace) -> int:
    with Runtime.open().factory() as session:
        hooks = session.scalars(select(Webhook).order_by(Webhook.id)).all()
        rows = [("id", "url", "filter", "owner", "cursor", "failures", "disabled", "why")]
        for hook in hooks:
            wanted = "; ".join(
                f"{_OPTION[name]}={'|'.join(values)}" for name, values in hook_filter(hook).items() if values
            )
            rows.append(
                (
                    str(hook.id),
                    hook.url,
                    wanted or "all",
                    hook.owner,
                    str(hook.cursor),
                    str(hook.failures),
                    when(hook.disabled_at),
                    hook.disabled_reason or "",
                )
            )
    print_columns(rows)
    return 0


def _cmd_log(args: argparse.Namespace) -> int:
    with Runtime.open().factory() as session:
        found = delivery_log(session, args.id, limit=args.limit)
        rows = [("delivery", "attempt", "at", "status", "ms", "error", "delivery status")]
        rows += [
            (
                line.message_id,
                str(line.attempt),
                when(line.at),
                str(line.status_code or ""),
                str(line.duration_ms),
                line.error or "",
                line.delivery_status,
            )
            for line in found
        ]
    print_columns(rows)
    return 0


def _cmd_enable(args: argparse.Namespace) -> int:
    try:
        with Runtime.open().factory() as session, session.begin():
            enable(session, args.id)
    except WebhookError as exc:
        print(f"stadtkalender webhooks enable: {exc}", file=sys.stderr)
        return 1
    print(f"webhook {args.id} enabled; its queued deliveries resume")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``webhooks add|list|log|enable``."""
    cmd = sub.add_parser("webhooks", help="webhooks: signed batches of changes POSTed to a URL")
    actions = cmd.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a URL for every change matching the filter")
    add.add_argument("url")
    add.add_argument("--owner", required=True, help="who registers it (e-mail)")
    add.add_argument("--venue", action="append", default=[], help="only this venue (repeatable)")
    add.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    add.add_argument("--source", action="append", default=[], help="only this source (repeatable)")
    add.set_defaults(handler=_cmd_add)
    actions.add_parser("list", help="every webhook with its state").set_defaults(handler=_cmd_list)
    log = actions.add_parser("log", help="a webhook's delivery attempts, newest first")
    log.add_argument("id", type=int)
    log.add_argument("--limit", type=int, default=50)
    log.set_defaults(handler=_cmd_log)
    on = actions.add_parser("enable", help="enable a webhook disabled after failures")
    on.add_argument("id", type=int)
    on.set_defaults(handler=_cmd_enable)
