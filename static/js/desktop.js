// The lab's desktops: noVNC (vendored from npm) talking RFB over RangeX's WebSocket relay
// (/ws/sessions/<id>/desktop/<machine>/). The socket's text messages are RangeX's control channel:
// the server's first message carries the VNC password of this connection, and the page
// acknowledges the bytes noVNC has taken, which is the server's flow control. Resize, scale and
// quality, clipboard both ways, full screen (with the keyboard locked, so browser shortcuts reach
// the desktop) and a reconnect that finds the same desktop again.
// Django's JavaScript catalog, when the page loaded it; English otherwise.
const gettext = window.gettext || ((s) => s);
const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
const interpolate = window.interpolate || ((fmt, obj, named) => (named
  ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
  : fmt.replace(/%s/g, () => String(obj.shift()))));
const section = document.getElementById("desktops");
let RFB = null;
if (section) {
  try {
    ({ default: RFB } = await import(section.dataset.rfb));
    section.dataset.viewer = "ready";
  } catch (err) {
    // A module request can be lost (for example when the host's network changes): say so.
    section.dataset.viewer = "failed";
    const failed = document.getElementById("desktop-note");
    if (failed) failed.textContent = gettext("The desktop viewer did not load; reload the page.");
  }
}
if (section && RFB) {
  const sessionId = section.dataset.session;
  const viewOnly = section.dataset.viewOnly === "true";
  const screen = document.getElementById("desktop-screen");
  const state = document.getElementById("desktop-state");
  const note = document.getElementById("desktop-note");
  const log = document.getElementById("desktop-log");
  const watchers = document.getElementById("desktop-watchers");
  const scale = document.getElementById("desktop-scale");
  const quality = document.getElementById("desktop-quality");
  const clipText = document.getElementById("desktop-clipboard-text");
  const clipPanel = document.getElementById("desktop-clipboard");
  const clipToggle = document.getElementById("desktop-clipboard-toggle");
  const ACK_EVERY = 64 * 1024;
  const QUALITY = { high: [8, 2], medium: [6, 6], low: [2, 9] };
  const store = "rx-desktop-" + sessionId;
  let machine = null;
  let rfb = null;
  let channelNow = null;
  let retries = 0;
  let retryTimer = null;
  let wanted = false;

  const prefs = (() => { try { return JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { return {}; } })();
  if (prefs.scale) scale.value = prefs.scale;
  if (prefs.quality) quality.value = prefs.quality;

  function show(text, kind) {
    state.textContent = text;
    state.className = "badge align-middle text-bg-" + (kind || "secondary");
  }

  function showWatchers(count) {
    if (viewOnly) return;
    watchers.classList.toggle("d-none", !count);
    watchers.querySelector("span").textContent = count
      ? interpolate(ngettext("%(count)s watching (view-only)", "%(count)s watching (view-only)", count), { count: count }, true)
      : "";
  }

  // A WebSocket as noVNC wants it, in front of the real one: binary messages go to noVNC and are
  // acknowledged once it has taken them; text messages are RangeX's and never reach noVNC.
  class RelayChannel {
    constructor(url) {
      this.onopen = null; this.onmessage = null; this.onclose = null; this.onerror = null;
      this.password = null;
      this.pendingAck = 0;
      this.ws = new WebSocket(url, ["binary"]);
      this.ws.binaryType = "arraybuffer";
      this.ws.onopen = (e) => { if (this.onopen) this.onopen(e); };
      this.ws.onclose = (e) => { if (this.onclose) this.onclose(e); onClosed(e, this); };
      this.ws.onerror = (e) => { if (this.onerror) this.onerror(e); };
      this.ws.onmessage = (e) => {
        if (typeof e.data === "string") { control(this, JSON.parse(e.data)); return; }
        if (this.onmessage) this.onmessage(e);
        this.pendingAck += e.data.byteLength;
        if (this.pendingAck >= ACK_EVERY) this.flushAck();
        else if (!this.ackTimer) this.ackTimer = setTimeout(() => this.flushAck(), 50);
      };
    }
    flushAck() {
      clearTimeout(this.ackTimer); this.ackTimer = null;
      if (this.pendingAck && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ type: "ack", bytes: this.pendingAck }));
      }
      this.pendingAck = 0;
    }
    send(data) { this.ws.send(data); }
    close() { this.ws.close(1000); }
    get binaryType() { return "arraybuffer"; }
    set binaryType(value) { /* always arraybuffer */ }
    get protocol() { return this.ws.protocol; }
    get readyState() { return this.ws.readyState; }
  }

  function control(channel, msg) {
    if (msg.type === "hello") {
      channel.password = msg.password;
      showWatchers(msg.watchers);
    } else if (msg.type === "watchers") {
      showWatchers(msg.count);
    } else if (msg.type === "error") {
      note.textContent = msg.message;
      if (msg.log) { log.textContent = msg.log; log.classList.remove("d-none"); }
    } else if (msg.type === "ended") {
      wanted = false;
      note.textContent = msg.message;
    }
  }

  function applyView() {
    if (!rfb) return;
    rfb.resizeSession = scale.value === "remote" && !viewOnly;
    rfb.scaleViewport = scale.value === "scale" || (viewOnly && scale.value === "remote");
    rfb.clipViewport = scale.value === "none";
    const [q, c] = QUALITY[quality.value] || QUALITY.high;
    rfb.qualityLevel = q;
    rfb.compressionLevel = c;
  }

  function connect() {
    if (!machine || !section.dataset.token) return;
    clearTimeout(retryTimer);
    if (rfb) { const old = rfb; rfb = null; old.disconnect(); }
    wanted = true;
    show(retries ? gettext("Reconnecting…") : gettext("Connecting…"), "warning");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}/ws/sessions/${sessionId}/desktop/${encodeURIComponent(machine)}/?token=${encodeURIComponent(section.dataset.token)}`;
    const channel = new RelayChannel(url);
    channelNow = channel;
    const current = new RFB(screen, channel, { shared: true });
    rfb = current;
    current.viewOnly = viewOnly;
    current.focusOnClick = true;
    current.background = "#212529";
    applyView();
    current.addEventListener("credentialsrequired", () => {
      if (channel.password) current.sendCredentials({ password: channel.password });
    });
    current.addEventListener("connect", () => {
      retries = 0;
      note.textContent = "";
      log.classList.add("d-none");
      show(viewOnly ? gettext("Watching") : gettext("Connected"), "success");
      section.dataset.connected = machine;
      if (!viewOnly) current.focus();
    });
    current.addEventListener("disconnect", () => { delete section.dataset.connected; });
    current.addEventListener("clipboard", (e) => {
      clipText.value = e.detail.text;
      if (navigator.clipboard && document.hasFocus()) navigator.clipboard.writeText(e.detail.text).catch(() => {});
    });
    current.addEventListener("desktopname", (e) => { screen.setAttribute("aria-label", e.detail.name); });
  }

  function onClosed(event, channel) {
    if (channel !== channelNow) return; // a connection this page already replaced
    delete section.dataset.connected;
    if (!wanted || event.code === 1000) { show(gettext("Disconnected")); return; }
    if ([4403, 4404, 4409].includes(event.code)) {
      show(gettext("Closed"), "danger");
      if (!note.textContent) note.textContent = gettext("This desktop cannot be opened now; reload the page.");
      return;
    }
    // The desktop lives in the machine: a new connection finds it as it was.
    retries += 1;
    const delay = Math.min(10000, 500 * 2 ** Math.min(retries, 5));
    const wait = Math.round(delay / 1000);
    show(interpolate(ngettext("Reconnecting in %(n)s second…", "Reconnecting in %(n)s seconds…", wait), { n: wait }, true), "warning");
    retryTimer = setTimeout(connect, delay);
  }

  function select(button) {
    for (const tab of section.querySelectorAll("#desktop-tabs [data-machine]")) {
      tab.classList.toggle("active", tab === button);
      tab.setAttribute("aria-selected", tab === button ? "true" : "false");
    }
    machine = button.dataset.machine;
    retries = 0;
    connect();
  }

  section.querySelectorAll("#desktop-tabs [data-machine]").forEach((button) => {
    button.addEventListener("click", () => select(button));
  });
  for (const control of [scale, quality]) {
    control.addEventListener("change", () => {
      try { localStorage.setItem(store, JSON.stringify({ scale: scale.value, quality: quality.value })); } catch (e) { /* private mode */ }
      applyView();
    });
  }
  document.getElementById("desktop-reconnect").addEventListener("click", () => { retries = 0; connect(); });
  clipToggle.addEventListener("click", () => {
    const open = clipPanel.classList.toggle("d-none") === false;
    clipToggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  const send = document.getElementById("desktop-clipboard-send");
  if (send) send.addEventListener("click", () => { if (rfb) { rfb.clipboardPasteFrom(clipText.value); rfb.focus(); } });
  // The browser's clipboard follows into the desktop when the desktop gets the focus (where allowed).
  screen.addEventListener("focusin", () => {
    if (viewOnly || !rfb || !navigator.clipboard || !navigator.clipboard.readText) return;
    navigator.clipboard.readText().then((text) => {
      if (text && text !== clipText.value && rfb) { clipText.value = text; rfb.clipboardPasteFrom(text); }
    }).catch(() => {});
  });
  document.getElementById("desktop-fullscreen").addEventListener("click", async () => {
    if (document.fullscreenElement) { await document.exitFullscreen(); return; }
    await screen.requestFullscreen();
    // In full screen the browser lets a page take its own shortcuts (Ctrl+W, Ctrl+T, Alt+Tab...).
    if (navigator.keyboard && navigator.keyboard.lock) navigator.keyboard.lock().catch(() => {});
    if (rfb) rfb.focus();
  });
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement && navigator.keyboard && navigator.keyboard.unlock) navigator.keyboard.unlock();
  });
  // The session page's own socket tells the owner when someone starts or stops watching.
  window.addEventListener("rangex:watchers", (e) => showWatchers(e.detail.count));
  window.rangexDesktop = { get rfb() { return rfb; }, connect };

  const first = section.querySelector("#desktop-tabs [data-machine]");
  if (first && section.dataset.token) select(first);
}
