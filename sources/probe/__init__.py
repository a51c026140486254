"""Onboarding a venue by its URL: which sources of events a page offers, and the source table to read one.

``stadtkalender probe URL`` fetches the page through :class:`~sources.probe.guard.ProbeFetcher` (public
addresses only, a page budget, a size limit, a deadline) and discovers (:mod:`sources.probe.discover`):

- iCalendar feeds: ``<link rel="alternate" type="text/calendar">``, ``webcal:`` and ``.ics`` links,
  The Events Calendar's ``?ical=1`` export, and hosted calendars (Google Calendar embeds and subscribe
  links, Outlook, iCloud, Teamup, Meetup: :mod:`sources.platforms.publishers`);
- platforms: WordPress "The Events Calendar" (its REST API), Squarespace collections (``?format=json``);
  a Wix site's event pages are found as linked pages;
- schema.org events (and their subtypes, ``ItemList``, ``@graph``) embedded as JSON-LD, microdata and RDFa,
  and microformats ``h-event`` (:mod:`sources.platforms.embedded`, read with extruct);
- RSS and Atom feeds whose items carry event dates (:mod:`sources.platforms.rss`);
- pages the listing links to that carry events, and a sitemap listing more of them.

Each candidate is then read by the very platform source a saved table would configure, so the counts,
dates and gaps it reports (:mod:`sources.probe.probing`) are what the next run ingests.
"""

from __future__ import annotations

from sources.probe.probing import Finding, ProbeReport, probe

__all__ = ["Finding", "ProbeReport", "probe"]
