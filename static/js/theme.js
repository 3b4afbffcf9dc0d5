// Apply the light/dark theme before the page paints, so it never flashes.
(function () {
  const root = document.documentElement;
  const stored = localStorage.getItem("rangex-theme");
  const pref = root.dataset.themePref && root.dataset.themePref !== "auto" ? root.dataset.themePref : stored;
  const dark = pref ? pref === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  root.setAttribute("data-bs-theme", dark ? "dark" : "light");
})();
