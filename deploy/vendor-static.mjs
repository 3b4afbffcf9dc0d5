// Copy the front-end files RangeX serves from node_modules into static/vendor.
import { cpSync, mkdirSync, rmSync } from "node:fs";
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
  "@xterm/addon-fit/lib/addon-fit.js": "xterm/addon-fit.js",
  "chart.js/dist/chart.umd.js": "chartjs/chart.umd.js",
};
rmSync(out, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(root, "node_modules", from), target, { recursive: true });
}
console.log(`vendored ${Object.keys(files).length} front-end files into static/vendor`);
