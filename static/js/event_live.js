// Announcements reach every open page of an event live: they are added on top of #announcements
// (when the page has the list) and shown as a banner under the header.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const page = document.getElementById("event-page");
  if (!page || !page.dataset.announcementsWs || !window.rangexSocket) return;
  const list = document.getElementById("announcements");
  const messages = document.getElementById("messages");

  function card(a) {
    const wrapper = document.createElement("div");
    wrapper.className = "card mb-2 announcement";
    wrapper.dataset.id = a.id;
    const body = document.createElement("div");
    body.className = "card-body py-2";
    const title = document.createElement("h3");
    title.className = "h6 mb-1";
    title.textContent = a.title;
    const when = document.createElement("p");
    when.className = "small text-body-secondary mb-1";
    when.textContent = a.label;
    const text = document.createElement("div");
    text.className = "small";
    // body_html is sanitised Markdown rendered by the server.
    text.innerHTML = a.body_html;
    body.append(title, when, text);
    wrapper.append(body);
    return wrapper;
  }

  window.rangexSocket(page.dataset.announcementsWs, (msg) => {
    if (msg.type !== "announcement") return;
    const a = msg.announcement;
    if (list && !list.querySelector(`[data-id="${a.id}"]`)) {
      const empty = document.getElementById("no-announcements");
      if (empty) empty.remove();
      list.prepend(card(a));
    }
    if (messages) {
      const banner = document.createElement("div");
      banner.className = "alert alert-primary alert-dismissible fade show announcement-banner";
      banner.setAttribute("role", "alert");
      const strong = document.createElement("strong");
      strong.textContent = gettext("Announcement:") + " ";
      banner.append(strong, document.createTextNode(a.title));
      const close = document.createElement("button");
      close.type = "button";
      close.className = "btn-close";
      close.dataset.bsDismiss = "alert";
      close.setAttribute("aria-label", gettext("Close"));
      banner.append(close);
      messages.prepend(banner);
    }
  });
})();
