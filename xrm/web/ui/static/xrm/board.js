/* The kanban board: one lane per workflow state or choice option. An entity may have several
   workflows (one per state field): "Group by" offers each of them, then the plain choice
   fields. Dragging a card to another lane fires the transition of the board's workflow leading
   there (or patches the choice field); when the server refuses, the guard's message is shown
   and the card goes back. */
(function (xrm) {
  "use strict";
  var el = xrm.el, page = xrm.page, model = page.model, entity = page.entity;
  var fm = xrm.fieldMap(model);
  var root = document.getElementById("xrm-board-page");
  var wfs = model.workflows || (model.workflow ? [model.workflow] : []);
  var options = wfs.map(function (w) {
    var label = fm[w.stateField] ? fm[w.stateField].label : w.stateField;
    return {value: w.stateField, label: label + " (" + (wfs.length > 1 ? (w.label || w.name) + " workflow" : "workflow") + ")"};
  });
  (model.boardFields || []).forEach(function (n) {
    if (!workflowOf(n)) options.push({value: n, label: fm[n].label});
  });
  var group = page.groupBy && options.some(function (o) { return o.value === page.groupBy; }) ? page.groupBy : (options[0] || {}).value;
  var board = el("div", {class: "xrm-board", id: "xrm-board"});
  var LANE_LIMIT = 50;

  if (!group) {
    root.appendChild(el("p", {class: "text-muted"}, model.labelPlural + " have no workflow and no choice field to make a board of."));
    return;
  }
  var picker = el("select", {class: "form-control input-sm", id: "xrm-board-group", "aria-label": "Group by"},
    options.map(function (o) { return el("option", {value: o.value, selected: o.value === group}, o.label); }));
  picker.addEventListener("change", function () { group = picker.value; load(); });
  xrm.append(root, [el("div", {class: "xrm-toolbar"}, el("label", {}, "Group by "), picker,
    el("a", {class: "btn btn-default btn-sm", href: page.uiBase + "/" + encodeURIComponent(entity) + "/"}, "List"),
    model.rights.create ? el("a", {class: "btn btn-primary btn-sm", href: page.uiBase + "/" + encodeURIComponent(entity) + "/new"}, "New " + model.label) : null), board]);

  function workflowOf(field) { return wfs.filter(function (w) { return w.stateField === field; })[0] || null; }
  function byWorkflow() { return workflowOf(group); }
  function lanes() {
    var wf = byWorkflow();
    if (wf) return wf.states.map(function (s) { return {value: s.name, label: s.label, color: s.color}; });
    var f = fm[group];
    return (f.options || []).map(function (o) { return {value: o.value, label: o.label, color: o.color}; })
      .concat([{value: null, label: "(none)"}]);
  }
  function baseQuery() { return new URLSearchParams(page.query || "").toString(); }
  function cardFields() {
    return model.listColumns.filter(function (c) { return c !== model.titleField && c !== group; }).slice(0, 3);
  }

  function card(rec) {
    var title = model.titleField ? xrm.format(fm[model.titleField], rec[model.titleField]) : "";
    return el("div", {class: "xrm-card", draggable: "true", dataset: {id: rec.id, version: rec.row_version, value: rec[group] === null ? "" : rec[group]},
      ondragstart: function (ev) { ev.dataTransfer.setData("text/plain", String(rec.id)); ev.dataTransfer.effectAllowed = "move"; }},
      el("a", {class: "xrm-card-title", href: xrm.recordUrl(entity, rec.id)}, title || ("#" + rec.id)),
      cardFields().map(function (c) {
        var v = xrm.format(fm[c], rec[c]);
        return v ? el("small", {}, fm[c].label + ": " + v) : null;
      }));
  }

  function load() {
    xrm.clear(board);
    var sel = ["id", "row_version", group].concat(model.titleField ? [model.titleField] : []).concat(cardFields());
    return Promise.all(lanes().map(function (lane) {
      var cards = el("div", {class: "xrm-cards"});
      var count = el("span", {class: "badge"}, "…");
      var col = el("div", {class: "xrm-lane", dataset: {lane: lane.value === null ? "" : lane.value}},
        el("h4", {style: lane.color ? "border-bottom:3px solid " + lane.color : null}, lane.label, count), cards);
      col.addEventListener("dragover", function (ev) { ev.preventDefault(); col.classList.add("xrm-over"); });
      col.addEventListener("dragleave", function () { col.classList.remove("xrm-over"); });
      col.addEventListener("drop", function (ev) {
        ev.preventDefault(); col.classList.remove("xrm-over");
        var id = Number(ev.dataTransfer.getData("text/plain"));
        var node = board.querySelector('.xrm-card[data-id="' + id + '"]');
        if (node && node.dataset.value !== (lane.value === null ? "" : lane.value)) move(node, lane, cards);
      });
      board.appendChild(col);
      var q = baseQuery();
      var pairs = [[group, lane.value === null ? "is.null" : "eq." + lane.value], ["select", sel.filter(function (v, i) { return sel.indexOf(v) === i; }).join(",")],
        ["limit", String(LANE_LIMIT)], ["count", "exact"], ["order", "updated_at.desc"]];
      return xrm.api("GET", "/data/" + encodeURIComponent(entity) + "?" + (q ? q + "&" : "") + xrm.qs(pairs)).then(function (r) {
        count.textContent = r.data.countCapped ? r.data.count + "+" : String(r.data.count);
        return xrm.resolveTitles(cardFields().map(function (c) { return fm[c]; }), r.data.items).then(function () {
          r.data.items.forEach(function (rec) { cards.appendChild(card(rec)); });
        });
      });
    })).catch(function (err) { xrm.alert(err.message); });
  }

  function move(node, lane, cards) {
    var id = Number(node.dataset.id), from = node.parentNode;
    xrm.alert(null);
    cards.insertBefore(node, cards.firstChild);  // optimistic; put back on refusal
    var done, wf = byWorkflow();
    if (wf) {
      done = xrm.api("GET", "/data/" + encodeURIComponent(entity) + "/" + id + "/transitions").then(function (r) {
        var block = (r.data.workflows || []).filter(function (b) { return b.workflow === wf.name; })[0] || r.data;
        var ts = (block.transitions || []).filter(function (t) { return t.to === lane.value; });
        var ok = ts.filter(function (t) { return t.available; })[0];
        if (!ok) {
          var reasons = [].concat.apply([], ts.map(function (t) { return (t.reasons || []).map(function (x) { return x.message; }); }));
          throw new xrm.ApiError(409, {detail: ts.length
            ? (ts[0].label || ts[0].name) + " is not possible: " + (reasons.join("; ") || "not allowed")
            : "No transition leads from " + (block.stateLabel || block.state || "here") + " to " + lane.label});
        }
        if ((ok.requires && ((ok.requires.fields || []).length || ok.requires.comment))) {
          throw new xrm.ApiError(409, {detail: (ok.label || ok.name) + " needs more input: open the record to fire it"});
        }
        return xrm.api("POST", "/data/" + encodeURIComponent(entity) + "/" + id + "/transitions/" + encodeURIComponent(ok.name), {workflow: wf.name});
      });
    } else {
      var body = {};
      body[group] = lane.value;
      done = xrm.api("PATCH", "/data/" + encodeURIComponent(entity) + "/" + id, body, {"If-Match": '"' + id + "-" + node.dataset.version + '"'});
    }
    return done.then(function (r) {
      node.dataset.value = lane.value === null ? "" : lane.value;
      if (r && r.data && r.data.row_version) node.dataset.version = r.data.row_version;
      xrm.toast("Moved to " + lane.label);
      return load();
    }).catch(function (err) {
      from.insertBefore(node, from.firstChild);
      var reasons = (err.problem.reasons || []).map(function (x) { return x.message; });
      var msg = err.status === 412 ? "This card was changed by someone else; the board has been refreshed." : err.message;
      xrm.alert(msg + (reasons.length ? ": " + reasons.join("; ") : ""));
      if (err.status === 412) load();
    });
  }

  load();
})(window.xrm);
