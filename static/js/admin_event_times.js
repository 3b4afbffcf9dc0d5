// On the event form every time is in the event's time zone. Django's date shortcuts (Today, Now and
// the calendar) fill in times in the zone named by <body data-admin-utc-offset>, the server's: point
// that at the zone chosen in #id_timezone, now and whenever the choice changes.
window.addEventListener("load", function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((fmt, obj, named) => (named
    ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
    : fmt.replace(/%s/g, () => String(obj.shift()))));
  const select = document.getElementById("id_timezone");
  if (!select || typeof DateTimeShortcuts === "undefined") return;

  // The UTC offset of `zone` at the instant `at`, in seconds (east of Greenwich positive).
  function offsetSeconds(zone, at) {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(at);
    const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
    const wall = Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second);
    return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 1000);
  }

  function apply() {
    let zoneOffset;
    try {
      zoneOffset = offsetSeconds(select.value, new Date());
    } catch (err) {
      return;  // an unknown zone: the form refuses it on save
    }
    document.body.dataset.adminUtcOffset = String(zoneOffset);
    DateTimeShortcuts.timezoneOffset = new Date().getTimezoneOffset() * -60 - zoneOffset;
    for (const note of document.querySelectorAll(".timezonewarning")) {
      note.textContent = interpolate(gettext("Times are in the event's time zone, %(zone)s."), { zone: select.value }, true);
    }
  }
  select.addEventListener("change", apply);
  apply();
});
