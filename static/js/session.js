// The live session page: launch progress and status over a WebSocket, the countdown timer,
// the score, and one xterm.js terminal per machine that allows solver entry.
(function () {
  const page = document.getElementById("session-page");
  if (!page) return;
  const sessionId = page.dataset.session;
  const terminals = {};

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
        Object.values(terminals).forEach((t) => { t.socket.close(); t.term.dispose(); });
        const section = document.getElementById("terminals");
        if (section) section.remove();
      }
      refreshStatus();
    } else if (msg.type === "idle_warning") {
      const box = document.getElementById("messages");
      if (box) box.insertAdjacentHTML("beforeend", '<div class="alert alert-warning" role="alert"></div>');
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

  function openTerminal(name) {
    if (terminals[name] || page.dataset.status !== "running" || !page.dataset.token) return;
    const host = document.querySelector(`[data-terminal="${name}"]`);
    const term = new window.Terminal({ cursorBlink: true, fontSize: 14, convertEol: false, scrollback: 5000 });
    const fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(host);
    fit.fit();
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const url = `${scheme}${location.host}/ws/sessions/${sessionId}/terminal/${name}/?token=${encodeURIComponent(page.dataset.token)}&cols=${term.cols}&rows=${term.rows}`;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    terminals[name] = { term, fit, socket };
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        const msg = JSON.parse(event.data);
        if (msg.type === "error") term.write(`\r\n\x1b[1;31m${msg.message}\x1b[0m\r\n`);
        return;
      }
      const bytes = new Uint8Array(event.data);
      // Acknowledge once xterm has drawn the batch: the server's flow control waits for this.
      term.write(bytes, () => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ack", bytes: bytes.length })));
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4409) term.write("\r\n\x1b[1;33mThe lab is not running.\x1b[0m\r\n");
      else if (event.code >= 4400 && event.code < 4500) term.write("\r\n\x1b[1;31mThis terminal was refused.\x1b[0m\r\n");
      delete terminals[name];
    });
    term.onData((data) => socket.readyState === 1 && socket.send(JSON.stringify({ type: "input", data })));
    term.onResize(({ cols, rows }) => socket.readyState === 1 && socket.send(JSON.stringify({ type: "resize", cols, rows })));
    setInterval(() => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ping" })), 25000);
    window.addEventListener("resize", () => fit.fit());
    term.focus();
  }

  document.querySelectorAll("[data-terminal-tab]").forEach((tab) => {
    tab.addEventListener("click", () => {
      document.querySelectorAll("[data-terminal-tab]").forEach((t) => { t.classList.remove("active"); t.setAttribute("aria-selected", "false"); });
      tab.classList.add("active");
      tab.setAttribute("aria-selected", "true");
      document.querySelectorAll("[data-terminal]").forEach((pane) => pane.classList.toggle("d-none", pane.dataset.terminal !== tab.dataset.terminalTab));
      openTerminal(tab.dataset.terminalTab);
      const t = terminals[tab.dataset.terminalTab];
      if (t) { t.fit.fit(); t.term.focus(); }
    });
  });
  const first = document.querySelector("[data-terminal-tab]");
  if (first) openTerminal(first.dataset.terminalTab);
})();
