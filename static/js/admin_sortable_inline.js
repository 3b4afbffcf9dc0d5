// Path and playlist items in the admin: drag a row (or use its ↑/↓ buttons) to reorder; the Order
// fields are renumbered 1..n in the new order and saved with the form (the services renumber again).
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);

  function rows(group) {
    return Array.from(group.querySelectorAll("tbody tr.form-row")).filter(function (row) {
      return !row.classList.contains("empty-form");
    });
  }

  function renumber(group) {
    let position = 1;
    rows(group).forEach(function (row) {
      const order = row.querySelector("input[name$='-sort_order']");
      const picked = row.querySelector("input[name$='-scenario_version']");
      if (order && picked && picked.value) order.value = position++;
    });
  }

  function move(group, row, delta) {
    const list = rows(group);
    const index = list.indexOf(row);
    const target = list[index + delta];
    if (!target) return;
    if (delta < 0) target.before(row); else target.after(row);
    renumber(group);
  }

  function bind(group) {
    let dragged = null;
    rows(group).forEach(function (row) {
      if (row.dataset.rxSortable) return;
      row.dataset.rxSortable = "1";
      row.draggable = true;
      row.addEventListener("dragstart", function () { dragged = row; });
      row.addEventListener("dragover", function (event) { event.preventDefault(); });
      row.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!dragged || dragged === row) return;
        const list = rows(group);
        if (list.indexOf(dragged) < list.indexOf(row)) row.after(dragged); else row.before(dragged);
        renumber(group);
      });
      const cell = row.querySelector("td.field-sort_order");
      if (cell) {
        [["↑", -1, gettext("Move up")], ["↓", 1, gettext("Move down")]].forEach(function (spec) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = spec[0];
          button.setAttribute("aria-label", spec[2]);
          button.addEventListener("click", function () { move(group, row, spec[1]); });
          cell.appendChild(button);
        });
      }
    });
  }

  function bindAll() {
    document.querySelectorAll("fieldset.rx-sortable").forEach(bind);
  }

  document.addEventListener("DOMContentLoaded", bindAll);
  document.addEventListener("formset:added", bindAll);
})();
