/* keras_restore results site: sortable tables, broken-image marking, and a self-test.
   Open a page with the URL hash #selftest to sort every table by one column (ascending, then
   descending) and write a JSON report into <script id="selftest-result"> and
   <body data-selftest="pass|fail"> (read by tests/site/test_site.py through chromium --dump-dom). */
(function () {
  "use strict";

  function cellValue(row, idx) {
    var cell = row.cells[idx];
    if (!cell) return { num: null, text: "" };
    var s = cell.getAttribute("data-sort");
    var text = (s !== null ? s : cell.textContent).trim();
    var num = text === "" ? NaN : Number(text);
    return { num: isNaN(num) ? null : num, text: text };
  }

  function compare(a, b) {                      // numbers before text, numbers numerically
    if (a.num !== null && b.num !== null) return a.num - b.num;
    if (a.num !== null) return -1;
    if (b.num !== null) return 1;
    return a.text.localeCompare(b.text, undefined, { numeric: true, sensitivity: "base" });
  }

  function ordered(x, y, dir) {                 // empty cells last in both directions
    var ex = x.text === "", ey = y.text === "";
    if (ex !== ey) return ex ? 1 : -1;
    var c = compare(x, y);
    return dir === "descending" ? -c : c;
  }

  function sortBy(table, th) {
    var idx = th.cellIndex;
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var body = table.tBodies[0];
    var items = Array.prototype.map.call(body.rows, function (r, i) {
      return { row: r, v: cellValue(r, idx), i: i };
    });
    items.sort(function (a, b) { return ordered(a.v, b.v, dir) || a.i - b.i; });
    items.forEach(function (it) { body.appendChild(it.row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }

  function initTables() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      if (!table.tHead || !table.tBodies.length) return;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
        var button = th.querySelector("button");
        if (button) button.addEventListener("click", function () { sortBy(table, th); });
      });
    });
  }

  function markImages() {
    var report = { total: 0, ok: 0, broken: [] };
    Array.prototype.forEach.call(document.images, function (img) {
      var good = img.complete && img.naturalWidth > 0;
      img.setAttribute("data-img", good ? "ok" : "broken");
      if (!good) { img.classList.add("broken"); report.broken.push(img.getAttribute("src")); }
      report.total += 1; report.ok += good ? 1 : 0;
    });
    return report;
  }

  function columnValues(table, idx) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return cellValue(r, idx); });
  }

  function isSorted(values, dir) {
    for (var i = 1; i < values.length; i++) {
      if (ordered(values[i - 1], values[i], dir) > 0) return false;
    }
    return true;
  }

  function selftest(images) {
    var report = { tables: {}, sort: {}, images: images, errors: [] };
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var key = table.getAttribute("data-table");
      var ths = table.tHead.rows[0].cells;
      report.tables[key] = table.tBodies[0].rows.length;
      var idx = 0;                               // the first numeric column with two distinct values
      for (var j = 0; j < ths.length; j++) {
        if (!ths[j].hasAttribute("data-numeric")) continue;
        var seen = {};
        columnValues(table, j).forEach(function (v) { seen[v.text] = 1; });
        if (Object.keys(seen).length > 1) { idx = j; break; }
      }
      var button = ths[idx].querySelector("button");
      button.click();
      var asc = columnValues(table, idx);
      var labelsAsc = columnValues(table, 0).map(function (v) { return v.text; });
      var ascOk = isSorted(asc, "ascending") && ths[idx].getAttribute("aria-sort") === "ascending";
      button.click();
      var desc = columnValues(table, idx);
      var descOk = isSorted(desc, "descending") && ths[idx].getAttribute("aria-sort") === "descending";
      report.sort[key] = { column: ths[idx].textContent.trim(), ascending: ascOk, descending: descOk,
                           values_asc: asc.map(function (v) { return v.text; }), labels_asc: labelsAsc };
      if (!ascOk || !descOk) report.errors.push("sorting " + key + " by " + ths[idx].textContent.trim());
    });
    if (images.broken.length) report.errors.push("broken images: " + images.broken.join(", "));
    var out = document.createElement("script");
    out.type = "application/json";
    out.id = "selftest-result";
    out.textContent = JSON.stringify(report);
    document.body.appendChild(out);
    document.body.setAttribute("data-selftest", report.errors.length ? "fail" : "pass");
  }

  initTables();
  window.addEventListener("load", function () {
    var images = markImages();
    if (window.location.hash === "#selftest") selftest(images);
  });
})();
