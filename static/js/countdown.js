// Count down to the time in data-target of #countdown.
(function () {
  "use strict";
  const el = document.getElementById("countdown");
  if (!el) return;
  const target = new Date(el.dataset.target).getTime();
  function tick() {
    let s = Math.max(0, Math.floor((target - Date.now()) / 1000));
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    el.textContent = (d ? d + "d " : "") + [h, m, s].map(v => String(v).padStart(2, "0")).join(":");
  }
  tick();
  setInterval(tick, 1000);
})();
