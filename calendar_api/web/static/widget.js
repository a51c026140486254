/* stadtkalender widget: <stadtkalender-events venue="…" category="…" district="…" q="…" free available
   highlight sort="highlights" limit="5" lang="de"></stadtkalender-events>. Reads the JSON API of the server this script was loaded
   from and lists the next events, each linking to its page. Data is only ever inserted as text. */
(function () {
  "use strict";
  var TAG = "stadtkalender-events";
  if (!window.customElements || window.customElements.get(TAG)) return;
  var script = document.currentScript;
  var BASE = new URL("../", script && script.src ? script.src : location.href).href.replace(/\/$/, "");
  var CSS = "__WIDGET_CSS__" + ":host{display:block}:host([hidden]){display:none}";
  var ZONE = "Europe/Berlin";
  var FILTERS = ["venue", "category", "district", "q", "free", "available", "highlight", "sort"];
  var LISTS = { venue: 1, category: 1 };
  var FLAGS = { free: 1, available: 1, highlight: 1 };
  var TEXT = {
    de: {
      locale: "de-DE", label: "Veranstaltungen", all: "Alle Termine im Stadtkalender",
      empty: "Zurzeit keine Termine.", loading: "Termine werden geladen …",
      error: "Die Termine konnten nicht geladen werden.", allDay: "ganztägig", suffix: " Uhr",
      until: "bis ", dates: " Termine", free: "Eintritt frei", cancelled: "Abgesagt", postponed: "Verschoben",
      rescheduled: "Verlegt", sold_out: "Ausverkauft", few_left: "Nur noch wenige Karten",
      waiting_list: "Warteliste", highlight: "Tipp der Redaktion"
    },
    en: {
      locale: "en-GB", label: "Events", all: "All events in the city calendar", empty: "No upcoming events.",
      loading: "Loading events …", error: "The events could not be loaded.", allDay: "all day", suffix: "",
      until: "until ", dates: " dates", free: "Free admission", cancelled: "Cancelled", postponed: "Postponed",
      rescheduled: "Rescheduled", sold_out: "Sold out", few_left: "Few tickets left", waiting_list: "Waiting list",
      highlight: "Editors' pick"
    }
  };
  var BADGES = { sold_out: 1, few_left: 1, waiting_list: 1 };
  var sheet = null;

  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function format(locale, options, date) {
    options.timeZone = ZONE;
    return new Intl.DateTimeFormat(locale, options).format(date);
  }

  function dayKey(date) {
    return format("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }, date);
  }

  function clock(text, date) {
    return format(text.locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, date);
  }

  function shortDate(text, date) {
    var options = text.locale === "de-DE" ? { weekday: "short", day: "2-digit", month: "2-digit" }
      : { weekday: "short", day: "numeric", month: "short" };
    return format(text.locale, options, date);
  }

  function when(text, occurrence, now) {
    var start = new Date(occurrence.start);
    var end = occurrence.end ? new Date(occurrence.end) : null;
    if (start < now && end && end > now && dayKey(end) !== dayKey(start)) {
      var month = text.locale === "de-DE" ? "long" : "short";
      return text.until + format(text.locale, { day: "numeric", month: month, year: "numeric" }, end);
    }
    if (occurrence.all_day) return text.allDay;
    var result = clock(text, start);
    if (end && end > start && dayKey(end) === dayKey(start)) result += "–" + clock(text, end);
    return result + text.suffix;
  }

  function money(text, amount, currency) {
    var digits = Math.round(amount * 100) % 100 === 0 ? 0 : 2;
    return new Intl.NumberFormat(text.locale, {
      style: "currency", currency: currency || "EUR", minimumFractionDigits: digits, maximumFractionDigits: digits
    }).format(amount);
  }

  function isFree(offers) {
    return offers.some(function (o) {
      return o.availability === "free" || o.price_max === 0 || (o.price_max === null && o.price_min === 0);
    });
  }

  function price(text, offers) {
    var amounts = [];
    var currency = null;
    offers.forEach(function (o) {
      [o.price_min, o.price_max].forEach(function (a) {
        if (typeof a === "number") { amounts.push(a); currency = currency || o.currency; }
      });
    });
    if (!amounts.length) return null;
    var low = Math.min.apply(null, amounts);
    var high = Math.max.apply(null, amounts);
    if (low === high) return money(text, low, currency);
    return money(text, low, currency) + "–" + money(text, high, currency);
  }

  function badges(text, occurrence) {
    if (occurrence.status !== "scheduled") return [[occurrence.status, text[occurrence.status] || occurrence.status]];
    var found = [];
    if (BADGES[occurrence.availability]) found.push([occurrence.availability, text[occurrence.availability]]);
    if (isFree(occurrence.offers || [])) found.push(["free", text.free]);
    return found;
  }

  function styleRoot(root) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype) {
      try {
        if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
        root.adoptedStyleSheets = [sheet];
        return;
      } catch (ignored) { /* fall back to a style element */ }
    }
    root.appendChild(make("style", null, CSS));
  }

  class StadtkalenderEvents extends HTMLElement {
    static get observedAttributes() { return FILTERS.concat(["limit", "lang"]); }

    constructor() {
      super();
      var root = this.attachShadow({ mode: "open" });
      styleRoot(root);
      this._box = make("div", "sk");
      root.appendChild(this._box);
      this._pending = 0;
      this._abort = null;
    }

    connectedCallback() { this._schedule(); }

    attributeChangedCallback() { if (this.isConnected) this._schedule(); }

    disconnectedCallback() { if (this._abort) this._abort.abort(); }

    _text() { return TEXT[(this.getAttribute("lang") || "de").slice(0, 2).toLowerCase()] || TEXT.de; }

    _params() {
      var params = new URLSearchParams();
      var self = this;
      FILTERS.forEach(function (name) {
        var value = self.getAttribute(name);
        if (value === null) return;
        value = value.trim();
        if (FLAGS[name]) {
          if (value === "" || value === "true") params.append(name, "true");
        } else if (LISTS[name]) {
          value.split(/[\s,]+/).forEach(function (part) { if (part) params.append(name, part); });
        } else if (value) {
          params.append(name, value);
        }
      });
      return params;
    }

    _schedule() {
      var self = this;
      if (this._pending) return;
      this._pending = setTimeout(function () { self._pending = 0; self._load(); }, 0);
    }

    _load() {
      var self = this;
      var text = this._text();
      var params = this._params();
      var limit = parseInt(this.getAttribute("limit") || "5", 10);
      params.set("limit", String(Math.min(Math.max(isNaN(limit) ? 5 : limit, 1), 50)));
      if (this._abort) this._abort.abort();
      var abort = window.AbortController ? new AbortController() : null;
      this._abort = abort;
      this._status(text, text.loading);
      fetch(BASE + "/api/v1/events?" + params.toString(), {
        headers: { Accept: "application/json" }, credentials: "omit", signal: abort ? abort.signal : undefined
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (body) {
        if (self._abort === abort) self._render(text, body.events || []);
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        if (self._abort === abort) self._status(text, text.error);
      });
    }

    _link(path, params) {
      var lang = this.getAttribute("lang");
      if (lang) params.set("lang", lang.slice(0, 2).toLowerCase());
      var query = params.toString();
      return BASE + path + (query ? "?" + query : "");
    }

    _status(text, message) {
      var box = this._box;
      box.textContent = "";
      box.setAttribute("aria-busy", message === text.loading ? "true" : "false");
      box.appendChild(make("p", "sk-status", message)).setAttribute("role", "status");
      this._more(text);
    }

    _more(text) {
      var more = make("a", "sk-more", text.all);
      more.href = this._link("/", this._params());
      this._box.appendChild(more);
    }

    _render(text, events) {
      var box = this._box;
      var now = new Date();
      var today = dayKey(now);
      box.textContent = "";
      box.setAttribute("aria-busy", "false");
      var list = make("ol", "sk-list");
      list.setAttribute("aria-label", text.label);
      var self = this;
      events.forEach(function (event) {
        var occurrence = (event.occurrences || [])[0];
        if (!occurrence) return;
        var start = new Date(occurrence.start);
        var day = dayKey(start) < today ? now : start;
        var item = make("li", "sk-item" + (occurrence.status === "cancelled" ? " sk-cancelled" : ""));
        var time = make("time", "sk-when", shortDate(text, day) + " · " + when(text, occurrence, now));
        time.setAttribute("datetime", occurrence.start);
        item.appendChild(time);
        var title = make("a", "sk-title", event.title);
        title.href = self._link("/events/" + encodeURIComponent(event.id), new URLSearchParams());
        item.appendChild(title);
        var free = isFree(occurrence.offers || []);
        var cost = occurrence.status === "cancelled" || free ? null : price(text, occurrence.offers || []);
        var meta = [event.venue && event.venue.name, cost].filter(Boolean).join(" · ");
        item.appendChild(make("span", "sk-meta", meta));
        var found = badges(text, occurrence);
        if (event.highlight === true) found.unshift(["highlight", text.highlight]);
        var count = (event.occurrences || []).length;
        if (found.length || count > 1) {
          var row = make("span", "sk-badges");
          found.forEach(function (badge) { row.appendChild(make("span", "sk-badge sk-badge-" + badge[0], badge[1])); });
          if (count > 1) row.appendChild(make("span", "sk-dates", count + text.dates));
          item.appendChild(row);
        }
        list.appendChild(item);
      });
      if (list.children.length) box.appendChild(list);
      else box.appendChild(make("p", "sk-empty", text.empty));
      this._more(text);
    }
  }

  window.customElements.define(TAG, StadtkalenderEvents);
})();
