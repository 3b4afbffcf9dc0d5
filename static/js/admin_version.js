// The scenario version page in the admin: warn before unsaved edits are lost, and offer the page's
// machines (saved or just added) as the targets of machine files.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);

  function machineNames() {
    const names = [];
    document.querySelectorAll('input[name^="machines-"][name$="-name"]').forEach(function (input) {
      if (/__prefix__/.test(input.name)) return;
      const row = input.name.replace(/-name$/, "");
      const deleted = document.querySelector('input[name="' + row + '-DELETE"]');
      const value = input.value.trim();
      if (value && !(deleted && deleted.checked) && names.indexOf(value) < 0) names.push(value);
    });
    return names;
  }

  function refreshMachineChoices() {
    const names = machineNames();
    document.querySelectorAll("select.rx-asset-machine").forEach(function (select) {
      const current = select.value;
      const wanted = [""].concat(names);
      if (current && wanted.indexOf(current) < 0) wanted.push(current);
      select.replaceChildren();
      wanted.forEach(function (name) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name || "---------";
        if (name === current) option.selected = true;
        select.appendChild(option);
      });
    });
  }

  function networkNames() {
    const names = [];
    document.querySelectorAll('input[name$="network_group"]').forEach(function (input) {
      const value = input.value.trim();
      if (value && !/__prefix__/.test(input.name) && names.indexOf(value) < 0) names.push(value);
    });
    return names.sort();
  }

  function refreshNetworks() {
    const list = document.getElementById("rx-network-groups");
    if (!list) return;
    const known = JSON.parse(list.dataset.saved || "[]");
    const names = networkNames().concat(known).filter(function (v, i, all) { return all.indexOf(v) === i; });
    list.replaceChildren.apply(list, names.map(function (name) {
      const option = document.createElement("option");
      option.value = name;
      return option;
    }));
  }

  // One image source: only the fields of the chosen kind are shown.
  const IMAGE_FIELDS = {
    variant: ["image_variant"],
    platform: ["platform_image"],
    custom: ["image_ref", "registry_credential"],
  };

  function showImageFields(select) {
    const prefix = select.name.replace(/image_source_type$/, "");
    const wanted = IMAGE_FIELDS[select.value] || [];
    Object.values(IMAGE_FIELDS).flat().forEach(function (name) {
      const input = document.querySelector('[name="' + prefix + name + '"]');
      const row = input && input.closest(".form-row");
      if (row) row.hidden = wanted.indexOf(name) < 0;
    });
  }

  function refreshImageFields() {
    document.querySelectorAll('select[name$="-image_source_type"]').forEach(function (select) {
      if (!/__prefix__/.test(select.name)) showImageFields(select);
    });
  }

  // "Duplicate" on a machine: a new machine row with the same values and a new name.
  function addDuplicateButtons() {
    document.querySelectorAll(".inline-related[id^='machines-']").forEach(function (box) {
      if (/__prefix__|empty/.test(box.id) || box.querySelector(".rx-duplicate-machine")) return;
      const title = box.querySelector("h3");
      if (!title) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button rx-duplicate-machine";
      button.textContent = gettext("Duplicate");
      button.style.marginLeft = "10px";
      button.addEventListener("click", function () { duplicateMachine(box); });
      title.appendChild(button);
    });
  }

  function duplicateMachine(box) {
    const add = document.querySelector("#machines-group .add-row a, #machines-group a.addlink");
    if (!add) return;
    const from = box.id.replace(/^machines-/, "");
    add.click();
    const total = document.getElementById("id_machines-TOTAL_FORMS");
    const to = String(Number(total.value) - 1);
    box.querySelectorAll("input, select, textarea").forEach(function (source) {
      const name = source.name || "";
      const field = name.replace("machines-" + from + "-", "");
      if (!name.startsWith("machines-" + from + "-") || ["id", "scenario_version", "DELETE"].indexOf(field) >= 0) return;
      const target = document.querySelector('[name="machines-' + to + "-" + field + '"]');
      if (!target || source.type === "password" || source.type === "file") return;
      if (source.type === "checkbox") target.checked = source.checked;
      else target.value = source.value;
    });
    const name = document.querySelector('[name="machines-' + to + '-name"]');
    if (name) { name.value = (name.value + "-copy").slice(0, 32); name.focus(); }
    refreshImageFields();
    refreshMachineChoices();
    refreshNetworks();
  }

  // The checklist's problems are also shown next to the inputs they are about.
  function placeChecklist() {
    document.querySelectorAll(".rx-check-item[data-field]").forEach(function (item) {
      const name = item.dataset.field;
      if (!name) return;
      const input = document.querySelector('[name="' + name + '"]');
      if (!input) return;
      const list = document.createElement("ul");
      list.className = "errorlist rx-check-error";
      const line = document.createElement("li");
      line.textContent = item.textContent;
      list.appendChild(line);
      input.parentNode.insertBefore(list, input);
      const box = input.closest(".inline-related, .form-row");
      if (box && box.classList.contains("collapsed")) box.classList.remove("collapsed");
    });
  }

  // A Markdown preview beside the mission (and the solver writeup), rendered by the server exactly as
  // solvers will see it.
  function markdownPreviews() {
    const marker = document.getElementById("rx-markdown-url");
    if (!marker) return;
    ["mission_text", "solver_writeup"].forEach(function (name) {
      const box = document.querySelector('textarea[name="' + name + '"]');
      if (!box) return;
      const pane = document.createElement("div");
      pane.className = "rx-md-preview";
      pane.setAttribute("aria-label", name === "mission_text" ? gettext("Preview of mission text") : gettext("Preview of solver writeup"));
      pane.setAttribute("role", "region");
      const wrap = document.createElement("div");
      wrap.className = "rx-md-split";
      box.parentNode.insertBefore(wrap, box);
      wrap.appendChild(box);
      wrap.appendChild(pane);
      let timer = null;
      function render() {
        const body = new FormData();
        body.append("text", box.value);
        const token = document.querySelector('input[name="csrfmiddlewaretoken"]');
        fetch(marker.dataset.url, { method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRFToken": token ? token.value : "" } })
          .then(function (response) { return response.text(); })
          .then(function (html) { pane.innerHTML = html || "<p class=\"help\">The preview shows here as you type.</p>"; });
      }
      box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 300); });
      render();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("scenarioversion_form");
    if (!form) return;
    placeChecklist();
    markdownPreviews();
    refreshImageFields();
    refreshNetworks();
    addDuplicateButtons();
    form.addEventListener("change", function (event) {
      if (event.target.name && /image_source_type$/.test(event.target.name)) showImageFields(event.target);
      if (event.target.name && /network_group$/.test(event.target.name)) refreshNetworks();
    });
    document.addEventListener("formset:added", function () { refreshImageFields(); addDuplicateButtons(); refreshNetworks(); });
    let dirty = false;
    let submitting = false;
    form.addEventListener("input", function (event) {
      dirty = true;
      if (event.target.name && /^machines-\d+-(name|DELETE)$/.test(event.target.name)) refreshMachineChoices();
    });
    form.addEventListener("change", function () { dirty = true; refreshMachineChoices(); });
    form.addEventListener("submit", function () { submitting = true; });
    document.addEventListener("formset:added", refreshMachineChoices);
    document.addEventListener("formset:removed", refreshMachineChoices);
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !submitting) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    // Buttons outside the form that would leave the page (compare, reject...) ask first.
    document.querySelectorAll(".object-tools a, .object-tools form button").forEach(function (el) {
      el.addEventListener("click", function (event) {
        if (dirty && !window.confirm(gettext("You have unsaved changes on this page. Leave without saving them?"))) {
          event.preventDefault();
        } else {
          submitting = true;
        }
      });
    });
    refreshMachineChoices();
  });
})();
