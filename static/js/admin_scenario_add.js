// The new-scenario page: the slug follows the title (as Django's prepopulated fields do) until the
// creator types a slug of their own.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const title = document.getElementById("id_title");
    const slug = document.getElementById("id_slug");
    if (!title || !slug) return;
    let own = slug.value !== "";
    slug.addEventListener("input", function () { own = slug.value !== ""; });
    title.addEventListener("input", function () {
      if (!own) slug.value = window.URLify ? window.URLify(title.value, 120, true) : title.value.toLowerCase();
    });
  });
})();
