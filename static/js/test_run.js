// A test deployment's page in the admin: log lines and rule results pushed live over /ws/test-runs/<id>/.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const root = document.getElementById("rx-test-run");
  if (!root) return;
  const active = ["pending", "running"];
  if (!active.includes(root.dataset.status)) return;
  const log = document.getElementById("rx-run-log");
  const status = document.getElementById("rx-run-status");
  const rules = document.querySelector("#rx-run-rules tbody");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + root.dataset.ws);

  function addRule(rule) {
    const empty = rules.querySelector(".rx-run-norules");
    if (empty) empty.remove();
    const row = document.createElement("tr");
    const mark = document.createElement("td");
    mark.className = rule.passed ? "rx-rule-pass" : "rx-rule-fail";
    mark.textContent = rule.passed ? gettext("PASS") : gettext("FAIL");
    row.appendChild(mark);
    for (const text of [rule.label, rule.reason, ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    rules.appendChild(row);
  }

  socket.addEventListener("message", function (event) {
    const data = JSON.parse(event.data);
    root.dataset.live = "1";
    if (data.type === "progress") {
      log.textContent += new Date().toTimeString().slice(0, 8) + " " + data.message + "\n";
      log.scrollTop = log.scrollHeight;
      if (data.rule) addRule(data.rule);
    } else if (data.type === "status") {
      status.textContent = data.status;
      if (!active.includes(data.status)) {
        // The finished run's page shows the machines, outputs and the full log.
        setTimeout(function () { location.reload(); }, 1500);
      }
    }
  });
})();
