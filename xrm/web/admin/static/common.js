/* Shared helpers of the admin pages (vanilla JS, no build step).
 *
 * Every stored value is inserted with textContent / attribute setters through XA.el, never
 * through innerHTML, so a label such as "<script>alert(1)</script>" is shown, not run. */
(function () {
  "use strict";

  var root = document.getElementById("xa-root");
  var dataNode = document.getElementById("xa-page-data");

  function ApiError(status, problem) {
    this.status = status;
    this.problem = problem || {};
    this.message = (problem && (problem.detail || problem.title)) || "HTTP " + status;
  }
  ApiError.prototype = Object.create(Error.prototype);

  /* Build an element: XA.el("a", {href: "/x", class: "btn", onclick: fn}, "text", child). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (key) {
      var v = a[key];
      if (v === undefined || v === null || v === false) return;
      if (key === "class") node.className = v;
      else if (key === "text") node.textContent = v;
      else if (key === "dataset") Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
      else if (key.slice(0, 2) === "on" && typeof v === "function") node.addEventListener(key.slice(2), v);
      else if (key === "value") node.value = v;
      else if (key === "checked" || key === "disabled" || key === "selected" || key === "multiple") node[key] = !!v;
      else if (key === "style" && typeof v === "object") Object.keys(v).forEach(function (s) { node.style[s] = v[s]; });
      else node.setAttribute(key, v === true ? "" : String(v));
    });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function api(method, path, body) {
    var headers = {"Accept": "application/json"};
    var init = {method: method, credentials: "same-origin", headers: headers};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET") headers["X-CSRFToken"] = root ? root.dataset.csrf : "";
    return fetch("/api/v1" + path, init).then(function (res) {
      if (res.status === 204) return null;
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = {detail: text.slice(0, 300)}; }
        if (!res.ok) throw new ApiError(res.status, data);
        return data;
      });
    });
  }

  function alertBox(kind, message, details) {
    var box = document.getElementById("xa-alerts");
    var node = el("div", {class: "alert alert-" + kind + " xa-alert", role: kind === "danger" ? "alert" : "status"},
      el("button", {type: "button", class: "close", "aria-label": "Close", onclick: function () { node.remove(); }}, "\u00d7"),
      el("strong", {}, message));
    if (details && details.length) {
      node.appendChild(el("ul", {}, details.map(function (d) { return el("li", {}, d); })));
    }
    if (box) { clear(box); box.appendChild(node); }
    return node;
  }

  function showError(err, prefix) {
    if (err instanceof ApiError) {
      var p = err.problem || {};
      var details = (p.errors || []).map(function (e) {
        if (typeof e === "string") return e;
        return (e.pointer ? e.pointer + ": " : (e.field ? e.field + ": " : "")) + (e.message || JSON.stringify(e));
      });
      return alertBox("danger", (prefix ? prefix + ": " : "") + (p.detail || p.title || err.message), details);
    }
    return alertBox("danger", (prefix ? prefix + ": " : "") + String(err && err.message || err));
  }

  function riskBadge(risk) {
    var kinds = {safe: "success", checked: "warning", destructive: "danger"};
    return el("span", {class: "label label-" + (kinds[risk] || "default") + " xa-risk", dataset: {risk: risk || ""}}, risk || "?");
  }

  function field(label, input, help) {
    var id = input.id || ("xa-f-" + Math.random().toString(36).slice(2));
    input.id = id;
    if (!input.classList.contains("form-control") && input.type !== "checkbox") input.classList.add("form-control");
    if (input.type === "checkbox") {
      return el("div", {class: "checkbox"}, el("label", {}, input, " ", label), help ? el("p", {class: "help-block"}, help) : null);
    }
    return el("div", {class: "form-group"}, el("label", {for: id}, label), input,
      help ? el("p", {class: "help-block"}, help) : null);
  }

  function select(options, value, attrs) {
    var s = el("select", attrs || {});
    options.forEach(function (o) {
      var v = Array.isArray(o) ? o[0] : o, label = Array.isArray(o) ? o[1] : o;
      s.appendChild(el("option", {value: v, selected: v === value}, label));
    });
    if (value !== undefined) s.value = value;
    return s;
  }

  function fmtDate(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function short(value, max) {
    var s = typeof value === "string" ? value : JSON.stringify(value);
    if (s === undefined) s = "";
    max = max || 120;
    return s.length > max ? s.slice(0, max - 1) + "\u2026" : s;
  }

  window.XA = {
    el: el, append: append, clear: clear, api: api, ApiError: ApiError, alert: alertBox,
    showError: showError, riskBadge: riskBadge, field: field, select: select,
    fmtDate: fmtDate, short: short,
    page: dataNode ? JSON.parse(dataNode.textContent) : {},
    root: root,
    enc: encodeURIComponent
  };
})();
