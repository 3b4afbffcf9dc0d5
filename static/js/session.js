// The live session page: launch progress and status over a WebSocket, the countdown timer,
// the score. The terminals are terminals.js's.
(function () {
  const page = document.getElementById("session-page");
  if (!page) return;

  function refreshStatus() { document.body.dispatchEvent(new Event("refresh-status")); }

  // Countdown: recomputed from expires_at every second, so a backgrounded tab stays right.
  function tick() {
    const el = document.getElementById("countdown");
    if (!el || !el.dataset.expires) return;
    const left = Math.max(0, Math.floor((new Date(el.dataset.expires) - Date.now()) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
    el.classList.toggle("text-danger", left < 300);
  }
  setInterval(tick, 1000);
  tick();

  window.rangexSocket(page.dataset.eventsWs, (msg) => {
    if (msg.type === "progress") {
      const bar = document.getElementById("launch-progress");
      const text = document.getElementById("launch-message");
      if (bar) bar.style.width = msg.progress + "%";
      if (text) text.textContent = msg.message;
    } else if (msg.type === "score") {
      const score = document.getElementById("score");
      if (score) score.textContent = msg.score;
    } else if (msg.type === "status") {
      if (msg.status === "running" && page.dataset.status === "starting") {
        // The terminal token is only rendered for a running session: reload once to get it.
        location.reload();
        return;
      }
      page.dataset.status = msg.status;
      // A lab that stops has no shell any more: drop its terminals instead of leaving them empty.
      if (!["starting", "running", "paused"].includes(msg.status)) {
        if (window.rangexTerminals) window.rangexTerminals.closeAll();
        const section = document.getElementById("terminals");
        if (section) section.remove();
      }
      refreshStatus();
    } else if (msg.type === "review") {
      // A reviewer decided on a free-text answer: redraw that question from a fresh copy of the page.
      fetch(location.href, { headers: { Accept: "text/html" } })
        .then((r) => r.text())
        .then((html) => {
          const id = "question-" + msg.question_id;
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
          const old = document.getElementById(id);
          if (fresh && old) { old.replaceWith(fresh); if (window.htmx) window.htmx.process(fresh); }
        });
    } else if (msg.type === "watchers") {
      // Someone watches a desktop of this lab view-only (desktop.js shows it next to the desktop).
      window.dispatchEvent(new CustomEvent("rangex:watchers", { detail: { count: msg.count } }));
    } else if (msg.type === "idle_warning" || msg.type === "notice") {
      const box = document.getElementById("messages");
      const kind = msg.type === "notice" ? "info" : "warning";
      if (box) box.insertAdjacentHTML("beforeend", `<div class="alert alert-${kind}" role="alert"></div>`);
      if (box) box.lastElementChild.textContent = msg.message;
    }
  });

  // If the socket misses the running event (for example on a slow network), poll while starting.
  if (page.dataset.status === "starting") {
    const poll = setInterval(() => {
      fetch(page.dataset.statusUrl, { headers: { "HX-Request": "true" } })
        .then((r) => r.text())
        .then((html) => { if (html.includes('data-status="running"') || html.includes('data-status="failed"')) { clearInterval(poll); location.reload(); } });
    }, 3000);
  }
})();
