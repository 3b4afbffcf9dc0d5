// Event times are written in the event's time zone; add the viewer's own local time beside each one
// when the viewer's zone differs: <time data-event-time data-zone="Asia/Kuala_Lumpur" datetime="...">.
(function () {
  "use strict";
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
      local.textContent = ` · your time ${format.format(new Date(el.dateTime))} (${viewerZone})`;
      el.after(local);
    }
  }
  window.rangexEventTimes = addLocal;
  addLocal(document);
})();
