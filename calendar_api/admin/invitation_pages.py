"""Inviting venue accounts and resetting passwords: one-time links, shown to the editor and e-mailed.

An editor invites a venue user (``/admin/invitations``): the account is made, bound to its venues, and
the one-time link is shown to pass on — and, where ``[mail]`` names an SMTP server, sent to the
address. A password reset is the same kind of link. Whoever holds a link sets a password at
``/admin/welcome`` (public; the token travels in the query of the GET and in the form of the POST) and
is signed in.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from aggregator.account_links import LinkError, check_link, invite, open_links, reset_link, use_link
from aggregator.accounts import AccountError
from aggregator.login_sessions import start_session
from aggregator.normalise.venues import load_venues
from calendar_api.admin.console import (
    ADMIN_PREFIX,
    EDITORS,
    PUBLIC,
    SESSION_COOKIE,
    Console,
    Context,
    NavItem,
    Problem,
    Texts,
)
from calendar_api.admin.login_pages import landing
from calendar_api.admin.mail import MailError, mail_configured, send_mail

WELCOME_PATH = f"{ADMIN_PREFIX}/welcome"

TEXTS: Texts = {
    "nav_invitations": ("Einladungen", "Invitations"),
    "invitations_title": ("Veranstaltungsorte einladen", "Invite venues"),
    "invitations_intro": (
        "Eine Einladung legt ein Konto für einen Veranstaltungsort an. Der Link gilt einmal und "
        "{hours} Stunden; geben Sie ihn weiter. Ist ein Mailserver eingerichtet, geht er auch per E-Mail an "
        "die Adresse.",
        "An invitation creates an account for a venue. The link works once, for {hours} hours; pass it on. "
        "Where a mail server is set up it is also e-mailed to the address.",
    ),
    "invite_email": ("E-Mail-Adresse", "E-mail address"),
    "invite_name": ("Name (z. B. der Ort oder die Person)", "Name (e.g. the venue or the person)"),
    "invite_venues": ("Orte (Kürzel, durch Komma getrennt)", "Venues (slugs, comma-separated)"),
    "invite_button": ("Einladen", "Invite"),
    "reset_title": ("Passwort zurücksetzen", "Reset a password"),
    "reset_intro": (
        "Ein Link, mit dem die Person ein neues Passwort setzt; er gilt einmal und {hours} Stunden.",
        "A link with which the person sets a new password; it works once, for {hours} hours.",
    ),
    "reset_button": ("Link erzeugen", "Make the link"),
    "link_made": (
        "Der Link für {email} – geben Sie ihn weiter, er wird nicht wieder angezeigt:",
        "The link for {email} – pass it on, it will not be shown again:",
    ),
    "link_mailed": ("Er ist per E-Mail an {email} gegangen.", "It has been e-mailed to {email}."),
    "link_not_mailed": (
        "Es ist kein Mailserver eingerichtet ([mail] host).",
        "No mail server is set up ([mail] host).",
    ),
    "link_mail_failed": (
        "Die E-Mail konnte nicht gesendet werden: {error}",
        "The e-mail could not be sent: {error}",
    ),
    "links_title": ("Letzte Links", "Recent links"),
    "link_purpose": ("Zweck", "Purpose"),
    "link_purpose_invite": ("Einladung", "Invitation"),
    "link_purpose_reset": ("Passwort", "Password"),
    "link_expires": ("Gültig bis", "Valid until"),
    "link_used": ("Benutzt", "Used"),
    "welcome_title_invite": ("Willkommen beim Stadtkalender", "Welcome to the Stadtkalender"),
    "welcome_title_reset": ("Neues Passwort setzen", "Set a new password"),
    "welcome_intro": (
        "Setzen Sie ein Passwort für {email} (mindestens 12 Zeichen). Danach sind Sie angemeldet.",
        "Set a password for {email} (at least 12 characters). Then you are signed in.",
    ),
    "welcome_button": ("Passwort setzen", "Set password"),
    "link_unknown": (
        "Dieser Link gilt nicht. Bitten Sie die Redaktion um einen neuen.",
        "This link does not work. Ask the editors for a new one.",
    ),
    "link_used_up": (
        "Dieser Link wurde schon benutzt. Melden Sie sich an oder bitten Sie um einen neuen.",
        "This link has been used. Sign in, or ask for a new one.",
    ),
    "link_expired": (
        "Dieser Link ist abgelaufen. Bitten Sie die Redaktion um einen neuen.",
        "This link has expired. Ask the editors for a new one.",
    ),
    "mail_subject_invite": (
        "Einladung zum Stadtkalender Dortmund / Invitation to the Stadtkalender Dortmund",
        "Einladung zum Stadtkalender Dortmund / Invitation to the Stadtkalender Dortmund",
    ),
    "mail_subject_reset": (
        "Neues Passwort für den Stadtkalender / New password for the Stadtkalender",
        "Neues Passwort für den Stadtkalender / New password for the Stadtkalender",
    ),
}

NAV = [NavItem(f"{ADMIN_PREFIX}/invitations", "nav_invitations", EDITORS)]

_LINK_PROBLEMS = {"unknown": "link_unknown", "used": "link_used_up", "expired": "link_expired"}

_MAIL_BODY = {
    "invite": (
        "Guten Tag,\n\nSie sind eingeladen, die Termine von {venues} im Stadtkalender Dortmund selbst zu "
        "pflegen. Setzen Sie Ihr Passwort bis {until} (Berliner Zeit) über diesen Link (er gilt einmal):\n\n"
        "{url}\n\n---\n\nHello,\n\nyou are invited to publish the events of {venues} in the Stadtkalender "
        "Dortmund yourself. Set your password by {until} (Berlin time) with this link (it works once):\n\n"
        "{url}\n"
    ),
    "reset": (
        "Guten Tag,\n\nüber diesen Link setzen Sie bis {until} (Berliner Zeit) ein neues Passwort für den "
        "Stadtkalender Dortmund (er gilt einmal):\n\n{url}\n\n---\n\nHello,\n\nwith this link you set a "
        "new password for the Stadtkalender Dortmund by {until} (Berlin time); it works once:\n\n{url}\n"
    ),
}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def link_url(ctx: Context, token: str) -> str:
    """The absolute URL of a link, on the configured ``base_url``."""
    base = ctx.console.settings.server.base_url.rstrip("/")
    return f"{base}{WELCOME_PATH}?{urlencode({'token': token})}"


def _mail(ctx: Context, purpose: str, email: str, url: str, until: str, venues: str) -> str:
    """Send the link when mail is set up; the sentence the editor reads about it."""
    settings = ctx.console.settings.mail
    if not mail_configured(settings):
        return ctx.t("link_not_mailed")
    body = _MAIL_BODY[purpose].format(url=url, until=until, venues=venues)
    try:
        send_mail(settings, email, ctx.t(f"mail_subject_{purpose}"), body)
    except MailError as exc:
        return ctx.t("link_mail_failed", error=str(exc))
    return ctx.t("link_mailed", email=email)


def invitations_page(
    ctx: Context, *, status: int = 200, error: str = "", made: dict[str, str] | None = None
) -> Response:
    """``/admin/invitations``: invite a venue user, make a reset link, the recent links."""
    console = ctx.console.settings.console
    return ctx.render(
        "invitations.html",
        status=status,
        error=error,
        made=made,
        links=open_links(ctx.factory),
        invitation_hours=console.invitation_hours,
        reset_hours=console.reset_hours,
    )


def invite_venue(ctx: Context) -> Response:
    """Create the venue account and its invitation; show the link, e-mail it where possible."""
    lifetime = timedelta(hours=ctx.console.settings.console.invitation_hours)
    try:
        account, token = invite(
            ctx.factory,
            ctx.field("email"),
            venues=_split(ctx.field("venues")),
            display_name=ctx.field("display_name") or None,
            registry=load_venues(),
            now=ctx.now,
            lifetime=lifetime,
            by=ctx.actor,
        )
    except AccountError as exc:
        return invitations_page(ctx, status=400, error=exc.message)
    url = link_url(ctx, token)
    mailed = _mail(ctx, "invite", account.email, url, ctx.when(ctx.now + lifetime), ", ".join(account.venues))
    return invitations_page(ctx, made={"email": account.email, "url": url, "mail": mailed})


def make_reset_link(ctx: Context) -> Response:
    """A reset link for an account: editors reset venue accounts, admins any account."""
    assert ctx.account is not None
    lifetime = timedelta(hours=ctx.console.settings.console.reset_hours)
    roles = ("venue",) if ctx.account.role != "admin" else ("admin", "editor", "venue")
    try:
        account, token = reset_link(
            ctx.factory, ctx.field("email"), now=ctx.now, lifetime=lifetime, by=ctx.actor, roles=roles
        )
    except AccountError as exc:
        return invitations_page(ctx, status=400, error=exc.message)
    url = link_url(ctx, token)
    mailed = _mail(ctx, "reset", account.email, url, ctx.when(ctx.now + lifetime), ", ".join(account.venues))
    return invitations_page(ctx, made={"email": account.email, "url": url, "mail": mailed})


def _link_problem(ctx: Context, exc: LinkError) -> Problem:
    return Problem(410 if exc.reason != "unknown" else 404, ctx.t(_LINK_PROBLEMS[exc.reason]))


def welcome_form(ctx: Context) -> Response:
    """``/admin/welcome?token=…``: the form that sets the password through a link."""
    token = ctx.request.query_params.get("token", "")
    try:
        link = check_link(ctx.factory, token, now=ctx.now)
    except LinkError as exc:
        raise _link_problem(ctx, exc) from exc
    response = ctx.render("welcome.html", link=link, token=token, error="")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def welcome(ctx: Context) -> Response:
    """Set the password through the link, sign in, and go on to the account's landing page."""
    token = ctx.field("token")
    password = ctx.form.get("password", "") if ctx.form is not None else ""
    repeat = ctx.form.get("password_repeat", "") if ctx.form is not None else ""
    try:
        link = check_link(ctx.factory, token, now=ctx.now)
    except LinkError as exc:
        raise _link_problem(ctx, exc) from exc
    if not isinstance(password, str) or password != repeat:
        return ctx.render(
            "welcome.html", status=400, link=link, token=token, error=ctx.t("password_mismatch")
        )
    try:
        account = use_link(ctx.factory, token, password, now=ctx.now)
    except AccountError as exc:
        return ctx.render("welcome.html", status=400, link=link, token=token, error=exc.message)
    except LinkError as exc:
        raise _link_problem(ctx, exc) from exc
    old = ctx.request.cookies.get(SESSION_COOKIE) or None
    ctx.console.session_cookie(ctx, start_session(ctx.factory, account.id, now=ctx.now, replaces=old))
    return RedirectResponse(landing(account.role, ""), status_code=303)


def register(console: Console) -> None:
    """``/admin/invitations`` (editors) and the public ``/admin/welcome``."""
    console.page("/invitations", invitations_page, roles=EDITORS)
    console.page("/invitations", invite_venue, roles=EDITORS, methods=("POST",))
    console.page("/invitations/reset", make_reset_link, roles=EDITORS, methods=("POST",))
    console.page("/welcome", welcome_form, roles=PUBLIC)
    console.page("/welcome", welcome, roles=PUBLIC, methods=("POST",))
