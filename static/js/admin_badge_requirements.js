// Badge requirement rows in the admin show only the fields of their chosen type.
// FIELDS_BY_TYPE mirrors BadgeRequirement.FIELDS_BY_TYPE (apps/badges/models.py; a test keeps them equal).
(function () {
  "use strict";
  const FIELDS_BY_TYPE = {
    "complete_scenario": ["scenario"],
    "complete_count": ["count", "category", "difficulty"],
    "min_score": ["scenario", "min_score"],
    "event_top_n": ["event_id", "count"],
    "complete_path": ["career_path"],
    "event_first_blood": ["event_id"],
    "event_finisher": ["event_id"]
  };
  const ALL = ["scenario", "count", "category", "difficulty", "min_score", "event_id", "career_path"];

  function update(select) {
    const row = select.closest(".inline-related");
    if (!row) return;
    const shown = FIELDS_BY_TYPE[select.value] || [];
    ALL.forEach(function (name) {
      const field = row.querySelector(".form-row.field-" + name + ", .fieldBox.field-" + name);
      if (field) field.hidden = select.value !== "" && shown.indexOf(name) === -1;
    });
  }

  function bind(root) {
    root.querySelectorAll("select[name$='-requirement_type']").forEach(function (select) {
      if (select.dataset.rxBound) return;
      select.dataset.rxBound = "1";
      select.addEventListener("change", function () { update(select); });
      update(select);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("formset:added", function (event) { bind(event.target); });
})();
