"""One typed settings loader: environment, then ``settings.toml``, then defaults.

Every key ``section.key`` can be overridden by the environment variable
``STADTKALENDER_SECTION_KEY`` (e.g. ``STADTKALENDER_DATABASE_URL``). A malformed value is
reported with the key's name and where it came from.
"""

from __future__ import annotations

import logging
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

ENV_PREFIX = "STADTKALENDER_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; names the key and where the value came from."""

    def __init__(self, key: str, message: str, origin: str) -> None:
        self.key = key
        self.origin = origin
        super().__init__(f"setting {key!r} ({origin}): {message}")


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str = "sqlite:///stadtkalender.db"
    echo: bool = False


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = "http://127.0.0.1:8080"
    calendar_name: str = "Stadtkalender Dortmund"


@dataclass(frozen=True, slots=True)
class FeedSettings:
    refresh_interval: str = "PT6H"
    past_days: int = 30
    cancelled_retention_days: int = 30
    cache_entries: int = 256
    uid_domain: str = "stadtkalender.dortmund"
    color: str = "teal"
    max_age_seconds: int = 900


@dataclass(frozen=True, slots=True)
class IngestSettings:
    past_days: int = 1
    future_days: int = 400
    match_past_days: int = 30
    missing_runs_before_cancel: int = 2
    mass_cancel_ratio: float = 0.2
    mass_cancel_min: int = 5
    min_valid_ratio: float = 0.5
    snapshots_dir: str = "tests/fixtures"
    max_file_bytes: int = 50_000_000
    held_run_retention_days: int = 14


@dataclass(frozen=True, slots=True)
class HttpSettings:
    user_agent: str = "stadtkalender/0.1 (+https://github.com/stadtkalender/stadtkalender)"
    contact: str = "kalender@example.org"
    requests_per_second: float = 1.0
    timeout_seconds: float = 20.0
    retries: int = 3
    backoff_seconds: float = 1.0
    max_retry_after_seconds: float = 120.0
    cache_dir: str = "var/http-cache"
    page_budget: int = 200
    respect_robots: bool = True


@dataclass(frozen=True, slots=True)
class DedupeSettings:
    priority: list[str] = field(
        default_factory=lambda: ["push", "venue", "city", "platform", "ticketing", "import"]
    )
    title_threshold: float = 88.0
    time_tolerance_minutes: int = 20
    never_merge: list[str] = field(default_factory=list)
    always_merge: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    default_schedule: str = "interval:6h"
    jitter_seconds: int = 300
    misfire_grace_seconds: int = 900
    max_backoff_hours: float = 24.0
    housekeeping_cron: str = "30 3 * * *"
    stale_run_minutes: int = 120
    request_poll_seconds: int = 10


@dataclass(frozen=True, slots=True)
class PushSettings:
    max_body_bytes: int = 5_000_000
    rate_limit_per_minute: int = 60
    refused_log_retention_days: int = 30
    log_retention_days: int = 365


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """The editorial console and the venue portal: sessions and the login throttle."""

    idle_minutes: int = 30
    absolute_hours: int = 12
    login_failures_per_minute: int = 5
    csrf_secret: str = ""
    """Signs the CSRF cookie; empty: one is made on first use and kept in the database."""
    invitation_hours: int = 72
    """How long an invitation link works."""
    reset_hours: int = 24
    """How long a password-reset link works."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where the console sends e-mail (invitations, password resets); no ``host``: no e-mail is sent."""

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "stadtkalender@localhost"
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """``stadtkalender probe``: how much of a site one probe may read, and where it may not go."""

    max_pages: int = 40
    """Requests one probe makes at most (robots.txt included)."""
    max_bytes: int = 5_000_000
    """A document larger than this is not read."""
    timeout_seconds: float = 10.0
    """Per connection and read."""
    max_seconds: float = 120.0
    """The whole probe (and each document's body) stops after this long."""
    allow_private_networks: bool = False
    """True: loopback and private addresses may be probed (a test server, an intranet)."""
    allowed_hosts: list[str] = field(default_factory=list)
    """Hosts (``name`` or ``name:port``) an admin allows although they are private (an intranet calendar)."""


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """Set by ``stadtkalender demo``: the snapshots' dates moved forward, and from which day (ISO)."""

    shift_weeks: int = 0
    snapshots_current_on: str = ""


@dataclass(frozen=True, slots=True)
class OpenDataSettings:
    """What the data offers reusers (:mod:`aggregator.changes`)."""

    change_retention_days: int = 90
    """How long every change (and the tombstone of a deleted or merged event) stays in the change feed."""
    export_dir: str = "var/open-data"
    """Where the nightly full exports (dumps) and their manifest are written and served from."""
    export_cron: str = "0 4 * * *"
    """When the scheduler writes the exports (Europe/Berlin)."""
    licence_name: str = "Datenlizenz Deutschland – Namensnennung – Version 2.0"
    licence_url: str = "https://www.govdata.de/dl-de/by-2-0"
    """The data licence of the calendar as a whole (a source may name its own: ``sources.X.licence``)."""
    attribution: str = "Stadtkalender Dortmund"
    """The credit the licence asks reusers to give."""
    licence_uri: str = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    """The licence in the DCAT-AP.de vocabulary (the catalogue's ``dct:license``)."""
    publisher: str = "Stadtkalender Dortmund"
    publisher_url: str = ""
    contact_email: str = ""
    """The catalogue's contact point; empty: the publisher's name only."""
    contributor_id: str = ""
    """The GovData contributor (``dcatde:contributorID``) the datasets are harvested for; empty: none."""
    webhook_poll_seconds: int = 30
    """How often the scheduler queues new changes for the webhooks and delivers what is due (0: never)."""
    webhook_timeout_seconds: float = 10.0
    webhook_batch: int = 100
    """Changes per delivery at most."""
    webhook_retry_seconds: int = 30
    """The first retry's delay; each further one doubles (with jitter) up to the maximum below."""
    webhook_retry_max_seconds: int = 21600
    webhook_max_failures: int = 20
    """Consecutive failed attempts after which a webhook is disabled (an editor enables it again)."""
    webhooks_allow_private: bool = False
    """True: webhooks may point at loopback and private addresses (a test receiver, an intranet)."""


@dataclass(frozen=True, slots=True)
class PublishSettings:
    """Static publishing (``stadtkalender publish``): feeds and JSON listings as files for nginx, a bucket."""

    dir: str = ""
    """Where the scheduler publishes after data changed (relative: to the project); empty: it does not."""
    check_cron: str = "* * * * *"
    """How often the scheduler looks whether the data (or the day) changed since the last publishing."""


@dataclass(frozen=True, slots=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    push: PushSettings = field(default_factory=PushSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    open_data: OpenDataSettings = field(default_factory=OpenDataSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: str | None = None

    def project_path(self, relative: str) -> Path:
        """Resolve a configured path against the project root (absolute paths stay)."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


T = TypeVar("T")


def _coerce(key: str, value: Any, hint: Any, origin: str) -> Any:
    from_env = isinstance(value, str) and origin.startswith("environment")
    base = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if from_env and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(key, f"expected true or false, got {value!r}", origin)
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_env:
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(key, f"expected a whole number, got {value!r}", origin)
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if from_env:
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(key, f"expected a number, got {value!r}", origin)
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(key, f"expected text, got {value!r}", origin)
    if base is list:
        if from_env:
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise ConfigError(key, f"expected a list of text, got {value!r}", origin)
    if base is dict or isinstance(hint, types.GenericAlias):
        if isinstance(value, dict):
            return value
        raise ConfigError(key, f"expected a table, got {value!r}", origin)
    if base in (typing.Union, types.UnionType):  # str | None
        return None if value is None else _coerce(key, value, str, origin)
    return value


def _build(cls: type[T], section: str, data: Mapping[str, Any], env: Mapping[str, str], origin: str) -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{section}.{unknown[0]}", "unknown key", origin)
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        key = f"{section}.{f.name}"
        env_name = f"{ENV_PREFIX}{section}_{f.name}".upper()
        if env_name in env:
            values[f.name] = _coerce(key, env[env_name], hints[f.name], f"environment {env_name}")
        elif f.name in data:
            values[f.name] = _coerce(key, data[f.name], hints[f.name], origin)
    return cls(**values)


def _renamed(data: dict[str, Any], old: str, new: str, section: str, origin: str) -> dict[str, Any]:
    """Accept a renamed key under its old name (with a logged deprecation); both at once is an error."""
    if old not in data:
        return data
    if new in data:
        raise ConfigError(f"{section}.{old}", f"replaced by {section}.{new}; give only that", origin)
    log.warning("setting %s.%s (%s) is deprecated; call it %s.%s", section, old, origin, section, new)
    return {new if key == old else key: value for key, value in data.items()}


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (default: ``$STADTKALENDER_SETTINGS`` or ./settings.toml).

    Raises :class:`ConfigError` naming the key for anything malformed.
    """
    env = os.environ if env is None else env
    chosen = Path(path) if path else Path(env.get(f"{ENV_PREFIX}SETTINGS", "settings.toml"))
    if not path and not chosen.exists() and (PROJECT_ROOT / "settings.toml").exists():
        chosen = PROJECT_ROOT / "settings.toml"
    data: dict[str, Any] = {}
    origin = "defaults"
    if chosen.exists():
        origin = str(chosen)
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("(file)", f"not valid TOML: {exc}", origin) from exc
    elif path:
        raise ConfigError("(file)", "file not found", str(chosen))
    hints = typing.get_type_hints(Settings)
    unknown = sorted(set(data) - set(hints) - {"path"})
    if unknown:
        raise ConfigError(unknown[0], "unknown section", origin)
    sections: dict[str, Any] = {}
    for name, hint in hints.items():
        if name in {"path", "sources"}:
            continue
        section_data = data.get(name, {})
        if not isinstance(section_data, dict):
            raise ConfigError(name, "expected a table", origin)
        if name == "ingest":
            section_data = _renamed(section_data, "horizon_days", "future_days", name, origin)
        assert is_dataclass(hint)
        sections[name] = _build(hint, name, section_data, env, origin)  # type: ignore[arg-type]
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()):
        raise ConfigError("sources", "expected one table per source ([sources.NAME])", origin)
    folder = (chosen.parent if chosen.exists() else PROJECT_ROOT) / SOURCES_DIR
    sources = {**sources, **source_files(folder, taken=sources, origin=origin)}
    return Settings(**sections, sources=sources, path=str(chosen) if chosen.exists() else None)


SOURCES_DIR = "sources.d"
"""A folder beside ``settings.toml`` with one ``NAME.toml`` per source, each holding its ``[sources.NAME]``
table (``stadtkalender probe URL --save NAME`` writes them; settings.toml and its comments stay)."""


def source_files(folder: Path, *, taken: Mapping[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    """The ``[sources.NAME]`` tables of ``folder/*.toml``; a file must hold exactly its own name's table."""
    found: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError("(file)", f"not valid TOML: {exc}", str(path)) from exc
        table = data.get("sources")
        name = path.stem
        if set(data) != {"sources"} or not isinstance(table, dict) or set(table) != {name}:
            raise ConfigError(f"sources.{name}", f"the file must hold one table [sources.{name}]", str(path))
        if not isinstance(table[name], dict):
            raise ConfigError(f"sources.{name}", "expected a table", str(path))
        if name in taken:
            raise ConfigError(f"sources.{name}", f"also defined in {origin}; keep one", str(path))
        found[name] = table[name]
    return found
