/* Line diff of two JSON documents (pretty-printed with sorted keys, so key order is no change):
 * a longest-common-subsequence table, fine for definition documents of a few hundred lines.
 * XA.jsonDiff(a, b) -> [{kind: " "|"+"|"-", text}] ; XA.diffView(lines, context) -> element. */
(function () {
  "use strict";

  function sorted(value) {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).sort().forEach(function (k) { out[k] = sorted(value[k]); });
      return out;
    }
    return value;
  }

  function lines(doc) { return doc === null || doc === undefined ? [] : JSON.stringify(sorted(doc), null, 2).split("\n"); }

  function jsonDiff(a, b) {
    var x = lines(a), y = lines(b), n = x.length, m = y.length;
    var table = [];
    for (var i = 0; i <= n; i++) table.push(new Int32Array(m + 1));
    for (i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    var out = [];
    i = 0; j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) { out.push({kind: " ", text: x[i]}); i++; j++; }
      else if (table[i + 1][j] >= table[i][j + 1]) out.push({kind: "-", text: x[i++]});
      else out.push({kind: "+", text: y[j++]});
    }
    while (i < n) out.push({kind: "-", text: x[i++]});
    while (j < m) out.push({kind: "+", text: y[j++]});
    return out;
  }

  /* Changed lines with ``context`` unchanged lines around them; gaps shown as "…". */
  function diffView(diff, context) {
    context = context === undefined ? 2 : context;
    var keep = diff.map(function () { return false; });
    diff.forEach(function (d, i) {
      if (d.kind === " ") return;
      for (var k = Math.max(0, i - context); k <= Math.min(diff.length - 1, i + context); k++) keep[k] = true;
    });
    var pre = XA.el("pre", {class: "xa-diff"});
    var gap = false;
    diff.forEach(function (d, i) {
      if (!keep[i]) { if (!gap) pre.appendChild(XA.el("div", {class: "text-muted"}, "\u2026")); gap = true; return; }
      gap = false;
      pre.appendChild(XA.el("div", {class: d.kind === "+" ? "add" : d.kind === "-" ? "del" : ""}, d.kind + " " + d.text));
    });
    if (!diff.some(function (d) { return d.kind !== " "; })) pre.appendChild(XA.el("div", {class: "text-muted"}, "no change to the document"));
    return pre;
  }

  XA.jsonDiff = jsonDiff;
  XA.diffView = diffView;
})();
