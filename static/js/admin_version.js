// The scenario version page in the admin: warn before unsaved edits are lost, and offer the page's
// machines (saved or just added) as the targets of machine files.
(function () {
  "use strict";

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

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("scenarioversion_form");
    if (!form) return;
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
        if (dirty && !window.confirm("You have unsaved changes on this page. Leave without saving them?")) {
          event.preventDefault();
        } else {
          submitting = true;
        }
      });
    });
    refreshMachineChoices();
  });
})();
