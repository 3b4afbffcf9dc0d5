// Copy the front-end files RangeX serves from node_modules into static/vendor.
// Every file that names a source map (`sourceMappingURL=`) ships with that map: collectstatic's
// manifest storage rewrites the reference to the map's hashed name and stops with MissingFileError
// when the map is absent, so a missing map fails here instead, at install time.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "static", "vendor");
const files = {
  "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
  "bootstrap/dist/css/bootstrap.min.css.map": "bootstrap/bootstrap.min.css.map",
  "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
  "bootstrap/dist/js/bootstrap.bundle.min.js.map": "bootstrap/bootstrap.bundle.min.js.map",
  "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons/bootstrap-icons.min.css",
  "bootstrap-icons/font/fonts": "bootstrap-icons/fonts",
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "@xterm/xterm/css/xterm.css": "xterm/xterm.css",
  "@xterm/xterm/lib/xterm.js": "xterm/xterm.js",
  "@xterm/xterm/lib/xterm.js.map": "xterm/xterm.js.map",
  "@xterm/addon-fit/lib/addon-fit.js": "xterm/addon-fit.js",
  "@xterm/addon-fit/lib/addon-fit.js.map": "xterm/addon-fit.js.map",
  "@xterm/addon-search/lib/addon-search.js": "xterm/addon-search.js",
  "@xterm/addon-search/lib/addon-search.js.map": "xterm/addon-search.js.map",
  "@xterm/addon-web-links/lib/addon-web-links.js": "xterm/addon-web-links.js",
  "@xterm/addon-web-links/lib/addon-web-links.js.map": "xterm/addon-web-links.js.map",
  "chart.js/dist/chart.umd.js": "chartjs/chart.umd.js",
  "chart.js/dist/chart.umd.js.map": "chartjs/chart.umd.js.map",
  "cytoscape/dist/cytoscape.min.js": "cytoscape/cytoscape.min.js",
  // noVNC ships ES modules: core/rfb.js imports its siblings and vendor/pako by relative paths.
  "@novnc/novnc/core": "novnc/core",
  "@novnc/novnc/vendor": "novnc/vendor",
  "@novnc/novnc/LICENSE.txt": "novnc/LICENSE.txt",
};
rmSync(out, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(root, "node_modules", from), target, { recursive: true });
}

// The last sourceMappingURL comment of a .js or .css file is the one browsers and Django follow.
const missing = [];
for (const to of Object.values(files).filter((name) => /\.(js|css)$/.test(name))) {
  const text = readFileSync(join(out, to), "utf8");
  const urls = [...text.matchAll(/[#@] sourceMappingURL=([^\s*]+)/g)].map((match) => match[1]);
  const map = urls.at(-1);
  if (map && !map.startsWith("data:") && !existsSync(join(out, dirname(to), map))) {
    missing.push(`${to} -> ${map}`);
  }
}
if (missing.length) {
  console.error(`source maps named by vendored files are missing:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
console.log(`vendored ${Object.keys(files).length} front-end files into static/vendor`);
