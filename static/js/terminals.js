// The lab's terminals: xterm.js tabs, several shells per machine, copy and paste, search, full screen,
// and sockets that reconnect. The server keeps each shell for a few minutes after its socket goes,
// keyed by the tab id sent here, so a reload or a dropped network comes back to the same shell;
// the tab ids of this browser tab survive a reload in sessionStorage.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((fmt, obj, named) => (named
    ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
    : fmt.replace(/%s/g, () => String(obj.shift()))));
  const page = document.getElementById("session-page");
  const section = document.getElementById("terminals");
  if (!page || !section) return;
  const sessionId = page.dataset.session;
  const machines = JSON.parse(document.getElementById("terminal-machines").textContent);
  const tabList = document.getElementById("terminal-tabs");
  const panes = document.getElementById("terminal-panes");
  const state = document.getElementById("terminal-state");
  const note = document.getElementById("terminal-note");
  const storeKey = "rx-terminal-tabs-" + sessionId;
  // Word selection (double click) stops at these; braces are not among them, so RX{...} is one word.
  const WORD_SEPARATOR = " ()[]<>'\"`,;|";
  const shells = {};
  let active = null;

  function running() { return page.dataset.status === "running" && page.dataset.token; }
  function keyOf(machine, tab) { return machine + "/" + tab; }

  function saveTabs() {
    const tabs = Object.values(shells).map((s) => ({ machine: s.machine, tab: s.tab }));
    try { sessionStorage.setItem(storeKey, JSON.stringify(tabs)); } catch (err) { /* private mode */ }
  }

  function loadTabs() {
    try {
      const tabs = JSON.parse(sessionStorage.getItem(storeKey) || "null");
      if (Array.isArray(tabs) && tabs.length) return tabs.filter((t) => machines.includes(t.machine));
    } catch (err) { /* fall through */ }
    return machines.map((machine) => ({ machine, tab: "1" }));
  }

  // ``fallback`` (an explicit Ctrl+Shift+C) may copy through a hidden text area where the clipboard
  // API is missing (plain HTTP); copying on selection never does, as that would steal the focus.
  function copyText(text, fallback) {
    if (!text) return;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).catch(() => fallback && legacyCopy(text));
    } else if (fallback) {
      legacyCopy(text);
    }
  }

  function legacyCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (err) { /* nothing else to try */ }
    area.remove();
  }

  function pasteInto(shell) {
    if (!navigator.clipboard || !navigator.clipboard.readText) return;
    navigator.clipboard.readText().then((text) => text && shell.term.paste(text)).catch(() => {});
  }

  function showState(text) {
    state.textContent = text || "";
    state.classList.toggle("d-none", !text);
  }

  function label(machine, tab) { return tab === "1" ? machine : machine + " " + tab; }

  function addTab(machine, tab) {
    const key = keyOf(machine, tab);
    const item = document.createElement("li");
    item.className = "nav-item d-flex align-items-center";
    item.setAttribute("role", "presentation");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "nav-link";
    button.setAttribute("role", "tab");
    button.setAttribute("aria-selected", "false");
    button.dataset.terminalTab = machine;
    button.dataset.tab = tab;
    button.textContent = label(machine, tab);
    button.addEventListener("click", () => select(key));
    item.appendChild(button);
    if (tab !== "1") {
      const close = document.createElement("button");
      close.type = "button";
      close.className = "btn btn-sm btn-link text-body-secondary px-1";
      close.setAttribute("aria-label", interpolate(gettext("Close %(tab)s"), { tab: label(machine, tab) }, true));
      close.innerHTML = '<i class="bi bi-x" aria-hidden="true"></i>';
      close.addEventListener("click", () => closeTab(key));
      item.appendChild(close);
    }
    tabList.appendChild(item);
    const pane = document.createElement("div");
    pane.className = "terminal-pane d-none";
    pane.dataset.terminal = machine;
    pane.dataset.tab = tab;
    panes.appendChild(pane);
    shells[key] = { machine, tab, item, button, pane, term: null, socket: null, delay: 1000, closing: false };
    return key;
  }

  function select(key) {
    active = key;
    Object.entries(shells).forEach(([k, s]) => {
      s.button.classList.toggle("active", k === key);
      s.button.setAttribute("aria-selected", k === key ? "true" : "false");
      s.pane.classList.toggle("d-none", k !== key);
    });
    const shell = shells[key];
    if (!shell) return;
    if (!shell.term) open(shell);
    if (shell.term) { shell.fit.fit(); shell.term.focus(); }
  }

  function open(shell) {
    if (!running()) return;
    const term = new window.Terminal({
      cursorBlink: true, fontSize: 14, scrollback: 5000, wordSeparator: WORD_SEPARATOR, rightClickSelectsWord: false,
    });
    const fit = new window.FitAddon.FitAddon();
    const search = new window.SearchAddon.SearchAddon();
    term.loadAddon(fit);
    term.loadAddon(search);
    if (window.WebLinksAddon) term.loadAddon(new window.WebLinksAddon.WebLinksAddon());
    term.open(shell.pane);
    fit.fit();
    Object.assign(shell, { term, fit, search });
    // Copy what is selected, as terminal emulators on Linux do; Ctrl+Shift+C copies it again.
    term.onSelectionChange(() => copyText(term.getSelection()));
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
      if (event.code === "KeyC") { copyText(term.getSelection(), true); term.focus(); event.preventDefault(); return false; }
      if (event.code === "KeyV") { pasteInto(shell); event.preventDefault(); return false; }
      if (event.code === "KeyF") { openSearch(); event.preventDefault(); return false; }
      return true;
    });
    term.onData((data) => shell.socket && shell.socket.readyState === 1 && shell.socket.send(JSON.stringify({ type: "input", data })));
    term.onResize(({ cols, rows }) => shell.socket && shell.socket.readyState === 1 && shell.socket.send(JSON.stringify({ type: "resize", cols, rows })));
    connect(shell);
  }

  function connect(shell) {
    const term = shell.term;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const query = `token=${encodeURIComponent(page.dataset.token)}&tab=${encodeURIComponent(shell.tab)}&cols=${term.cols}&rows=${term.rows}`;
    const socket = new WebSocket(`${scheme}${location.host}/ws/sessions/${sessionId}/terminal/${shell.machine}/?${query}`);
    socket.binaryType = "arraybuffer";
    shell.socket = socket;
    socket.addEventListener("open", () => {
      shell.delay = 1000;
      shell.pane.dataset.connection = "open";
      if (!Object.values(shells).some((s) => s.pane.dataset.connection === "reconnecting")) showState("");
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        const msg = JSON.parse(event.data);
        // The server kept this tab's shell: clear the screen, its scroll-back is drawn again next.
        if (msg.type === "attached") term.reset();
        else if (msg.type === "error") term.write(`\r\n\x1b[1;31m${msg.message}\x1b[0m\r\n`);
        return;
      }
      const bytes = new Uint8Array(event.data);
      // Acknowledge once xterm has drawn the batch: the server's flow control waits for this.
      term.write(bytes, () => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ack", bytes: bytes.length })));
    });
    socket.addEventListener("close", (event) => {
      if (shell.socket !== socket) return;
      shell.socket = null;
      if (shell.closing) return;
      if (event.code === 4409) term.write("\r\n\x1b[1;33m" + gettext("The lab is not running.") + "\x1b[0m\r\n");
      else if (event.code >= 4400 && event.code < 4500) term.write("\r\n\x1b[1;31m" + gettext("This terminal was refused.") + "\x1b[0m\r\n");
      // 1000 and 4xxx are endings (the shell exited, the lab stopped, another window took the tab).
      if (event.code === 1000 || event.code >= 4000 || !running()) { shell.pane.dataset.connection = "closed"; return; }
      shell.pane.dataset.connection = "reconnecting";
      showState(gettext("Reconnecting…"));
      setTimeout(() => { if (!shell.closing && running()) connect(shell); }, shell.delay);
      shell.delay = Math.min(shell.delay * 2, 15000);
    });
  }

  function closeTab(key) {
    const shell = shells[key];
    if (!shell) return;
    shell.closing = true;
    // 1000 tells the server the tab was closed on purpose: it ends the shell instead of keeping it.
    if (shell.socket) shell.socket.close(1000);
    if (shell.term) shell.term.dispose();
    shell.item.remove();
    shell.pane.remove();
    delete shells[key];
    saveTabs();
    if (active === key) select(Object.keys(shells)[0]);
  }

  function newShell() {
    const machine = shells[active] ? shells[active].machine : machines[0];
    const used = Object.values(shells).filter((s) => s.machine === machine).map((s) => Number(s.tab));
    let number = 1;
    while (used.includes(number)) number += 1;
    const key = addTab(machine, String(number));
    saveTabs();
    select(key);
  }

  // Search in the active terminal's scroll-back.
  const searchForm = document.getElementById("terminal-search");
  const searchInput = document.getElementById("terminal-search-input");
  function openSearch() { searchForm.classList.remove("d-none"); searchInput.focus(); searchInput.select(); }
  function find(backwards) {
    const shell = shells[active];
    if (!shell || !shell.search || !searchInput.value) return false;
    return backwards ? shell.search.findPrevious(searchInput.value) : shell.search.findNext(searchInput.value);
  }
  searchForm.addEventListener("submit", (event) => { event.preventDefault(); searchForm.dataset.found = String(find(false)); });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { searchForm.classList.add("d-none"); const s = shells[active]; if (s && s.term) s.term.focus(); }
    if (event.key === "Enter" && event.shiftKey) { event.preventDefault(); searchForm.dataset.found = String(find(true)); }
  });
  document.getElementById("terminal-search-prev").addEventListener("click", () => { searchForm.dataset.found = String(find(true)); });
  document.getElementById("terminal-search-open").addEventListener("click", openSearch);
  document.getElementById("terminal-new").addEventListener("click", newShell);
  document.getElementById("terminal-fullscreen").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else section.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", () => {
    const shell = shells[active];
    if (shell && shell.fit) { shell.fit.fit(); shell.term.focus(); }
  });
  window.addEventListener("resize", () => { const s = shells[active]; if (s && s.fit) s.fit.fit(); });
  setInterval(() => Object.values(shells).forEach((s) => s.socket && s.socket.readyState === 1 && s.socket.send(JSON.stringify({ type: "ping" }))), 25000);

  window.rangexTerminals = {
    closeAll() { Object.values(shells).forEach((s) => { s.closing = true; if (s.socket) s.socket.close(1000); }); },
    // The lab became running on this page (session.js set the token): open the active shell.
    start() { if (active) select(active); },
  };

  loadTabs().forEach((t) => addTab(t.machine, t.tab));
  saveTabs();
  if (note && running()) note.remove();
  const first = Object.keys(shells)[0];
  if (first) select(first);
})();
