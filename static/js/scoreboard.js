// The live scoreboard: draws the board and the top-10 chart, and redraws on every pushed board.
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const table = document.getElementById("scoreboard");
  if (!table) return;
  const body = table.querySelector("tbody");
  const status = document.getElementById("board-status");
  const frozenNote = document.getElementById("board-frozen");
  const adminNote = document.getElementById("board-admin-live");
  const pausedNote = document.getElementById("board-paused");
  const canvas = document.getElementById("score-chart");
  let chart = null;

  function drawChart(series) {
    if (!canvas || typeof Chart === "undefined") return;
    const datasets = series.map(s => ({
      label: s.label,
      data: s.data.map(p => ({ x: new Date(p.x).getTime(), y: p.y })),
      stepped: true,
      fill: false,
    }));
    if (chart) {
      chart.data.datasets = datasets;
      chart.update("none");
      return;
    }
    chart = new Chart(canvas, {
      type: "line",
      data: { datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { type: "linear", ticks: { callback: v => new Date(v).toLocaleTimeString() } },
          y: { beginAtZero: true },
        },
      },
    });
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function drawRows(rows) {
    const fragment = document.createDocumentFragment();
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.id = r.id;
      tr.append(cell(r.rank ?? ""), cell(r.name), cell(r.points), cell(r.last_solve_label || "–"));
      fragment.append(tr);
    }
    body.replaceChildren(fragment);
  }

  function draw(board, serverNow) {
    drawRows(board.rows);
    drawChart(board.chart);
    if (frozenNote) frozenNote.classList.toggle("d-none", !board.frozen);
    if (adminNote) adminNote.classList.toggle("d-none", !board.admin_live);
    if (pausedNote) pausedNote.classList.toggle("d-none", !board.paused);
    table.dataset.generatedAt = board.generated_at;
    scheduleChange(board.next_change_at, serverNow);
  }

  // The board changes by itself at the freeze and at the end; nothing is pushed then, so the page
  // asks for the new board itself: it reconnects (the server sends the board on connect) when that
  // moment comes, timed against the server's clock, not the viewer's.
  let changeTimer = null;
  let socket = null;
  function scheduleChange(nextChange, serverNow) {
    clearTimeout(changeTimer);
    if (!nextChange || !serverNow) return;
    const wait = new Date(nextChange).getTime() - new Date(serverNow).getTime();
    if (wait > 86400000) return;
    changeTimer = setTimeout(() => { if (socket) socket.close(); }, Math.max(wait, 0) + 500);
  }

  const initial = document.getElementById("chart-data");
  if (initial) drawChart(JSON.parse(initial.textContent));
  scheduleChange(table.dataset.nextChange, table.dataset.now);

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + table.dataset.ws);
    socket.onopen = () => { delay = 1000; status.textContent = gettext("Live"); status.className = "badge text-bg-success"; };
    socket.onmessage = (e) => {
      const message = JSON.parse(e.data);
      if (message.type === "board") draw(message.board, message.now);
    };
    socket.onclose = () => {
      status.textContent = gettext("Reconnecting…");
      status.className = "badge text-bg-warning";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
