// Count down to the time in data-target of #countdown.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((fmt, obj, named) => (named
    ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
    : fmt.replace(/%s/g, () => String(obj.shift()))));
  const el = document.getElementById("countdown");
  if (!el) return;
  const target = new Date(el.dataset.target).getTime();
  function tick() {
    let s = Math.max(0, Math.floor((target - Date.now()) / 1000));
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    const clock = [h, m, s].map(v => String(v).padStart(2, "0")).join(":");
    // "2 days 03:04:05" (Malay: "2 hari 03:04:05"); under a day only the clock.
    el.textContent = d ? interpolate(ngettext("%(days)s day %(clock)s", "%(days)s days %(clock)s", d), { days: d, clock: clock }, true) : clock;
  }
  tick();
  setInterval(tick, 1000);
})();
