/* Plugins: the catalogue (GET /admin/plugins) with install / upgrade (plan first, then apply
 * with confirmation when the plan is not safe), enable / disable and uninstall. */
(function () {
  "use strict";
  var el = XA.el;
  var body = document.querySelector("#xa-plugins tbody");
  var detail = document.getElementById("xa-plugin-detail");
  var STATUS = {installed: "success", available: "default", disabled: "warning", upgradable: "info", missing: "danger", "off-by-env": "warning"};

  function act(method, path, payload, done) {
    return XA.api(method, "/admin/plugins/" + path, payload).then(function (res) {
      if (done) XA.alert("success", done);
      load();
      return res;
    }).catch(function (err) { XA.showError(err, "The plugin change failed"); });
  }

  /* Install or upgrade: show the dry-run plan, then apply (confirm for a risky plan). */
  function planned(p, action) {
    XA.api("POST", "/admin/plugins/" + XA.enc(p.name) + "/" + action, {dry_run: true}).then(function (plan) {
      var ops = (plan.definitions && plan.definitions.operations) || [];
      var risk = plan.risk || "safe";
      var extras = [];
      (plan.roles || []).forEach(function (r) { extras.push("role " + r.name + ": " + r.action); });
      (plan.workflows || []).forEach(function (w) { extras.push("workflow " + w); });
      (plan.rules || []).forEach(function (r) { extras.push("rule set " + r); });
      (plan.dataMigrations || []).forEach(function (m) { extras.push("data migration " + m.version + ": " + (m.description || "")); });
      (plan.warnings || []).forEach(function (w) { extras.push("warning: " + w); });
      var confirmBox = risk !== "safe" ? el("input", {type: "checkbox", name: "confirm-plugin"}) : null;
      XA.clear(detail).appendChild(el("div", {class: "panel panel-default", id: "xa-plugin-plan"},
        el("div", {class: "panel-heading"}, action === "install" ? "Install " : "Upgrade ", el("code", {}, p.name), " ", XA.riskBadge(risk)),
        el("div", {class: "panel-body"},
          ops.length ? el("ul", {}, ops.map(function (op) { return el("li", {}, XA.riskBadge(op.risk), " ", op.description || op.op); }))
            : el("p", {class: "text-muted"}, "No definition changes."),
          extras.length ? el("ul", {}, extras.map(function (x) { return el("li", {}, x); })) : null,
          confirmBox ? el("div", {class: "checkbox"}, el("label", {}, confirmBox, " Apply the " + risk + " operations")) : null,
          el("button", {type: "button", class: "btn btn-primary", name: "apply-plugin", onclick: function () {
            if (confirmBox && !confirmBox.checked) { XA.alert("warning", "Tick the confirmation first."); return; }
            act("POST", XA.enc(p.name) + "/" + action, {confirm: !!confirmBox}, p.name + ": " + action + " done.").then(function () { XA.clear(detail); });
          }}, action === "install" ? "Install" : "Upgrade"))));
    }).catch(function (err) { XA.showError(err, "Could not plan " + action + " of " + p.name); });
  }

  function show(p) {
    XA.api("GET", "/admin/plugins/" + XA.enc(p.name)).then(function (d) {
      var contributes = d.contributes || {};
      XA.clear(detail).appendChild(el("div", {class: "panel panel-default"},
        el("div", {class: "panel-heading"}, el("code", {}, d.name), " ", d.label || ""),
        el("div", {class: "panel-body"}, el("p", {}, d.description || ""),
          el("p", {}, "Entities it owns: ", (d.entities || []).join(", ") || "none"),
          el("p", {}, "Entities it extends: ", (d.extends || []).join(", ") || "none"),
          el("ul", {}, Object.keys(contributes).filter(function (k) { return contributes[k].length; }).map(function (k) {
            return el("li", {}, k.replace(/_/g, " ") + ": " + contributes[k].join(", "));
          })))));
    }).catch(function (err) { XA.showError(err, "Could not load " + p.name); });
  }

  function buttons(p) {
    var b = [];
    var btn = function (label, name, cls, fn) { b.push(el("button", {type: "button", class: "btn btn-xs " + cls, name: name, onclick: fn}, label), " "); };
    btn("Details", "details", "btn-default", function () { show(p); });
    if (p.status === "available") btn("Install\u2026", "install", "btn-primary", function () { planned(p, "install"); });
    if (p.status === "upgradable") btn("Upgrade\u2026", "upgrade", "btn-info", function () { planned(p, "upgrade"); });
    if (p.status === "disabled") btn("Enable", "enable", "btn-success", function () { act("POST", XA.enc(p.name) + "/enable", undefined, p.name + " enabled."); });
    if (["installed", "upgradable", "off-by-env"].indexOf(p.status) >= 0) {
      btn("Disable", "disable", "btn-warning", function () { act("POST", XA.enc(p.name) + "/disable", undefined, p.name + " disabled."); });
    }
    if (p.installed) {
      btn("Uninstall", "uninstall", "btn-danger", function () {
        if (window.confirm("Uninstall " + p.name + "? Its entities stay unless they hold no data.")) act("DELETE", XA.enc(p.name), undefined, p.name + " uninstalled.");
      });
    }
    return b;
  }

  function load() {
    return XA.api("GET", "/admin/plugins").then(function (data) {
      XA.clear(body);
      data.items.forEach(function (p) {
        body.appendChild(el("tr", {dataset: {plugin: p.name}},
          el("td", {}, el("strong", {}, p.label || p.name), el("div", {}, el("code", {class: "small"}, p.name)),
            el("div", {class: "small text-muted"}, XA.short(p.description || "", 140))),
          el("td", {}, p.version || "\u2014"),
          el("td", {}, p.installed ? p.installed.installedVersion + " \u00b7 " + XA.fmtDate(p.installed.installedAt) : "\u2014"),
          el("td", {}, el("span", {class: "label label-" + (STATUS[p.status] || "default"), dataset: {status: p.status}}, p.status)),
          el("td", {class: "small"}, (p.requires || []).join(", "), (p.requiredBy || []).length ? el("div", {class: "text-muted"}, "needed by " + p.requiredBy.join(", ")) : null),
          el("td", {class: "text-right"}, buttons(p))));
      });
      if (!data.items.length) body.appendChild(el("tr", {}, el("td", {colspan: 6, class: "text-muted"}, "No plugin is installed or available.")));
    }).catch(function (err) { XA.showError(err, "Could not load the plugins"); });
  }
  load();
})();
