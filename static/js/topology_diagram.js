// The live topology diagram of the version page: networks, machines and pivot points as typed on the
// page (saved or not), drawn with Cytoscape.js and redrawn as the creator edits.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);

  function rows(prefix) {
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    const out = [];
    for (let i = 0; total && i < Number(total.value); i += 1) {
      const deleted = document.querySelector('[name="' + prefix + "-" + i + '-DELETE"]');
      if (deleted && deleted.checked) continue;
      const get = function (field) { return document.querySelector('[name="' + prefix + "-" + i + "-" + field + '"]'); };
      out.push(get);
    }
    return out;
  }

  function model() {
    const machines = rows("machines").map(function (get) {
      return {
        name: (get("name") && get("name").value.trim()) || "",
        network: (get("network_group") && get("network_group").value.trim()) || "",
        pivot: !!(get("is_pivot_host") && get("is_pivot_host").checked),
        entry: !!(get("allow_solver_entry") && get("allow_solver_entry").checked),
      };
    }).filter(function (m) { return m.name; });
    const links = rows("pivot_points").map(function (get) {
      return {
        source: (get("source_network_group") && get("source_network_group").value.trim()) || "",
        target: (get("target_network_group") && get("target_network_group").value.trim()) || "",
      };
    }).filter(function (l) { return l.source && l.target; });
    return { machines: machines, links: links };
  }

  function elements(data) {
    const nets = new Set();
    data.machines.forEach(function (m) { if (m.network) nets.add(m.network); });
    data.links.forEach(function (l) { nets.add(l.source); nets.add(l.target); });
    const out = [];
    nets.forEach(function (net) { out.push({ data: { id: "net:" + net, label: net, kind: "network" } }); });
    data.machines.forEach(function (m) {
      const id = "m:" + m.name;
      out.push({ data: { id: id, label: m.name + (m.entry ? " " + gettext("(entry)") : "") + (m.pivot ? " " + gettext("(pivot)") : ""), kind: m.pivot ? "pivot" : (m.entry ? "entry" : "machine") } });
      const joined = new Set(m.network ? [m.network] : []);
      if (m.pivot) {
        data.links.forEach(function (l) {
          if (l.source === m.network) joined.add(l.target);
          if (l.target === m.network) joined.add(l.source);
        });
      }
      joined.forEach(function (net) { out.push({ data: { id: id + "->" + net, source: id, target: "net:" + net } }); });
    });
    data.links.forEach(function (l, i) {
      out.push({ data: { id: "link:" + i, source: "net:" + l.source, target: "net:" + l.target, kind: "pivot-link", label: gettext("pivot point") } });
    });
    return out;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.getElementById("rx-topology");
    if (!box || !window.cytoscape) return;
    const cy = window.cytoscape({
      container: box,
      userZoomingEnabled: false,
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, color: "#333" } },
        { selector: 'node[kind = "network"]', style: { shape: "round-rectangle", width: 90, height: 26, "background-color": "#79aec8", "text-valign": "center", "text-margin-y": 0, color: "#fff" } },
        { selector: 'node[kind = "machine"]', style: { "background-color": "#999" } },
        { selector: 'node[kind = "entry"]', style: { "background-color": "#1a7f37" } },
        { selector: 'node[kind = "pivot"]', style: { "background-color": "#d97706", shape: "diamond" } },
        { selector: "edge", style: { width: 2, "line-color": "#bbb", "curve-style": "bezier" } },
        { selector: 'edge[kind = "pivot-link"]', style: { "line-style": "dashed", "line-color": "#d97706", label: "data(label)", "font-size": 9 } },
      ],
    });
    let last = "";
    function redraw() {
      const data = model();
      const key = JSON.stringify(data);
      if (key === last) return;
      last = key;
      cy.elements().remove();
      cy.add(elements(data));
      cy.layout({ name: "cose", animate: false, fit: true, padding: 20 }).run();
      box.dataset.machines = String(data.machines.length);
      box.dataset.networks = String(cy.nodes('[kind = "network"]').length);
      const empty = document.getElementById("rx-topology-empty");
      if (empty) empty.hidden = data.machines.length > 0;
    }
    redraw();
    const form = document.getElementById("scenarioversion_form");
    form.addEventListener("input", function () { window.setTimeout(redraw, 0); });
    form.addEventListener("change", function () { window.setTimeout(redraw, 0); });
    document.addEventListener("formset:added", redraw);
    document.addEventListener("formset:removed", redraw);
  });
})();
