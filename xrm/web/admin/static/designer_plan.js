/* Review and apply: the migration plan of the draft with every operation's risk and the rows
 * its checks found (count and samples), confirmation for checked/destructive plans, a "set to
 * null" fallback for failing conversions of optional fields, then apply with the plan's
 * baseVersion so a change made meanwhile is refused (409) instead of applied blindly. */
(function () {
  "use strict";
  var el = XA.el;
  var out = document.getElementById("xa-plan");
  var reviewBtn = document.getElementById("xa-review");
  var current = null;

  function invalidate() {
    if (!current) return;
    current = null;
    XA.clear(out).appendChild(el("p", {class: "text-muted"}, "The draft changed: review the plan again before applying."));
  }

  function body(extra) {
    var st = XA.designer.state;
    // Removing the entity archives its table (restorable by an administrator with the CLI).
    var base = st.removing ? {definitions: [], removed: [XA.designer.name]} : {definitions: [st.doc]};
    return Object.assign(base, extra || {});
  }

  function fieldOf(op) { return op.new || op.field || op.old || ""; }

  function isRequired(op) {
    return (XA.designer.state.doc.required || []).indexOf(fieldOf(op)) >= 0;
  }

  function checkCell(op, fallbacks) {
    var c = op.check;
    if (!c) return el("td", {class: "text-muted"}, op.risk === "checked" ? "no rows to check" : "");
    var cell = el("td", {class: "xa-check", dataset: {failing: String(c.failing || 0)}},
      el("strong", {class: c.failing ? "text-danger" : "text-success"}, (c.failing || 0) + " row(s) would not fit"),
      c.message ? el("div", {class: "small"}, c.message) : null);
    if (c.samples && c.samples.length) {
      cell.appendChild(el("ul", {class: "small xa-samples"}, c.samples.map(function (s) {
        return el("li", {}, (s.id !== undefined ? "#" + s.id + ": " : "") + XA.short(s.value, 60) +
          (s.count ? " \u00d7" + s.count : "") + (s.message ? " \u2014 " + s.message : ""));
      })));
    }
    var key = op.entity + "." + fieldOf(op);
    if (c.failing && (op.op === "convert_field" || op.op === "alter_field") && !isRequired(op) && !c.duplicates) {
      var choice = XA.select([["", "refuse: I will fix the data"], ["null", "set the failing values to null"]], fallbacks[key] || "",
        {class: "form-control input-sm", name: "fallback", "aria-label": "Fallback for " + key, dataset: {key: key}});
      choice.addEventListener("change", function () { if (choice.value) fallbacks[key] = choice.value; else delete fallbacks[key]; });
      cell.appendChild(el("label", {class: "small"}, "Rows that do not convert: ", choice));
    }
    return cell;
  }

  function render(plan) {
    var fallbacks = {};
    current = {plan: plan, fallbacks: fallbacks};
    XA.clear(out);
    var needsConfirm = plan.risk !== "safe";
    out.appendChild(el("h4", {}, "Migration plan ", XA.riskBadge(plan.risk),
      el("small", {}, " from metadata version " + plan.baseVersion)));
    if (!plan.operations.length) {
      out.appendChild(el("p", {class: "xa-plan-empty"}, "Nothing to change: the draft is what is stored."));
      return;
    }
    out.appendChild(el("table", {class: "table table-condensed xa-plan-table"},
      el("thead", {}, el("tr", {}, el("th", {}, "Risk"), el("th", {}, "Operation"), el("th", {}, "What happens"), el("th", {}, "Existing data"))),
      el("tbody", {}, plan.operations.map(function (op) {
        return el("tr", {class: op.risk === "destructive" ? "danger" : op.risk === "checked" ? "warning" : "", dataset: {op: op.op}},
          el("td", {}, XA.riskBadge(op.risk)), el("td", {}, el("code", {}, op.op)), el("td", {}, op.description), checkCell(op, fallbacks));
      }))));
    if (plan.problems && plan.problems.length) {
      XA.designer.showProblems(plan.problems);
      out.appendChild(el("div", {class: "alert alert-danger"}, "This plan cannot be applied: ",
        el("ul", {}, plan.problems.map(function (p) { return el("li", {}, p.pointer + ": " + p.message); }))));
      return;
    }
    var confirmBox = needsConfirm ? el("input", {type: "checkbox", name: "confirm-plan"}) : null;
    if (needsConfirm) {
      var risky = plan.operations.filter(function (o) { return o.risk !== "safe"; }).length;
      out.appendChild(el("div", {class: "checkbox xa-confirm " + (plan.risk === "destructive" ? "text-danger" : "text-warning")},
        el("label", {}, confirmBox, " I have read the " + risky + " checked or destructive operation(s) above and want to apply them.")));
    }
    var apply = el("button", {type: "button", class: "btn btn-" + (plan.risk === "safe" ? "success" : "danger"), id: "xa-apply",
      onclick: function () { doApply(confirmBox, apply); }}, "Apply");
    out.appendChild(apply);
  }

  function review() {
    var doc = XA.designer.state.doc;
    if (!doc["x-xrm"].name) { XA.alert("danger", "Give the entity a name first (namespace.entity)."); return Promise.resolve(); }
    reviewBtn.disabled = true;
    XA.clear(out).appendChild(el("p", {}, "Planning\u2026"));
    return XA.api("POST", "/meta/plan", body()).then(function (plan) {
      XA.designer.showProblems(plan.problems || []);
      render(plan);
    }).catch(function (err) {
      XA.clear(out);
      if (err.problem && err.problem.errors) {
        var general = XA.designer.showProblems(err.problem.errors);
        XA.alert("danger", "The definition has " + err.problem.errors.length + " problem(s); they are shown at their fields." +
          (general.length ? "" : ""));
      } else XA.showError(err, "Planning failed");
    }).then(function () { reviewBtn.disabled = false; });
  }

  function doApply(confirmBox, button) {
    if (confirmBox && !confirmBox.checked) {
      XA.alert("warning", "Tick the confirmation first: this plan has " + current.plan.risk + " operations.");
      return;
    }
    button.disabled = true;
    var payload = body({confirm: !!(confirmBox && confirmBox.checked), fallbacks: current.fallbacks, baseVersion: current.plan.baseVersion});
    XA.api("POST", "/meta/apply", payload).then(function (res) {
      var entity = XA.designer.state.doc["x-xrm"].name;
      if (XA.designer.state.removing) {
        window.location.href = "/admin/entities?removed=" + encodeURIComponent(entity);
        return;
      }
      if (!XA.designer.name) {
        window.location.href = "/admin/entities/" + encodeURIComponent(entity) + "?applied=" + res.version;
        return;
      }
      XA.clear(out);
      XA.alert("success", "Applied: metadata version " + res.version + ". " + entity + " is live.");
      XA.designer.reload();
    }).catch(function (err) {
      button.disabled = false;
      var p = err.problem || {};
      if (err.status === 409 && p.report && p.report.length) {
        XA.alert("danger", p.detail || "Refused", p.report.map(function (r) {
          return (r.operation ? r.operation.description + ": " : (r.pointer ? r.pointer + ": " : "")) + (r.failing !== undefined ? r.failing + " row(s) do not fit" : r.message || "");
        }));
      } else if (p.errors) {
        XA.designer.showProblems(p.errors);
        XA.alert("danger", "The definition has problems; they are shown at their fields.");
      } else XA.showError(err, "Apply failed");
    });
  }

  reviewBtn.addEventListener("click", function () { XA.designer.state.removing = false; review(); });
  var removeBtn = document.getElementById("xa-remove-entity");
  if (removeBtn) removeBtn.addEventListener("click", function () { XA.designer.state.removing = true; review(); });
  if (/[?&]applied=(\d+)/.test(window.location.search)) {
    XA.alert("success", "Applied: metadata version " + RegExp.$1 + ". The entity is live.");
  }
  XA.designerPlan = {invalidate: invalidate, review: review};
})();
