/* instantly-nb report: draws the charts and makes tables sortable and downloadable.
 * Works offline: charts come from JSON blocks in this file and the Vega bundle inlined above;
 * the Vega loader refuses every URL, so a spec can never make the page fetch anything. */
(function () {
  "use strict";
  // Scripts run: show the buttons that need them (the stylesheet hides them otherwise).
  document.documentElement.classList.add("js");

  function refuse(uri) {
    return Promise.reject(new Error("this report works offline and does not load " + uri));
  }
  var offlineLoader = { load: refuse, sanitize: refuse, http: refuse, file: refuse };

  function drawCharts() {
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure.ink-chart"));
    var root = document.documentElement;
    if (!figures.length) { root.setAttribute("data-charts", "done"); return; }
    var pending = figures.map(function (figure) {
      var target = figure.querySelector(".vis");
      try {
        if (typeof window.vegaEmbed !== "function") { throw new Error("the chart library is missing"); }
        var spec = JSON.parse(figure.querySelector("script.spec").textContent);
        return window.vegaEmbed(target, spec, {
          // Vega-Lite charts arrive compiled to Vega when the report was built.
          mode: figure.getAttribute("data-mode") || "vega-lite",
          renderer: "svg",
          ast: true,  // Vega expressions interpreted, not eval'd: the page allows no eval
          loader: offlineLoader,
          actions: { export: true, source: false, compiled: false, editor: false }
        }).then(function () {
          figure.classList.add("drawn");  // the interactive chart replaces the static picture
        }).catch(function (err) { fail(figure, target, err); });
      } catch (err) {
        fail(figure, target, err);
        return Promise.resolve();
      }
    });
    Promise.all(pending).then(function () { root.setAttribute("data-charts", "done"); });
  }

  function fail(figure, target, err) {
    figure.classList.add("failed");
    // The static picture (when there is one) stays; the message says why it is not interactive.
    target.textContent = "This chart could not be drawn: " + (err && err.message ? err.message : err);
    console.error(err);
  }

  function sortKey(cell, numeric) {
    if (cell.hasAttribute("data-sort")) { return Number(cell.getAttribute("data-sort")); }
    if (numeric) { return null; }
    var text = cell.textContent;
    return text === "\u2014" ? null : text;
  }

  function compare(a, b) {
    if (a === null || b === null) { return a === b ? 0 : (a === null ? 1 : -1); }
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(th) {
    var row = th.parentNode;
    var index = Array.prototype.indexOf.call(row.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.classList.contains("num");
    Array.prototype.forEach.call(row.children, function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = th.closest("table").tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (tr, i) {
      return { tr: tr, key: sortKey(tr.cells[index], numeric), i: i };
    });
    rows.sort(function (x, y) {
      if (x.key === null || y.key === null) { return compare(x.key, y.key) || x.i - y.i; }
      return (ascending ? compare(x.key, y.key) : compare(y.key, x.key)) || x.i - y.i;
    });
    rows.forEach(function (r) { body.appendChild(r.tr); });
  }

  function download(tableId) {
    var block = document.getElementById(tableId + "-data");
    var data = JSON.parse(block.textContent);
    // The byte order mark lets spreadsheet programs read the file as UTF-8.
    // The CSV was written when the report was built: every field quoted, formulas neutralised.
    var blob = new Blob(["\ufeff" + data.csv], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = data.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  // Sort controls exist only when scripts run: the header label becomes the control. It is a
  // focusable span with the button role, not a <button>: Chromium leaves form controls out of
  // the header it repeats on every printed page, so a <button> label would print blank there.
  function addSortButtons() {
    Array.prototype.forEach.call(document.querySelectorAll(".ink-table th[aria-sort]"), function (th) {
      var label = th.firstChild;
      if (!label || label.nodeType !== 3) { return; }
      var control = document.createElement("span");
      control.className = "sort";
      control.setAttribute("role", "button");
      control.tabIndex = 0;
      control.title = "Sort by " + label.textContent;
      control.textContent = label.textContent;
      th.replaceChild(control, label);
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var sortControl = target.closest(".sort[role=button]");
    if (sortControl) { sortBy(sortControl.closest("th")); return; }
    var csvButton = target.closest("button.csv");
    if (csvButton) { download(csvButton.getAttribute("data-table")); }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches(".sort[role=button]")) { return; }
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      sortBy(target.closest("th"));
    }
  });

  // On paper every account prints its one line (each account's own list stays folded), and
  // folded alerts without an account print in full.
  window.addEventListener("beforeprint", function () {
    var folded = ".alerts > details:not(.account)";
    Array.prototype.forEach.call(document.querySelectorAll(folded), function (d) {
      d.open = true;
    });
  });

  addSortButtons();
  drawCharts();
})();
