// The challenge list reloads itself when the next challenge is released (data-next-release).
(function () {
  "use strict";
  const page = document.getElementById("event-page");
  if (!page || !page.dataset.nextRelease) return;
  const wait = new Date(page.dataset.nextRelease).getTime() - Date.now();
  // A second late, so the server sees the release time passed; at most a day ahead (timers overflow).
  if (wait < 86400000) setTimeout(() => location.reload(), Math.max(wait, 0) + 1000);
})();
