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

  window.rangexSocket(page.dataset.eventsWs, onMessage, (state) => {
    if (state === "open" && page.dataset.status === "starting") becomeRunning();
  });

  function onMessage(msg) {
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
        becomeRunning();
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
  }

  // Starting -> running without reloading the page: the fresh status card carries the terminal
  // token (rendered only for a running lab), the terminals open at once. A reload here cost a whole
  // page load, a second events socket and xterm set up twice.
  let switching = null;
  function applyStatus(html) {
    const slot = document.getElementById("status-slot");
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("session-status");
    if (!slot || !fresh) return null;
    slot.replaceChildren(fresh);
    if (window.htmx) window.htmx.process(fresh);
    return fresh;
  }
  function becomeRunning() {
    if (switching) return switching;
    switching = fetch(page.dataset.statusUrl, { headers: { "HX-Request": "true" } })
      .then((r) => r.text())
      .then((html) => {
        const fresh = applyStatus(html);
        const status = fresh ? fresh.dataset.status : "";
        if (status === "running" && fresh.dataset.token) {
          page.dataset.token = fresh.dataset.token;
          page.dataset.status = "running";
          const note = document.getElementById("terminal-note");
          if (note) note.remove();
          tick();
          if (window.rangexTerminals) window.rangexTerminals.start();
        } else if (status && status !== "starting") {
          switching = null;
          onMessage({ type: "status", status });
        }
        switching = null;
        return status;
      })
      .catch(() => { switching = null; return ""; });
    return switching;
  }

  // The running event may come before the socket is subscribed (a warm lab is running at once, a
  // fast launch within a second): check on the first open and then every second while starting.
  if (page.dataset.status === "starting") {
    const poll = setInterval(() => {
      if (page.dataset.status !== "starting") { clearInterval(poll); return; }
      becomeRunning();
    }, 1000);
  }
})();
