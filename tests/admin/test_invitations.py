"""Inviting a venue user from the console: the link shown once, e-mailed through a real SMTP server,
accepted by setting a password (then signed in); resets the same way; every refusal changes nothing."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import pytest
from _console import EMAILS, ConsoleRuntime, client_for, form_token, make_accounts, post, sign_in
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.config import MailSettings, Settings
from aggregator.models import Account, AccountLink, AuditEntry

MUSEUM = "info@brauerei-museum.de"
PASSWORD = "hopfen und malz 1887"


class _Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    """A real SMTP server on a local port, and what it received."""
    handler = _Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _editor_client(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> TestClient:
    runtime = ConsoleRuntime(settings, engine, factory)
    make_accounts(factory, clock)
    client = client_for(runtime, clock)
    assert sign_in(client, EMAILS["editor"]).status_code == 303
    return client


def _link(html: str) -> str:
    found = re.search(r'<code id="made-link">([^<]+)</code>', html)
    assert found, html
    return found.group(1).replace("&amp;", "&")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _accept(client: TestClient, url: str, password: str = PASSWORD, repeat: str | None = None) -> Any:
    page = client.get(_path(url))
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    return client.post(
        "/admin/welcome",
        data={
            "token": token.group(1),
            "password": password,
            "password_repeat": password if repeat is None else repeat,
            "csrftoken": form_token(page.text),
        },
    )


def _count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_editor_invites_a_venue_user_by_e_mail_who_sets_a_password_and_is_signed_in(
    settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    clock: FixedClock,
    inbox: tuple[_Inbox, int],
) -> None:
    handler, port = inbox
    mail = MailSettings(host="127.0.0.1", port=port, sender="redaktion@stadtkalender.dortmund.de")
    editor = _editor_client(replace(settings, mail=mail), engine, factory, clock)
    answer = post(
        editor,
        "/admin/invitations",
        {"email": MUSEUM, "display_name": "Brauerei-Museum", "venues": "konzerthaus-dortmund"},
    )
    assert answer.status_code == 200, answer.text
    url = _link(answer.text)
    assert "per E-Mail an info@brauerei-museum.de" in answer.text or "e-mailed to" in answer.text
    [(recipients, message)] = handler.messages
    assert recipients == [MUSEUM]
    assert message["From"] == "redaktion@stadtkalender.dortmund.de"
    assert "Einladung" in message["Subject"]
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert url in body.decode("utf-8") and "konzerthaus-dortmund" in body.decode("utf-8")
    assert url.startswith(settings.server.base_url + "/admin/welcome?token=")

    museum = client_for(ConsoleRuntime(settings, engine, factory), clock)
    accepted = _accept(museum, url)
    assert accepted.status_code == 303
    assert "sk_session" in accepted.cookies
    assert museum.get(accepted.headers["location"]).status_code == 200
    with factory() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["account.invite", "account.accept"]
    museum.cookies.clear()
    assert sign_in(museum, MUSEUM, PASSWORD).status_code == 303
    again = museum.get(_path(url))
    assert again.status_code == 410


def test_without_a_mail_server_the_link_is_shown_and_nothing_is_sent(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    editor = _editor_client(settings, engine, factory, clock)
    answer = post(editor, "/admin/invitations", {"email": MUSEUM, "venues": "konzerthaus-dortmund"})
    assert answer.status_code == 200
    assert _link(answer.text)
    assert "[mail] host" in answer.text
    assert MUSEUM in editor.get("/admin/invitations").text


def test_a_mail_server_that_does_not_answer_still_shows_the_link(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    mail = MailSettings(host="127.0.0.1", port=_free_port(), timeout_seconds=2)
    editor = _editor_client(replace(settings, mail=mail), engine, factory, clock)
    answer = post(editor, "/admin/invitations", {"email": MUSEUM, "venues": "konzerthaus-dortmund"})
    assert answer.status_code == 200
    assert _link(answer.text)
    assert "could not be sent" in answer.text or "konnte nicht gesendet" in answer.text


def test_a_bad_invitation_is_refused_with_a_message_and_nothing_is_made(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    editor = _editor_client(settings, engine, factory, clock)
    accounts_before = _count(factory, Account)
    for data, message in [
        ({"email": "no-address", "venues": "konzerthaus-dortmund"}, "not an e-mail address"),
        ({"email": MUSEUM, "venues": "atlantis"}, "no venue"),
        ({"email": EMAILS["editor"], "venues": "konzerthaus-dortmund"}, "already exists"),
    ]:
        answer = post(editor, "/admin/invitations", data)
        assert answer.status_code == 400 and message in answer.text, data
    assert _count(factory, Account) == accounts_before
    assert _count(factory, AccountLink) == 0


def test_the_welcome_form_refuses_differing_or_short_passwords_and_keeps_the_link(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    editor = _editor_client(settings, engine, factory, clock)
    url = _link(post(editor, "/admin/invitations", {"email": MUSEUM, "venues": "konzerthaus-dortmund"}).text)
    museum = client_for(ConsoleRuntime(settings, engine, factory), clock)
    assert _accept(museum, url, PASSWORD, "something else entirely").status_code == 400
    short = _accept(museum, url, "short")
    assert short.status_code == 400 and "12 characters" in short.text
    assert _accept(museum, url).status_code == 303


def test_an_expired_or_unknown_link_is_refused(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    editor = _editor_client(settings, engine, factory, clock)
    url = _link(post(editor, "/admin/invitations", {"email": MUSEUM, "venues": "konzerthaus-dortmund"}).text)
    museum = client_for(ConsoleRuntime(settings, engine, factory), clock)
    assert museum.get("/admin/welcome?token=forged").status_code == 404
    clock.advance(timedelta(hours=settings.console.invitation_hours))
    expired = museum.get(_path(url))
    assert expired.status_code == 410 and "abgelaufen" in expired.text


def test_an_editor_makes_a_reset_link_for_a_venue_account_only(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    editor = _editor_client(settings, engine, factory, clock)
    refused = post(editor, "/admin/invitations/reset", {"email": EMAILS["admin"]})
    assert refused.status_code == 400
    answer = post(editor, "/admin/invitations/reset", {"email": EMAILS["venue"]})
    assert answer.status_code == 200
    venue = client_for(ConsoleRuntime(settings, engine, factory), clock)
    assert sign_in(venue, EMAILS["venue"]).status_code == 303
    reset_page = venue.get(_path(_link(answer.text)))
    assert "Neues Passwort setzen" in reset_page.text
    assert _accept(venue, _link(answer.text)).status_code == 303
    stranger = client_for(ConsoleRuntime(settings, engine, factory), clock)
    assert sign_in(stranger, EMAILS["venue"]).status_code == 401
    assert sign_in(stranger, EMAILS["venue"], PASSWORD).status_code == 303


def test_a_venue_account_may_not_invite(as_venue: TestClient, factory: sessionmaker[Session]) -> None:
    answer = post(as_venue, "/admin/invitations", {"email": MUSEUM, "venues": "konzerthaus-dortmund"})
    assert answer.status_code == 403
    assert _count(factory, AccountLink) == 0
