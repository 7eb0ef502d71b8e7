/* Review and apply a metadata plan (POST /meta/plan, then /meta/apply with the plan's
 * baseVersion): every operation with its risk and the rows its check found, a confirmation for
 * plans that are not safe, and "set to null" for failing values of optional fields. Used by the
 * option set editor; ``opts``: {out, body() -> {definitions}, problems(errors) -> shown,
 * applied(result)}. */
(function () {
  "use strict";
  var el = XA.el;

  XA.planView = function (opts) {
    var out = opts.out, current = null;

    function invalidate() {
      if (!current) return;
      current = null;
      XA.clear(out).appendChild(el("p", {class: "text-muted"}, "The draft changed: review the plan again before applying."));
    }

    function render(plan) {
      var fallbacks = {};
      current = plan;
      XA.clear(out);
      out.appendChild(el("h4", {}, "Migration plan ", XA.riskBadge(plan.risk), el("small", {}, " from metadata version " + plan.baseVersion)));
      if (plan.optionSets && plan.optionSets.length) out.appendChild(el("p", {}, "Option sets added or changed: ", plan.optionSets.map(function (n) { return el("code", {class: "xa-tag"}, n); })));
      if (!plan.operations.length) out.appendChild(el("p", {class: "xa-plan-empty text-muted"}, plan.optionSets && plan.optionSets.length ? "No field uses the set yet: no table changes." : "Nothing to change."));
      else {
        out.appendChild(el("table", {class: "table table-condensed xa-plan-table"},
          el("thead", {}, el("tr", {}, ["Risk", "Operation", "Rows"].map(function (h) { return el("th", {}, h); }))),
          el("tbody", {}, plan.operations.map(function (op) {
            var c = op.check, fld = op.new || op.field || op.old || "", key = op.entity + "." + fld;
            var cell = el("td", {}, c ? el("span", {class: c.failing ? "text-danger" : "text-success"}, (c.failing || 0) + " row(s) would not fit") : "");
            if (c && c.samples && c.samples.length) cell.appendChild(el("ul", {class: "small xa-samples"}, c.samples.map(function (s) { return el("li", {}, "#" + s.id + ": " + XA.short(s.value, 60) + (s.message ? " \u2014 " + s.message : "")); })));
            if (c && c.failing && fld) {
              var choice = XA.select([["", "refuse: I will fix the data"], ["null", "set the failing values to null"]], "", {class: "form-control input-sm", name: "fallback", "aria-label": "Fallback for " + key});
              choice.addEventListener("change", function () { if (choice.value) fallbacks[key] = choice.value; else delete fallbacks[key]; });
              cell.appendChild(choice);
            }
            return el("tr", {dataset: {op: op.op}}, el("td", {}, XA.riskBadge(op.risk)), el("td", {}, op.description || op.op), cell);
          }))));
      }
      var confirm = el("input", {type: "checkbox", name: "confirm-plan"});
      var apply = el("button", {type: "button", class: "btn btn-success", id: "xa-apply", onclick: function () {
        apply.disabled = true;
        var body = Object.assign(opts.body(), {baseVersion: plan.baseVersion, confirm: confirm.checked, fallbacks: fallbacks});
        XA.api("POST", "/meta/apply", body).then(function (res) {
          current = null;
          XA.clear(out);
          opts.applied(res);
        }).catch(function (err) { fail(err, "Not applied"); }).then(function () { apply.disabled = false; });
      }}, el("i", {class: "fa fa-check"}), " Apply");
      out.appendChild(el("div", {class: "xa-review"}, plan.risk !== "safe" ? el("div", {class: "checkbox"}, el("label", {}, confirm,
        " I have read the plan: apply the " + plan.risk + " changes")) : null, apply));
    }

    function fail(err, prefix) {
      var p = err.problem || {};
      if (err.status === 422 && p.errors) {
        var left = opts.problems(p.errors);
        XA.alert("danger", prefix + ": " + (p.detail || "the document has problems") + (left.length ? "" : " (shown at their inputs)"),
          left.map(function (e) { return (e.pointer || "/") + ": " + e.message; }));
        return;
      }
      if (p.report && p.report.length) {
        XA.alert("danger", prefix + ": " + (p.detail || err.message), p.report.map(function (r) { return r.message || JSON.stringify(r); }));
        return;
      }
      XA.showError(err, prefix);
    }

    function review() {
      opts.problems([]);
      return XA.api("POST", "/meta/plan", opts.body()).then(function (plan) {
        Array.prototype.forEach.call(document.querySelectorAll("#xa-alerts .alert-danger"), function (n) { n.remove(); });
        if (plan.problems && plan.problems.length) {
          opts.problems(plan.problems);
          XA.clear(out).appendChild(el("div", {class: "alert alert-danger"}, "The plan has problems:",
            el("ul", {}, plan.problems.map(function (p) { return el("li", {}, (p.pointer || "/") + ": " + p.message); }))));
          current = null;
          return;
        }
        render(plan);
      }).catch(function (err) { XA.clear(out); current = null; fail(err, "Cannot plan"); });
    }

    return {review: review, invalidate: invalidate};
  };
})();
