"""Shared enumerations and type aliases used across the framework, sources and API."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
"""Every listing is presented in this zone; storage is UTC."""

JSON = dict[str, Any]


class Status(StrEnum):
    """Status of one occurrence (schema.org EventStatusType, simplified)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"
    RESCHEDULED = "rescheduled"


class Availability(StrEnum):
    """Ticket availability of one offer."""

    AVAILABLE = "available"
    FEW_LEFT = "few_left"
    SOLD_OUT = "sold_out"
    WAITING_LIST = "waiting_list"
    FREE = "free"
    NOT_BOOKABLE_ONLINE = "not_bookable_online"


class RunStatus(StrEnum):
    """Outcome of one source run."""

    RUNNING = "running"
    SUCCESS = "success"
    DEGRADED = "degraded"  # the adapter failed; events came from the pages' structured data, nothing vanished
    FAILED = "failed"
    SUSPICIOUS = "suspicious"  # held back by a guard; nothing applied until confirmed
    CONFIRMED = "confirmed"  # a held-back run that an operator applied
    ABORTED = "aborted"  # process died or was stopped mid-run
    EXPIRED = "expired"  # a held-back run nobody confirmed in time; its batch was dropped
    DISCARDED = "discarded"  # a held-back run an editor decided not to apply; its batch was dropped


class Health(StrEnum):
    """Health of a source as shown to operators."""

    OK = "ok"
    DEGRADED = "degraded"  # the last run read the pages' structured data: fewer details, nothing lost
    FAILING = "failing"
    SUSPICIOUS = "suspicious"
    DISABLED = "disabled"
    NEVER_RUN = "never_run"
