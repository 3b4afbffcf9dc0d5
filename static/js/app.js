// RangeX page behaviour shared by every page: theme switch and live notification count.
(function () {
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((fmt, obj, named) => (named
    ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
    : fmt.replace(/%s/g, () => String(obj.shift()))));
  const root = document.documentElement;

  const toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", () => {
      const next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-bs-theme", next);
      localStorage.setItem("rangex-theme", next);
    });
  }

  // Open a WebSocket that reconnects with backoff; used by every live page.
  window.rangexSocket = function (path, onMessage, onStatus) {
    let delay = 1000;
    let socket = null;
    let closedByPage = false;
    function connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.addEventListener("open", () => { delay = 1000; onStatus && onStatus("open"); });
      socket.addEventListener("message", (event) => {
        try { onMessage(JSON.parse(event.data)); } catch (err) { console.error(err); }
      });
      socket.addEventListener("close", (event) => {
        onStatus && onStatus("closed", event.code);
        // 4xxx codes are refusals (not signed in, not allowed): retrying would not help.
        if (!closedByPage && event.code < 4000) {
          setTimeout(connect, delay);
          delay = Math.min(delay * 2, 30000);
        }
      });
    }
    connect();
    return { close() { closedByPage = true; socket && socket.close(); }, get socket() { return socket; } };
  };

  const bell = document.querySelector("[data-notifications-ws]");
  const badge = document.getElementById("unread-count");
  if (bell && bell.dataset.notificationsWs && badge) {
    window.rangexSocket(bell.dataset.notificationsWs, (msg) => {
      if (msg.type === "unread") {
        badge.textContent = msg.unread;
        badge.classList.toggle("d-none", msg.unread === 0);
        bell.setAttribute("aria-label", interpolate(gettext("Notifications, %(count)s unread"), { count: msg.unread }, true));
      }
    });
  }

  // Copy buttons: <button data-copy="#target">.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const target = document.querySelector(button.dataset.copy);
    if (target && navigator.clipboard) {
      navigator.clipboard.writeText(target.textContent.trim());
      button.textContent = gettext("Copied");
    }
  });
})();

// Forms that ask first: <form data-confirm="Are you sure?">. (Inline handlers are blocked by the CSP.)
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
