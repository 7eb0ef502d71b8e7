/* xRM UI core: the REST client (session cookie + CSRF header, problem+json errors), a DOM
   builder that only ever sets text (stored values are never parsed as HTML), and value
   formatting per field type. No framework; loaded on every page of the generated UI. */
(function (window) {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var configNode = document.getElementById("xrm-page");
  var page = configNode ? JSON.parse(configNode.textContent || "{}") : {};

  function ApiError(status, problem) {
    this.status = status;
    this.problem = problem || {};
    this.message = (problem && (problem.detail || problem.title)) || ("HTTP " + status);
    this.errors = (problem && problem.errors) || [];
  }
  ApiError.prototype = Object.create(Error.prototype);

  /* api(method, path, body, headers) -> Promise of {status, data, headers}. Paths are relative
     to /api/v1. Non-2xx answers reject with an ApiError carrying the problem document. */
  function api(method, path, body, headers) {
    var opts = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (method !== "GET" && method !== "HEAD") opts.headers["X-CSRFToken"] = csrf;
    if (body !== undefined && body !== null) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    Object.keys(headers || {}).forEach(function (k) { opts.headers[k] = headers[k]; });
    return fetch(page.apiBase + path, opts).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      var parse = res.status === 204 ? Promise.resolve(null)
        : type.indexOf("json") >= 0 ? res.json() : res.text();
      return parse.then(function (data) {
        if (!res.ok) throw new ApiError(res.status, typeof data === "object" ? data : {detail: String(data)});
        return {status: res.status, data: data, headers: res.headers};
      });
    });
  }

  /* el("div", {class: "x", onclick: fn, dataset: {a: 1}}, "text", child, [children]) */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k.slice(0, 2) === "on" && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
      else if (k === "value") node.value = v;
      else if (k === "checked" || k === "selected" || k === "disabled" || k === "multiple") node[k] = !!v;
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    append(node, Array.prototype.slice.call(arguments, 2));
    return node;
  }
  function append(node, children) {
    children.forEach(function (c) {
      if (c === undefined || c === null || c === false) return;
      if (Array.isArray(c)) append(node, c);
      else node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function alertBox(message) {
    var box = document.getElementById("xrm-alert");
    if (!box) return;
    if (!message) { box.classList.add("hidden"); clear(box); return; }
    clear(box).appendChild(document.createTextNode(message));
    box.classList.remove("hidden");
  }
  function toast(message, kind) {
    var t = el("div", {class: "xrm-toast alert alert-" + (kind || "success"), role: "status"}, message);
    document.body.appendChild(t);
    setTimeout(function () { t.remove(); }, 4000);
  }

  /* Formatting of stored values for display (text only). */
  var titles = {};  // "entity:id" -> title, filled by lookups
  function fieldMap(form) {
    var m = {};
    (form.fields || []).forEach(function (f) { m[f.name] = f; });
    return m;
  }
  function optionLabel(f, v) {
    var o = (f.options || []).filter(function (o) { return o.value === v; })[0];
    return o ? o.label : v;
  }
  function format(f, v) {
    if (v === null || v === undefined || v === "") return "";
    if (!f) return typeof v === "object" ? JSON.stringify(v) : String(v);
    switch (f.type) {
      case "boolean": return v ? "Yes" : "No";
      case "choice": return optionLabel(f, v);
      case "multichoice": return (v || []).map(function (x) { return optionLabel(f, x); }).join(", ");
      case "money": return v.amount === null || v.amount === undefined ? "" :
        Number(v.amount).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 4}) + " " + (v.currency || "");
      case "datetime": return new Date(v).toLocaleString();
      case "date": return v;
      case "reference":
        if (typeof v === "object") return v.__title || ("#" + v.id);
        return titles[f.target + ":" + v] || ("#" + v);
      case "manytomany":
        return (v || []).map(function (x) {
          return typeof x === "object" ? (x.__title || "#" + x.id) : (titles[f.target + ":" + x] || "#" + x);
        }).join(", ");
      case "regarding": return v.entity + " #" + v.id;
      case "json": return JSON.stringify(v);
      default: return String(v);
    }
  }

  /* Titles of referenced records, fetched in one request per target entity. */
  var metaCache = {};
  function entityMeta(name) {
    if (!metaCache[name]) {
      metaCache[name] = fetch(page.uiBase + "/" + encodeURIComponent(name) + "/form-spec",
        {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) throw new ApiError(r.status, {detail: "cannot read " + name});
        return r.json();
      });
    }
    return metaCache[name];
  }
  function titleOf(meta, rec) {
    var t = meta && meta.titleField ? rec[meta.titleField] : null;
    return t === null || t === undefined || t === "" ? "#" + rec.id : String(t);
  }
  function loadTitles(target, ids) {
    ids = ids.filter(function (id) { return id !== null && id !== undefined && !(target + ":" + id in titles); });
    if (!ids.length) return Promise.resolve();
    return entityMeta(target).then(function (meta) {
      var sel = meta.titleField ? "&select=id," + meta.titleField : "&select=id";
      var unique = ids.filter(function (v, i) { return ids.indexOf(v) === i; }).slice(0, 1000);
      return api("GET", "/data/" + encodeURIComponent(target) + "?id=in.(" + unique.join(",") + ")" + sel + "&limit=1000")
        .then(function (r) {
          unique.forEach(function (id) { titles[target + ":" + id] = "#" + id; });
          r.data.items.forEach(function (rec) { titles[target + ":" + rec.id] = titleOf(meta, rec); });
        });
    }).catch(function () {
      ids.forEach(function (id) { titles[target + ":" + id] = "#" + id; });
    });
  }
  /* Resolve the titles of every reference in ``records`` for the given fields. */
  function resolveTitles(fields, records) {
    var byTarget = {};
    fields.forEach(function (f) {
      if (f.type !== "reference" && f.type !== "manytomany") return;
      records.forEach(function (r) {
        var v = r[f.name];
        (Array.isArray(v) ? v : [v]).forEach(function (x) {
          if (x !== null && x !== undefined && typeof x !== "object") (byTarget[f.target] = byTarget[f.target] || []).push(x);
        });
      });
    });
    return Promise.all(Object.keys(byTarget).map(function (t) { return loadTitles(t, byTarget[t]); }));
  }

  function recordUrl(entity, id) { return page.uiBase + "/" + encodeURIComponent(entity) + "/" + id; }
  function link(f, v) {
    if ((f && f.type === "reference") && v !== null && v !== undefined) {
      var id = typeof v === "object" ? v.id : v;
      return el("a", {href: recordUrl(f.target, id)}, format(f, v));
    }
    return document.createTextNode(format(f, v));
  }

  function qs(params) {
    return params.filter(function (p) { return p[1] !== undefined && p[1] !== null && p[1] !== ""; })
      .map(function (p) { return encodeURIComponent(p[0]) + "=" + encodeURIComponent(p[1]); }).join("&");
  }

  window.xrm = {
    page: page, api: api, ApiError: ApiError, el: el, append: append, clear: clear,
    alert: alertBox, toast: toast, format: format, fieldMap: fieldMap, optionLabel: optionLabel,
    titles: titles, titleOf: titleOf, entityMeta: entityMeta, loadTitles: loadTitles,
    resolveTitles: resolveTitles, recordUrl: recordUrl, link: link, qs: qs
  };
})(window);
