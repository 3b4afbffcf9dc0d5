// The question and hint editor of the version page: a form per question, with a type picker and only
// that type's fields, hints under their question, add / duplicate / delete / drag to reorder, and a
// tester that asks the grading engine about a candidate answer. It writes the same JSON the
// questions and hints fields always held (the textareas it hides are what the page posts).
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((fmt, obj, named) => (named
    ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
    : fmt.replace(/%s/g, () => String(obj.shift()))));
  function fill(fmt, values) { return interpolate(fmt, values, true); }

  const TYPES = [
    ["flag", gettext("Flag")],
    ["single_choice", gettext("Single choice")],
    ["multiple_choice", gettext("Multiple choice")],
    ["numeric", gettext("Number")],
    ["free_text", gettext("Free text (marked by a reviewer)")],
  ];
  const TYPE_KEYS = {
    flag: ["flags", "dynamic", "match", "flag_machine", "flag_path", "answer"],
    single_choice: ["options", "correct"],
    multiple_choice: ["options", "correct"],
    numeric: ["answer", "tolerance"],
    free_text: [],
  };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([key, value]) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function field(label, input, extra) {
    return el("label", { class: "rx-qe-field" + (extra ? " " + extra : "") }, [el("span", { text: label }), input]);
  }

  function csrf() {
    const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function Editor(root) {
    this.root = root;
    this.source = document.getElementById(root.dataset.source);
    this.hintsSource = document.getElementById(root.dataset.hintsSource);
    this.testUrl = root.dataset.testUrl;
    const errorsNode = document.getElementById("rx-question-errors");
    this.errors = errorsNode ? JSON.parse(errorsNode.textContent) : {};
    this.questions = JSON.parse(this.source.value || "[]");
    const hints = JSON.parse((this.hintsSource && this.hintsSource.value) || "[]");
    if (!Array.isArray(this.questions) || !Array.isArray(hints)) throw new Error("not lists");
    // Hints live under their question while editing; orphans stay attached to nothing and are kept.
    this.orphans = [];
    this.questions.forEach(function (q) { q.__hints = []; });
    hints.forEach(function (h) {
      const owner = this.questions.find(function (q) { return q.id === h.question_id; });
      if (owner) owner.__hints.push(h); else this.orphans.push(h);
    }, this);
    this.dragFrom = null;
  }

  Editor.prototype.write = function () {
    const hints = [];
    const questions = this.questions.map(function (q) {
      const copy = Object.assign({}, q);
      delete copy.__hints;
      q.__hints.forEach(function (h) { hints.push(Object.assign({}, h, { question_id: q.id })); });
      return copy;
    });
    this.source.value = JSON.stringify(questions, null, 2);
    if (this.hintsSource) this.hintsSource.value = JSON.stringify(hints.concat(this.orphans), null, 2);
    this.source.dispatchEvent(new Event("input", { bubbles: true }));
  };

  Editor.prototype.nextId = function (prefix, taken) {
    let n = 1;
    while (taken.indexOf(prefix + n) >= 0) n += 1;
    return prefix + n;
  };

  Editor.prototype.blank = function (type) {
    const id = this.nextId("q", this.questions.map(function (q) { return q.id; }));
    const q = { id: id, type: type, prompt: "", points: 10, max_attempts: null, __hints: [] };
    if (type === "flag") q.flags = [{ type: "static", content: "", case_insensitive: false }];
    if (type === "single_choice" || type === "multiple_choice") { q.options = ["", ""]; q.correct = []; }
    if (type === "numeric") { q.answer = 0; q.tolerance = 0; }
    return q;
  };

  Editor.prototype.changeType = function (q, type) {
    Object.values(TYPE_KEYS).flat().forEach(function (key) { delete q[key]; });
    const fresh = this.blank(type);
    TYPE_KEYS[type].forEach(function (key) { if (key in fresh) q[key] = fresh[key]; });
    q.type = type;
  };

  Editor.prototype.render = function () {
    const self = this;
    const list = el("ol", { class: "rx-qe-list" });
    this.questions.forEach(function (q, i) { list.appendChild(self.card(q, i)); });
    const picker = el("select", { "aria-label": gettext("Type of the new question") },
      TYPES.map(function ([value, label]) { return el("option", { value: value, text: label }); }));
    const add = el("button", { type: "button", class: "button rx-qe-add", text: gettext("Add question"), onclick: function () {
      self.questions.push(self.blank(picker.value));
      self.update();
      const prompts = self.root.querySelectorAll(".rx-qe-prompt");
      if (prompts.length) prompts[prompts.length - 1].focus();
    } });
    this.root.replaceChildren(list, el("div", { class: "rx-qe-toolbar" }, [picker, add]));
  };

  Editor.prototype.update = function () { this.write(); this.render(); };

  Editor.prototype.card = function (q, i) {
    const self = this;
    const n = i + 1;
    const card = el("li", { class: "rx-qe-card", draggable: "true", "data-index": String(i) });
    card.addEventListener("dragstart", function (event) {
      self.dragFrom = i;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(i));
    });
    card.addEventListener("dragover", function (event) { event.preventDefault(); card.classList.add("rx-qe-over"); });
    card.addEventListener("dragleave", function () { card.classList.remove("rx-qe-over"); });
    card.addEventListener("drop", function (event) {
      event.preventDefault();
      const from = self.dragFrom !== null ? self.dragFrom : Number(event.dataTransfer.getData("text/plain"));
      self.dragFrom = null;
      if (Number.isNaN(from) || from === i) return;
      const [moved] = self.questions.splice(from, 1);
      self.questions.splice(i, 0, moved);
      self.update();
    });
    // Text inputs must stay selectable: dragging starts only from the handle.
    card.addEventListener("mousedown", function (event) {
      card.draggable = !!event.target.closest(".rx-qe-handle");
    });

    const type = el("select", { "aria-label": fill(gettext("Question %(n)s type"), { n: n }), onchange: function () {
      self.changeType(q, type.value); self.update();
    } }, TYPES.map(function ([value, label]) {
      return el("option", { value: value, text: label, selected: q.type === value });
    }));
    const id = el("input", { value: q.id || "", size: "8", "aria-label": fill(gettext("Question %(n)s id"), { n: n }), onchange: function () {
      q.id = id.value.trim(); self.write();
    } });
    const header = el("div", { class: "rx-qe-header" }, [
      el("span", { class: "rx-qe-handle", title: gettext("Drag to reorder"), text: "⠿" }),
      el("strong", { text: fill(gettext("Question %(n)s"), { n: n }) }),
      field(gettext("Id"), id), field(gettext("Type"), type),
      el("span", { class: "rx-qe-actions" }, [
        el("button", { type: "button", class: "button", text: "↑", title: gettext("Move up"), "aria-label": fill(gettext("Move question %(n)s up"), { n: n }),
          disabled: i === 0, onclick: function () { self.move(i, -1); } }),
        el("button", { type: "button", class: "button", text: "↓", title: gettext("Move down"), "aria-label": fill(gettext("Move question %(n)s down"), { n: n }),
          disabled: i === self.questions.length - 1, onclick: function () { self.move(i, 1); } }),
        el("button", { type: "button", class: "button", text: gettext("Duplicate"), "aria-label": fill(gettext("Duplicate question %(n)s"), { n: n }),
          onclick: function () { self.duplicate(i); } }),
        el("button", { type: "button", class: "button rx-qe-delete", text: gettext("Delete"), "aria-label": fill(gettext("Delete question %(n)s"), { n: n }),
          onclick: function () {
            if (window.confirm(fill(gettext("Delete question %(n)s and its hints?"), { n: n }))) { self.questions.splice(i, 1); self.update(); }
          } }),
      ]),
    ]);
    card.appendChild(header);
    (this.errors[String(i)] || []).forEach(function (text) {
      card.appendChild(el("p", { class: "errornote rx-qe-error", text: text }));
    });

    const prompt = el("textarea", { class: "rx-qe-prompt", rows: "2", "aria-label": fill(gettext("Question %(n)s text"), { n: n }),
      oninput: function () { q.prompt = prompt.value; self.write(); } });
    prompt.value = q.prompt || "";
    const points = el("input", { type: "number", min: "0", value: q.points == null ? "" : q.points,
      "aria-label": fill(gettext("Question %(n)s points"), { n: n }), oninput: function () { q.points = points.value === "" ? 0 : Number(points.value); self.write(); } });
    const attempts = el("input", { type: "number", min: "1", placeholder: gettext("unlimited"), value: q.max_attempts == null ? "" : q.max_attempts,
      "aria-label": fill(gettext("Question %(n)s attempts"), { n: n }), oninput: function () {
        q.max_attempts = attempts.value === "" ? null : Number(attempts.value); self.write();
      } });
    card.appendChild(field(gettext("Question"), prompt, "rx-qe-wide"));
    card.appendChild(el("div", { class: "rx-qe-row" }, [field(gettext("Points"), points), field(gettext("Attempts"), attempts)]));
    card.appendChild(this.typeFields(q, n));
    card.appendChild(this.hintFields(q, n));
    if (q.type !== "free_text") card.appendChild(this.tester(q, n));
    return card;
  };

  Editor.prototype.move = function (i, step) {
    const j = i + step;
    if (j < 0 || j >= this.questions.length) return;
    const [moved] = this.questions.splice(i, 1);
    this.questions.splice(j, 0, moved);
    this.update();
  };

  Editor.prototype.duplicate = function (i) {
    const copy = JSON.parse(JSON.stringify(this.questions[i]));
    copy.id = this.nextId(this.questions[i].id.replace(/\d+$/, "") || "q", this.questions.map(function (q) { return q.id; }));
    const taken = this.questions.flatMap(function (q) { return q.__hints.map(function (h) { return h.id; }); });
    copy.__hints.forEach(function (h) { h.id = this.nextId("h", taken); taken.push(h.id); }, this);
    this.questions.splice(i + 1, 0, copy);
    this.update();
  };

  Editor.prototype.typeFields = function (q, n) {
    const self = this;
    const box = el("div", { class: "rx-qe-type" });
    if (q.type === "flag" && q.dynamic) {
      box.appendChild(el("p", { class: "help", text: fill(gettext("A per-session flag read from %(place)s."), { place: (q.flag_machine || "?") + ":" + (q.flag_path || "?") }) }));
    } else if (q.type === "flag") {
      if (!Array.isArray(q.flags)) {
        q.flags = [{ type: q.match === "regex" ? "regex" : "static", content: String(q.answer || ""), case_insensitive: q.match === "case_insensitive" }];
        delete q.answer; delete q.match;
      }
      const rows = el("div", { class: "rx-qe-rows" });
      q.flags.forEach(function (flag, k) {
        const label = fill(gettext("Question %(n)s flag %(k)s"), { n: n, k: k + 1 });
        const kind = el("select", { "aria-label": fill(gettext("Question %(n)s flag %(k)s kind"), { n: n, k: k + 1 }), onchange: function () { flag.type = kind.value; self.write(); } }, [
          el("option", { value: "static", text: gettext("Exact text"), selected: flag.type !== "regex" }),
          el("option", { value: "regex", text: gettext("Regular expression"), selected: flag.type === "regex" }),
        ]);
        const content = el("input", { value: flag.content || "", size: "40", class: "vTextField", "aria-label": label,
          placeholder: "flag{...}", oninput: function () { flag.content = content.value; self.write(); } });
        const nocase = el("input", { type: "checkbox", checked: !!flag.case_insensitive, "aria-label": fill(gettext("Question %(n)s flag %(k)s ignores case"), { n: n, k: k + 1 }),
          onchange: function () { flag.case_insensitive = nocase.checked; self.write(); } });
        rows.appendChild(el("div", { class: "rx-qe-row" }, [kind, content, el("label", {}, [nocase, el("span", { text: " " + gettext("ignore case") })]),
          el("button", { type: "button", class: "button", text: gettext("Remove"), "aria-label": fill(gettext("Remove %(item)s"), { item: label }),
            disabled: q.flags.length < 2, onclick: function () { q.flags.splice(k, 1); self.update(); } })]));
      });
      box.appendChild(el("div", { class: "rx-qe-sub", text: gettext("Accepted flags (any one is right; a regular expression is written as is, no extra escaping)") }));
      box.appendChild(rows);
      box.appendChild(el("button", { type: "button", class: "button", text: gettext("Add flag"), "aria-label": fill(gettext("Add a flag to question %(n)s"), { n: n }),
        onclick: function () { q.flags.push({ type: "static", content: "", case_insensitive: false }); self.update(); } }));
    } else if (q.type === "single_choice" || q.type === "multiple_choice") {
      const single = q.type === "single_choice";
      q.options = Array.isArray(q.options) ? q.options : [];
      q.correct = Array.isArray(q.correct) ? q.correct : [];
      const rows = el("div", { class: "rx-qe-rows" });
      q.options.forEach(function (option, k) {
        const label = fill(gettext("Question %(n)s option %(k)s"), { n: n, k: k + 1 });
        const right = el("input", { type: single ? "radio" : "checkbox", name: "rx-qe-correct-" + n, checked: q.correct.indexOf(k) >= 0,
          "aria-label": fill(gettext("Question %(n)s option %(k)s is correct"), { n: n, k: k + 1 }), onchange: function () {
            if (single) q.correct = [k];
            else q.correct = right.checked ? q.correct.concat([k]).sort() : q.correct.filter(function (c) { return c !== k; });
            self.write();
          } });
        const text = el("input", { value: option, size: "40", class: "vTextField", "aria-label": label,
          oninput: function () { q.options[k] = text.value; self.write(); } });
        rows.appendChild(el("div", { class: "rx-qe-row" }, [right, text, el("button", { type: "button", class: "button", text: gettext("Remove"),
          "aria-label": fill(gettext("Remove %(item)s"), { item: label }), onclick: function () {
            q.options.splice(k, 1);
            q.correct = q.correct.filter(function (c) { return c !== k; }).map(function (c) { return c > k ? c - 1 : c; });
            self.update();
          } })]));
      });
      box.appendChild(el("div", { class: "rx-qe-sub", text: single ? gettext("Options (tick the right one)") : gettext("Options (tick every right one)") }));
      box.appendChild(rows);
      box.appendChild(el("button", { type: "button", class: "button", text: gettext("Add option"), "aria-label": fill(gettext("Add an option to question %(n)s"), { n: n }),
        onclick: function () { q.options.push(""); self.update(); } }));
    } else if (q.type === "numeric") {
      const answer = el("input", { type: "number", step: "any", value: q.answer == null ? "" : q.answer, "aria-label": fill(gettext("Question %(n)s answer"), { n: n }),
        oninput: function () { q.answer = answer.value === "" ? null : Number(answer.value); self.write(); } });
      const tolerance = el("input", { type: "number", step: "any", min: "0", value: q.tolerance == null ? 0 : q.tolerance,
        "aria-label": fill(gettext("Question %(n)s tolerance"), { n: n }), oninput: function () { q.tolerance = tolerance.value === "" ? 0 : Number(tolerance.value); self.write(); } });
      box.appendChild(el("div", { class: "rx-qe-row" }, [field(gettext("Answer"), answer), field(gettext("Tolerance (±)"), tolerance)]));
    } else {
      box.appendChild(el("p", { class: "help", text: gettext("A reviewer marks free-text answers; set the validation mode to manual review.") }));
    }
    return box;
  };

  Editor.prototype.hintFields = function (q, n) {
    const self = this;
    const mode = document.querySelector('select[name="hint_mode"]');
    const modeText = mode ? mode.options[mode.selectedIndex].text : "";
    const box = el("div", { class: "rx-qe-hints" }, [el("div", { class: "rx-qe-sub",
      text: modeText ? fill(gettext("Hints (hint mode: %(mode)s; costs count only when hints cost points)"), { mode: modeText.toLowerCase() }) : gettext("Hints") })]);
    q.__hints.forEach(function (hint, k) {
      const label = fill(gettext("Question %(n)s hint %(k)s"), { n: n, k: k + 1 });
      const text = el("textarea", { rows: "2", cols: "50", "aria-label": label, oninput: function () { hint.text = text.value; self.write(); } });
      text.value = hint.text || "";
      const cost = el("input", { type: "number", min: "0", value: hint.cost == null ? 0 : hint.cost, "aria-label": fill(gettext("Question %(n)s hint %(k)s cost"), { n: n, k: k + 1 }),
        oninput: function () { hint.cost = cost.value === "" ? 0 : Number(cost.value); self.write(); } });
      box.appendChild(el("div", { class: "rx-qe-row" }, [text, field(gettext("Cost (points)"), cost), el("button", { type: "button", class: "button",
        text: gettext("Remove"), "aria-label": fill(gettext("Remove %(item)s"), { item: label }), onclick: function () { q.__hints.splice(k, 1); self.update(); } })]));
    });
    box.appendChild(el("button", { type: "button", class: "button", text: gettext("Add hint"), "aria-label": fill(gettext("Add a hint to question %(n)s"), { n: n }),
      onclick: function () {
        const taken = self.questions.flatMap(function (x) { return x.__hints.map(function (h) { return h.id; }); });
        q.__hints.push({ id: self.nextId("h", taken), question_id: q.id, text: "", cost: 0 });
        self.update();
      } }));
    return box;
  };

  Editor.prototype.tester = function (q, n) {
    const self = this;
    const answer = el("input", { size: "30", "aria-label": fill(gettext("Try an answer to question %(n)s"), { n: n }), placeholder: gettext("Try an answer") });
    const verdict = el("span", { class: "rx-qe-verdict", role: "status" });
    const go = el("button", { type: "button", class: "button", text: gettext("Test"), "aria-label": fill(gettext("Test the answer to question %(n)s"), { n: n }),
      onclick: function () {
        const copy = Object.assign({}, q); delete copy.__hints;
        const form = document.getElementById("scenarioversion_form");
        const body = new FormData();
        body.append("question", JSON.stringify(copy));
        body.append("hints", JSON.stringify(q.__hints));
        body.append("answer", answer.value);
        ["scoring_mode", "hint_mode"].forEach(function (name) {
          const input = form && form.elements[name];
          if (input) body.append(name, input.value);
        });
        verdict.textContent = "…";
        fetch(self.testUrl, { method: "POST", body: body, headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            verdict.textContent = data.message;
            verdict.className = "rx-qe-verdict " + (data.correct ? "rx-qe-ok" : "rx-qe-no");
          })
          .catch(function () { verdict.textContent = gettext("Could not reach the grading engine."); });
      } });
    answer.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); go.click(); } });
    return el("div", { class: "rx-qe-row rx-qe-tester" }, [el("span", { text: gettext("Flag tester:") }), answer, go, verdict]);
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".rx-qe").forEach(function (root) {
      let editor;
      try {
        editor = new Editor(root);
      } catch (error) {
        return; // Input that is not a JSON list stays in the plain box, with its error.
      }
      // The JSON boxes and their JSON help go out of sight; their error lists stay visible.
      [editor.source, editor.hintsSource].forEach(function (box) {
        if (!box) return;
        box.hidden = true;
        const row = box.closest(".form-row");
        if (row) row.querySelectorAll(".help").forEach(function (help) { help.hidden = true; });
      });
      if (editor.hintsSource) {
        const label = editor.hintsSource.closest(".form-row").querySelector("label");
        if (label) label.textContent = gettext("Hints: edited under each question above.");
      }
      root.hidden = false;
      editor.render();
    });
  });
})();
