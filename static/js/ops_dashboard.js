// Draw the admin dashboard's usage and cost chart from its json_script data (no inline script: the CSP forbids it).
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const canvas = document.getElementById("rx-usage-chart");
  const source = document.getElementById("rx-usage-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: gettext("Env-hours"), data: data.hours, yAxisID: "hours" },
        { type: "line", label: gettext("Cost (RM)"), data: data.cost, yAxisID: "cost" },
      ],
    },
    options: {
      scales: {
        hours: { position: "left", beginAtZero: true },
        cost: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
      },
    },
  });
})();
