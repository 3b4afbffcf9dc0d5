// Event times are written in the event's time zone; add the viewer's own local time beside each one
// when the viewer's zone differs: <time data-event-time data-zone="Asia/Kuala_Lumpur" datetime="...">.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((fmt, obj, named) => (named
    ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
    : fmt.replace(/%s/g, () => String(obj.shift()))));
  const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  function addLocal(root) {
    for (const el of root.querySelectorAll("time[data-event-time]:not([data-local-added])")) {
      el.dataset.localAdded = "1";
      if (!el.dateTime || el.dataset.zone === viewerZone) continue;
      const local = document.createElement("span");
      local.className = "local-time text-body-secondary";
      local.textContent = " · " + interpolate(gettext("your time %(time)s (%(zone)s)"), { time: format.format(new Date(el.dateTime)), zone: viewerZone }, true);
      el.after(local);
    }
  }
  window.rangexEventTimes = addLocal;
  addLocal(document);
})();
