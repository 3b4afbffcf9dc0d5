// Draw the "scenarios completed per week" chart of a profile page from its json_script data.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const canvas = document.getElementById("weekly-chart");
  const source = document.getElementById("weekly-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: gettext("Scenarios completed"), data: data.counts }] },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
