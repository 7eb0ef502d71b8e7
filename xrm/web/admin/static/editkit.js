/* Form kit of the workflow and rule-set designers: small inputs that write straight into a JSON
 * document, lists of items (one card per item), and the structured editors of actions,
 * approvals and timers. Every input carries data-ptr, the JSON pointer the verifier reports, so a finding
 * lands at its input. Values go in with .value / textContent only (XA.el). */
(function () {
  "use strict";
  var el = XA.el;

  function setList(obj, key, list) { if (list && list.length) obj[key] = list; else delete obj[key]; }
  function setText(obj, key, text) { if (text) obj[key] = text; else delete obj[key]; }
  function group(label, input, extra) {
    return el("div", {class: "form-group form-group-sm" + (extra ? " " + extra : "")}, el("label", {class: "small"}, label), input);
  }

  function multi(options, chosen, attrs, onchange) {
    chosen = [].concat(chosen || []);
    var all = options.concat(chosen.filter(function (c) { return options.indexOf(c) < 0; }));
    var s = el("select", Object.assign({multiple: true, class: "form-control input-sm", size: Math.min(5, Math.max(2, all.length))}, attrs));
    all.forEach(function (o) { s.appendChild(el("option", {value: o, selected: chosen.indexOf(o) >= 0}, o)); });
    s.addEventListener("change", function () {
      onchange(Array.prototype.filter.call(s.options, function (o) { return o.selected; }).map(function (o) { return o.value; }));
    });
    return s;
  }

  /* A JSON textarea bound to obj[key] (empty: the key is removed). */
  function jsonArea(obj, key, ptr, rows, changed, placeholder, name) {
    var area = el("textarea", {class: "form-control input-sm xa-code", rows: rows, spellcheck: "false", dataset: {ptr: ptr}, name: name || ("json-" + key),
      placeholder: placeholder || "", value: obj[key] === undefined ? "" : JSON.stringify(obj[key], null, 2)});
    area.addEventListener("change", function () {
      var text = area.value.trim();
      var box = area.closest(".form-group") || area.parentNode;
      box.classList.remove("has-error");
      Array.prototype.forEach.call(box.querySelectorAll(".xa-json-error"), function (n) { n.remove(); });
      if (!text) { delete obj[key]; changed(); return; }
      try { obj[key] = JSON.parse(text); changed(); } catch (e) {
        box.classList.add("has-error");
        box.appendChild(el("p", {class: "help-block small xa-json-error"}, "Not valid JSON: " + e.message));
      }
    });
    return area;
  }

  /* One input of an item. spec: {key, label, kind: text|cel|textarea|field|fields|select|json|number|check, options, placeholder} */
  function input(obj, spec, ptr, ctx, rerender) {
    var p = ptr + "/" + spec.key, name = spec.name || spec.key, kind = spec.kind || "text";
    var attrs = {name: name, "aria-label": spec.label, dataset: {ptr: p}};
    if (kind === "approvers") {
      // One role is stored as "role", several as "roles" (the meta-schema wants exactly one).
      var chosen = obj.roles || (obj.role ? [obj.role] : []);
      return multi(ctx.roles || [], chosen, Object.assign(attrs, {dataset: {ptr: ptr + "/role"}}), function (v) {
        delete obj.role; delete obj.roles;
        if (v.length === 1) obj.role = v[0]; else if (v.length) obj.roles = v;
        ctx.changed();
      });
    }
    if (kind === "fields" || kind === "roles") {
      var opts = kind === "roles" ? ctx.roles : (typeof spec.options === "function" ? spec.options(obj) : ctx.fields);
      return multi(opts || [], obj[spec.key], attrs, function (v) { setList(obj, spec.key, v); ctx.changed(); });
    }
    if (kind === "field" || kind === "select") {
      var options = kind === "field" ? ctx.fields : (typeof spec.options === "function" ? spec.options(obj) : spec.options);
      var known = spec.value ? spec.value(obj) : obj[spec.key];
      var cur = known === undefined ? "" : String(known);
      var list = [["", spec.placeholder || "(choose)"]].concat(options.map(function (o) { return Array.isArray(o) ? o : [o, o]; }));
      if (cur && !list.some(function (o) { return o[0] === cur; })) list.push([cur, cur]);
      var s = XA.select(list, cur, Object.assign({class: "form-control input-sm"}, attrs));
      s.addEventListener("change", function () {
        if (spec.onset) spec.onset(obj, s.value); else setText(obj, spec.key, s.value);
        ctx.changed();
        if (spec.rerender) rerender();
      });
      return s;
    }
    if (kind === "check") {
      var box = el("input", Object.assign({type: "checkbox", checked: !!obj[spec.key]}, attrs));
      box.addEventListener("change", function () { if (box.checked) obj[spec.key] = true; else delete obj[spec.key]; ctx.changed(); });
      return el("div", {class: "checkbox"}, el("label", {class: "small"}, box, " " + spec.label));
    }
    if (kind === "json") return jsonArea(obj, spec.key, p, spec.rows || 2, ctx.changed, spec.placeholder, name);
    var tag = kind === "textarea" || kind === "cel" ? "textarea" : "input";
    var node = el(tag, Object.assign({class: "form-control input-sm" + (kind === "cel" ? " xa-code" : ""), placeholder: spec.placeholder || "",
      value: obj[spec.key] === undefined ? "" : String(obj[spec.key]), spellcheck: kind === "cel" ? "false" : null,
      rows: tag === "textarea" ? (spec.rows || 1) : null, type: kind === "number" ? "number" : null}, attrs));
    node.addEventListener("input", function () {
      var v = node.value.trim();
      if (kind === "number") { if (v === "") delete obj[spec.key]; else obj[spec.key] = Number(v); } else setText(obj, spec.key, v);
      ctx.changed(false, kind === "cel");
    });
    return node;
  }

  /* A list of items, one card each: spec.fields (inputs, laid out in spec.cols columns), spec.extra(item, ptr, ctx) for more. */
  function listEditor(owner, key, ptr, spec, ctx) {
    var box = el("div", {class: "xa-list", dataset: {list: spec.id || key}});
    function render() {
      XA.clear(box);
      var items = owner[key] || [];
      items.forEach(function (item, i) {
        var ip = ptr + "/" + i;
        var width = spec.width || 3;
        var cells = spec.fields.filter(function (f) { return !f.show || f.show(item); }).map(function (f) {
          return el("div", {class: "col-sm-" + (f.width || width)}, f.kind === "check" ? input(item, f, ip, ctx, render) : group(f.label, input(item, f, ip, ctx, render)));
        });
        var head = el("div", {class: "xa-item-tools"},
          el("span", {class: "text-muted small"}, (spec.noun || "item") + " " + (i + 1)),
          i > 0 ? el("button", {type: "button", class: "btn btn-xs btn-default", name: "move-up", title: "Move up", "aria-label": "Move up",
            onclick: function () { items.splice(i - 1, 0, items.splice(i, 1)[0]); render(); ctx.changed(); }}, "\u2191") : null,
          el("button", {type: "button", class: "btn btn-xs btn-danger", name: "remove-" + (spec.noun || "item").replace(/\s+/g, "-"), "aria-label": "Remove " + (spec.noun || "item"),
            onclick: function () { items.splice(i, 1); if (!items.length) delete owner[key]; render(); ctx.changed(); }}, "\u2715"));
        box.appendChild(el("div", {class: "xa-item", dataset: {index: String(i), ptr: ip}}, head, el("div", {class: "row"}, cells),
          spec.extra ? spec.extra(item, ip, ctx, render) : null));
      });
      box.appendChild(el("button", {type: "button", class: "btn btn-default btn-xs", name: "add-" + (spec.noun || "item").replace(/\s+/g, "-"), onclick: function () {
        owner[key] = owner[key] || [];
        owner[key].push(spec.make ? spec.make() : {});
        render();
        ctx.changed();
      }}, el("i", {class: "fa fa-plus"}), " Add " + (spec.noun || "item")));
    }
    render();
    return box;
  }

  /* field -> expression pairs (setFields values, createRecord values, webhook payload). */
  function pairsEditor(owner, key, ptr, ctx, keys, labels, optional) {
    var box = el("div", {class: "xa-pairs"});
    var pairs = Object.keys(owner[key] || {}).map(function (k) { return [k, owner[key][k]]; });
    function store() {
      var out = {};
      pairs.forEach(function (p) { if (p[0]) out[p[0]] = p[1]; });
      if (optional && !Object.keys(out).length) delete owner[key]; else owner[key] = out;
      ctx.changed(false, true);
    }
    function render() {
      XA.clear(box);
      pairs.forEach(function (pair, i) {
        var k;
        if (keys) {
          k = XA.select([["", "(field)"]].concat(keys.concat(pair[0] && keys.indexOf(pair[0]) < 0 ? [pair[0]] : []).map(function (f) { return [f, f]; })), pair[0],
            {class: "form-control input-sm", name: "pair-key", "aria-label": labels[0]});
          k.addEventListener("change", function () { pair[0] = k.value; store(); render(); });
        } else {
          k = el("input", {class: "form-control input-sm", name: "pair-key", "aria-label": labels[0], placeholder: labels[0], value: pair[0]});
          k.addEventListener("change", function () { pair[0] = k.value.trim(); store(); render(); });
        }
        var v = el("input", {class: "form-control input-sm xa-code", name: "pair-value", "aria-label": labels[1] + (pair[0] ? " of " + pair[0] : ""),
          placeholder: labels[1], value: pair[1] === undefined ? "" : String(pair[1]), spellcheck: "false", dataset: {ptr: ptr + "/" + (pair[0] || "~")}});
        v.addEventListener("input", function () { pair[1] = v.value; store(); });
        box.appendChild(el("div", {class: "row xa-pair"},
          el("div", {class: "col-xs-4"}, el("div", {class: "form-group form-group-sm"}, k)),
          el("div", {class: "col-xs-7"}, el("div", {class: "form-group form-group-sm"}, v)),
          el("div", {class: "col-xs-1"}, el("button", {type: "button", class: "btn btn-xs btn-link", name: "remove-pair", "aria-label": "Remove " + (pair[0] || "row"),
            onclick: function () { pairs.splice(i, 1); store(); render(); }}, "\u2715"))));
      });
      box.appendChild(el("button", {type: "button", class: "btn btn-xs btn-default", name: "add-pair", dataset: {ptr: ptr},
        onclick: function () { pairs.push(["", ""]); render(); }}, el("i", {class: "fa fa-plus"}), " " + labels[2]));
    }
    render();
    return box;
  }

  /* -- actions -------------------------------------------------------------------------------- */

  var BUILTIN = ["setFields", "createRecord", "notify", "webhook"];
  var LABELS = {setFields: "Set fields", createRecord: "Create a related record", notify: "Notify", webhook: "Call a webhook"};

  /* ctx: {fields, roles, entities, actionTypes: [{name, doc, params, required, plugin}], changed} */
  function actionBody(a, ptr, ctx) {
    var t = a.type;
    if (t === "setFields") return group("Values (field \u2190 expression)", pairsEditor(a, "values", ptr + "/values", ctx, ctx.fields, ["Field", "CEL expression, e.g. now or record.amount * 2", "Add a field"]));
    if (t === "createRecord") {
      return el("div", {},
        group("Entity", input(a, {key: "entity", kind: "select", label: "Entity", name: "action-entity", options: ctx.entities || []}, ptr, ctx)),
        group("Values of the new record (field \u2190 expression over this record)", pairsEditor(a, "values", ptr + "/values", ctx, null, ["Field of the new record", "CEL expression, e.g. record.name", "Add a field"])));
    }
    if (t === "notify") {
      a.to = a.to || {};
      var tp = ptr + "/to";
      return el("div", {},
        el("div", {class: "row"},
          el("div", {class: "col-sm-3"}, input(a.to, {key: "owner", kind: "check", label: "the record's owner", name: "notify-owner"}, tp, ctx)),
          el("div", {class: "col-sm-4"}, group("Roles", input(a.to, {key: "roles", kind: "roles", label: "Roles to notify", name: "notify-roles"}, tp, ctx))),
          el("div", {class: "col-sm-5"}, group("Users (expression: a user id or a list)", input(a.to, {key: "users", kind: "cel", label: "Users to notify", name: "notify-users", placeholder: "record.owner_id"}, tp, ctx)))),
        group("Subject", input(a, {key: "subject", label: "Subject", name: "notify-subject", placeholder: "Deal {{ record.name }} was won"}, ptr, ctx)),
        group("Body", input(a, {key: "body", kind: "textarea", rows: 2, label: "Body", name: "notify-body", placeholder: "Text with {{ expression }} placeholders"}, ptr, ctx)));
    }
    if (t === "webhook") {
      return el("div", {},
        el("div", {class: "row"},
          el("div", {class: "col-sm-9"}, group("URL", input(a, {key: "url", label: "Webhook URL", name: "webhook-url", placeholder: "https://example.org/hook"}, ptr, ctx))),
          el("div", {class: "col-sm-3"}, group("Method", input(a, {key: "method", kind: "select", label: "Method", name: "webhook-method", placeholder: "POST (default)", options: ["POST", "PUT", "PATCH"]}, ptr, ctx)))),
        group("Payload (key \u2190 expression; none: the record is sent)", pairsEditor(a, "payload", ptr + "/payload", ctx, null, ["Key", "CEL expression", "Add a key"], true)));
    }
    // A plugin's action type: a form from the JSON Schema of its params when they are simple.
    var decl = (ctx.actionTypes || []).filter(function (d) { return d.name === t; })[0];
    a.params = a.params || {};
    var pp = ptr + "/params";
    var props = decl && decl.params ? decl.params : {};
    var names = Object.keys(props);
    var simple = names.every(function (n) { return ["string", "integer", "number", "boolean"].indexOf(props[n].type) >= 0 || props[n]["enum"]; });
    if (!decl || !names.length || !simple) {
      return el("div", {}, decl ? null : el("p", {class: "small text-warning"}, "No plugin registered the action type " + t + "."),
        group("Parameters (JSON)", jsonArea(a, "params", pp, 3, ctx.changed, "{}", "action-params")));
    }
    return el("div", {}, decl.doc ? el("p", {class: "small text-muted"}, decl.doc) : null, el("div", {class: "row"}, names.map(function (n) {
      var s = props[n], label = n + ((decl.required || []).indexOf(n) >= 0 ? " *" : "");
      var node;
      if (s["enum"]) node = input(a.params, {key: n, kind: "select", label: label, name: "param-" + n, options: s["enum"].map(String)}, pp, ctx);
      else if (s.type === "boolean") node = input(a.params, {key: n, kind: "check", label: label, name: "param-" + n}, pp, ctx);
      else node = input(a.params, {key: n, kind: s.type === "string" ? "text" : "number", label: label, name: "param-" + n, placeholder: s.description || ""}, pp, ctx);
      return el("div", {class: "col-sm-4"}, s.type === "boolean" ? node : group(label, node));
    })));
  }

  function resetFor(a, type) {
    Object.keys(a).forEach(function (k) { if (k !== "when") delete a[k]; });
    a.type = type;
    if (type === "setFields" || type === "createRecord") a.values = {};
    if (type === "notify") a.to = {owner: true};
    if (BUILTIN.indexOf(type) < 0) a.params = {};
  }

  /* What the action editors offer, loaded by the workflow and rule-set designers alike: the
   * entities, the roles an administrator grants (not Admin) and the action types (built-in and
   * plugins'). Resolves to {entities, roles, actionTypes}, to merge into the editor's ctx. */
  function actionChoices() {
    return Promise.all([XA.api("GET", "/meta/entities"), XA.api("GET", "/admin/roles"), XA.api("GET", "/meta/action-types")]).then(function (res) {
      return {
        entities: res[0].items.map(function (e) { return e.name; }).sort(),
        roles: res[1].items.map(function (r) { return r.name; }).filter(function (r) { return r !== "Admin"; }),
        actionTypes: res[2].items
      };
    });
  }

  /* The structured editor of a list of actions (owner[key]), with a JSON view. */
  function actionsEditor(owner, key, ptr, ctx) {
    var pluginTypes = (ctx.actionTypes || []).filter(function (d) { return BUILTIN.indexOf(d.name) < 0; });
    return withJson(owner, key, ptr, ctx, "actions", function () {
      return listEditor(owner, key, ptr, {id: "actions", noun: "action", make: function () { return {type: "setFields", values: {}}; }, width: 6,
        fields: [
          {key: "type", kind: "select", label: "Action", name: "action-type", rerender: true, onset: function (a, v) { resetFor(a, v || "setFields"); }, options: function (a) {
            var opts = BUILTIN.map(function (b) { return [b, LABELS[b]]; }).concat(pluginTypes.map(function (d) { return [d.name, d.name + " (plugin " + (d.plugin || "?") + ")"]; }));
            if (a.type && !opts.some(function (o) { return o[0] === a.type; })) opts.push([a.type, a.type]);
            return opts;
          }},
          {key: "when", kind: "cel", label: "Only when (CEL, optional)", name: "action-when", placeholder: "record.amount > 1000"}
        ],
        extra: function (a, ip) {
          return el("div", {class: "xa-action-body", dataset: {type: a.type || ""}}, actionBody(a, ip, ctx));
        }}, ctx);
    });
  }

  /* The steps of a multi-level approval. */
  function approvalsEditor(owner, key, ptr, ctx) {
    return withJson(owner, key, ptr, ctx, "approvals", function () {
      return listEditor(owner, key, ptr, {id: "approvals", noun: "approval level", make: function () { return {name: ""}; }, width: 4,
        fields: [
          {key: "name", label: "Name", name: "approval-name", width: 3},
          {key: "label", label: "Label", name: "approval-label", width: 3},
          {key: "role", kind: "approvers", label: "Approved by (roles)", name: "approval-roles", width: 3},
          {key: "covers", kind: "fields", label: "Also voided by changes to", name: "approval-covers", width: 3},
          {key: "when", kind: "cel", label: "Needed only when (CEL, optional)", name: "approval-when", placeholder: "record.discount > 10.0", width: 12}
        ]}, ctx);
    });
  }

  /* The timers of a workflow state: each fires after a time in the state ("after", an ISO 8601
   * duration) or at a date field ("at", shifted by "offset"), optionally only "when" a condition
   * holds, and takes a transition and/or runs actions. ctx adds dateFields (date and datetime
   * fields) and leaving(): the transitions that leave the state. */
  var DURATION = "ISO 8601 duration: P2D, PT4H, P1W";
  function timersEditor(owner, key, ptr, ctx) {
    return withJson(owner, key, ptr, ctx, "timers", function () {
      return listEditor(owner, key, ptr, {id: "timers", noun: "timer", make: function () { return {name: "", after: "P1D"}; }, width: 3,
        fields: [
          {key: "name", label: "Name", name: "timer-name"},
          {key: "due", kind: "select", label: "Due", name: "timer-due", rerender: true, placeholder: "(choose)",
            options: [["after", "after a time in the state"], ["at", "at a date field"]],
            value: function (t) { return t.at !== undefined ? "at" : t.after !== undefined ? "after" : ""; },
            onset: function (t, v) {
              if (v === "at") { delete t.after; t.at = t.at || ctx.dateFields[0] || ""; }
              else if (v === "after") { delete t.at; delete t.offset; t.after = t.after || "P1D"; }
            }},
          {key: "after", label: "After (" + DURATION + ")", name: "timer-after", placeholder: "P2D", show: function (t) { return t.at === undefined; }},
          {key: "at", kind: "select", label: "Date field", name: "timer-at", options: function () { return ctx.dateFields || []; }, show: function (t) { return t.at !== undefined; }},
          {key: "offset", label: "Offset (negative: before)", name: "timer-offset", placeholder: "-P1D", show: function (t) { return t.at !== undefined; }},
          {key: "transition", kind: "select", label: "Take the transition", name: "timer-transition", placeholder: "(none: actions only)",
            options: function () { return ctx.leaving ? ctx.leaving() : []; }},
          {key: "when", kind: "cel", label: "Only when (CEL, optional)", name: "timer-when", placeholder: "record.priority == 'high'", width: 9}
        ],
        extra: function (t, ip) {
          return el("div", {class: "xa-timer-actions"}, el("h6", {}, "Actions when the timer fires"), actionsEditor(t, "actions", ip + "/actions", ctx));
        }}, ctx);
    });
  }

  /* Form / JSON switch around an editor of owner[key]. */
  function withJson(owner, key, ptr, ctx, label, makeForm) {
    var wrap = el("div", {class: "xa-structured", dataset: {editor: label}});
    var mode = "form";
    function render() {
      XA.clear(wrap);
      var formBtn = el("button", {type: "button", class: "btn btn-xs " + (mode === "form" ? "btn-primary active" : "btn-default"), name: label + "-form",
        onclick: function () { mode = "form"; render(); }}, "Form");
      var jsonBtn = el("button", {type: "button", class: "btn btn-xs " + (mode === "json" ? "btn-primary active" : "btn-default"), name: label + "-json",
        onclick: function () { mode = "json"; render(); }}, "JSON");
      wrap.appendChild(el("div", {class: "btn-group xa-mode", role: "group", "aria-label": label + " view"}, formBtn, jsonBtn));
      if (mode === "json") wrap.appendChild(el("div", {class: "form-group form-group-sm"}, jsonArea(owner, key, ptr, 6, ctx.changed, "[]", label + "-json-text")));
      else wrap.appendChild(makeForm());
    }
    render();
    return wrap;
  }

  /* Findings at their inputs: the input whose data-ptr is the longest prefix of the pointer gets
   * has-error / has-warning and the message. Returns the findings no input took. */
  function inputFor(root, pointer) {
    var best = null, bestLen = -1;
    Array.prototype.forEach.call(root.querySelectorAll("[data-ptr]"), function (n) {
      var p = n.dataset.ptr;
      if ((pointer === p || String(pointer).indexOf(p + "/") === 0) && p.length > bestLen) { best = n; bestLen = p.length; }
    });
    return best;
  }

  function markFindings(root, errors, warnings) {
    Array.prototype.forEach.call(root.querySelectorAll(".has-error, .has-warning"), function (n) { n.classList.remove("has-error", "has-warning"); });
    Array.prototype.forEach.call(root.querySelectorAll(".xa-finding"), function (n) { n.remove(); });
    var left = [];
    [[errors || [], "has-error"], [warnings || [], "has-warning"]].forEach(function (kind) {
      kind[0].forEach(function (f) {
        var n = inputFor(root, f.pointer || "");
        if (!n) { left.push(f); return; }
        var box = n.closest(".form-group") || n.closest(".xa-item") || n.parentNode;
        box.classList.add(kind[1]);
        box.appendChild(el("p", {class: "help-block small xa-finding"}, f.message));
      });
    });
    return left;
  }

  XA.kit = {inputFor: inputFor, markFindings: markFindings, el: el, group: group, multi: multi, setList: setList, setText: setText, jsonArea: jsonArea, input: input,
    listEditor: listEditor, pairsEditor: pairsEditor, actionsEditor: actionsEditor, approvalsEditor: approvalsEditor, timersEditor: timersEditor,
    actionChoices: actionChoices,
    withJson: withJson};
})();
