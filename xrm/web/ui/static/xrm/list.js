/* The list page: columns, search, filters, multi-column sort, keyset paging, saved views,
   export and bulk actions, all through GET /api/v1/data/<entity> and friends. */
(function (xrm) {
  "use strict";
  var el = xrm.el, page = xrm.page, model = page.model, entity = page.entity;
  var fm = xrm.fieldMap(model);
  (model.systemFields || []).forEach(function (s) { fm[s.name] = fm[s.name] || s; });
  var allFields = model.fields.concat(model.systemFields || []);
  var PAGE = 25;

  var state = {filters: [], search: "", sort: [], extra: [], columns: model.listColumns.slice()};
  var cursors = [null], pageIndex = 0, nextCursor = null, selected = {}, items = [];
  var currentView = null;

  var root = document.getElementById("xrm-list");
  var table = el("table", {class: "table table-hover table-condensed xrm-table", id: "xrm-table"});
  var info = el("span", {class: "text-muted", id: "xrm-count"});
  var prevBtn = el("button", {class: "btn btn-default btn-sm", id: "xrm-prev", onclick: function () { go(-1); }}, "‹ Previous");
  var nextBtn = el("button", {class: "btn btn-default btn-sm", id: "xrm-next", onclick: function () { go(1); }}, "Next ›");
  var filtersBox = el("div", {class: "xrm-filters", id: "xrm-filters"});
  var search = el("input", {type: "search", class: "form-control", id: "xrm-search", placeholder: "Search " + model.labelPlural.toLowerCase() + "…"});
  search.addEventListener("input", xrm.widgets.debounce(function () { state.search = search.value.trim(); reload(); }, 300));

  function pairs() { return xrm.query.statePairs(model, state); }
  function selectText() {
    var cols = state.columns.filter(function (c) { return fm[c]; });
    if (model.titleField && cols.indexOf(model.titleField) < 0) cols.push(model.titleField);
    return cols.map(function (c) {
      var f = fm[c];
      return (f.type === "reference" || f.type === "manytomany") && f.targetTitle ? c + "(" + f.targetTitle + ")" : c;
    }).join(",");
  }
  function queryString(extra) {
    return xrm.qs(pairs().concat([["select", selectText()]]).concat(extra || []));
  }

  function reload() { cursors = [null]; pageIndex = 0; selected = {}; load(); }
  function go(step) {
    if (step > 0 && nextCursor) { cursors[pageIndex + 1] = nextCursor; pageIndex++; }
    else if (step < 0 && pageIndex > 0) pageIndex--;
    else return;
    load();
  }

  function load() {
    var extra = [["limit", String(PAGE)]];
    if (cursors[pageIndex]) extra.push(["cursor", cursors[pageIndex]]);
    if (pageIndex === 0) extra.push(["count", "exact"]);
    xrm.alert(null);
    return xrm.api("GET", "/data/" + encodeURIComponent(entity) + "?" + queryString(extra)).then(function (r) {
      items = r.data.items;
      nextCursor = r.data.nextCursor;
      if (r.data.count !== undefined) info.textContent = (r.data.countCapped ? r.data.count + "+" : r.data.count) + " " + model.labelPlural.toLowerCase();
      return xrm.resolveTitles(state.columns.map(function (c) { return fm[c]; }).filter(Boolean), items);
    }).then(renderTable).catch(function (err) { xrm.alert(err.message); });
  }

  function sortMark(name) {
    var i = -1;
    state.sort.forEach(function (s, j) { if (s.field === name) i = j; });
    if (i < 0) return null;
    return el("span", {class: "xrm-sort"}, (state.sort[i].desc ? "▼" : "▲") + (state.sort.length > 1 ? String(i + 1) : ""));
  }
  function onSort(name, ev) {
    var f = fm[name];
    if (!f || f.sortable === false) return;
    var existing = state.sort.filter(function (s) { return s.field === name; })[0];
    if (ev.shiftKey) {
      if (existing) existing.desc = !existing.desc; else state.sort.push({field: name, desc: false});
    } else {
      state.sort = [{field: name, desc: existing && state.sort.length === 1 ? !existing.desc : false}];
    }
    reload();
  }

  function renderTable() {
    xrm.clear(table);
    var all = el("input", {type: "checkbox", title: "Select all", id: "xrm-select-all", onchange: function () {
      items.forEach(function (it) { if (all.checked) selected[it.id] = true; else delete selected[it.id]; });
      renderTable(); renderBulk();
    }});
    all.checked = items.length > 0 && items.every(function (it) { return selected[it.id]; });
    table.appendChild(el("thead", {}, el("tr", {},
      el("th", {style: "width:30px"}, all),
      state.columns.filter(function (c) { return fm[c]; }).map(function (c) {
        var f = fm[c];
        return el("th", {dataset: {field: c}, title: f.sortable === false ? "" : "Sort (shift-click adds a column)",
          onclick: function (ev) { onSort(c, ev); }}, f.label, sortMark(c));
      }))));
    var body = el("tbody", {});
    if (!items.length) body.appendChild(el("tr", {}, el("td", {colspan: state.columns.length + 1, class: "text-muted"}, "No " + model.labelPlural.toLowerCase() + " match.")));
    items.forEach(function (it) {
      var box = el("input", {type: "checkbox", class: "xrm-row-select", dataset: {id: it.id}, onchange: function () {
        if (box.checked) selected[it.id] = true; else delete selected[it.id];
        renderBulk();
      }});
      box.checked = !!selected[it.id];
      var titleCol = model.titleField && state.columns.indexOf(model.titleField) >= 0 ? model.titleField : state.columns[0];
      body.appendChild(el("tr", {dataset: {id: it.id}, class: selected[it.id] ? "active" : null},
        el("td", {}, box),
        state.columns.filter(function (c) { return fm[c]; }).map(function (c) {
          var f = fm[c], v = it[c];
          if (c === titleCol) return el("td", {}, el("a", {href: xrm.recordUrl(entity, it.id), class: "xrm-open"}, xrm.format(f, v) || ("#" + it.id)));
          if (f.type === "reference" && v && typeof v === "object" && f.targetTitle) v = {id: v.id, __title: v[f.targetTitle]};
          if (f.type === "manytomany" && Array.isArray(v)) v = v.map(function (x) { return typeof x === "object" && f.targetTitle ? {id: x.id, __title: x[f.targetTitle]} : x; });
          return el("td", {title: xrm.format(f, v)}, xrm.link(f, v));
        })));
    });
    table.appendChild(body);
    prevBtn.disabled = pageIndex === 0;
    nextBtn.disabled = !nextCursor;
    renderBulk();
  }

  /* Filters */
  function valueWidget(row, f) {
    var change = function () { row.value = w.get(); reload(); };
    var w;
    if (row.op && /^(not\.)?is\./.test(row.op)) return null;
    if (f.type === "choice" || f.type === "multichoice") {
      var sel = el("select", {class: "form-control", multiple: true, size: Math.min(4, (f.options || []).length), "aria-label": f.label + " values"},
        (f.options || []).map(function (o) { return el("option", {value: o.value, selected: [].concat(row.value || []).indexOf(o.value) >= 0}, o.label); }));
      sel.addEventListener("change", function () {
        row.value = Array.prototype.filter.call(sel.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
        reload();
      });
      return sel;
    }
    if (f.type === "reference" || f.type === "manytomany") {
      w = xrm.widgets.lookup({name: f.name, type: "reference", target: f.target, label: f.label}, {onChange: function () {
        var v = w.get(); row.value = v === null ? "" : (row.op === "cs" ? [v] : v); reload();
      }});
      if (row.value) w.set(Array.isArray(row.value) ? row.value[0] : Number(row.value));
      return w.node;
    }
    var type = xrm.query.DATE.indexOf(f.type) >= 0 ? "date" : xrm.query.NUMBER.indexOf(f.type) >= 0 || f.name === "id" ? "number" : "text";
    function box(key, label) {
      var input = el("input", {type: type, step: "any", class: "form-control input-sm", value: row[key] || "", "aria-label": f.label + " " + label, placeholder: label});
      input.addEventListener(type === "text" ? "input" : "change", xrm.widgets.debounce(function () { row[key] = input.value; reload(); }, type === "text" ? 300 : 0));
      return input;
    }
    if (row.op === "between") return el("span", {}, box("value", "from"), " and ", box("value2", "to"));
    return box("value", "value");
  }
  function renderFilters() {
    xrm.clear(filtersBox);
    state.filters.forEach(function (row, i) {
      var f = fm[row.field];
      if (!f) return;
      var ops = xrm.query.operators(f);
      if (!row.op) row.op = ops.length ? ops[0][0] : "eq";
      var fieldSel = el("select", {class: "form-control input-sm xrm-filter-field", "aria-label": "Filter field"},
        allFields.filter(function (x) { return xrm.query.operators(x).length; }).map(function (x) {
          return el("option", {value: x.name, selected: x.name === row.field}, x.label);
        }));
      fieldSel.addEventListener("change", function () { state.filters[i] = {field: fieldSel.value}; renderFilters(); reload(); });
      var opSel = el("select", {class: "form-control input-sm xrm-filter-op", "aria-label": "Filter operator"},
        ops.map(function (o) { return el("option", {value: o[0], selected: o[0] === row.op}, o[1]); }));
      opSel.addEventListener("change", function () { row.op = opSel.value; renderFilters(); reload(); });
      filtersBox.appendChild(el("div", {class: "xrm-filter", dataset: {field: row.field}}, fieldSel, opSel, valueWidget(row, f),
        el("button", {class: "btn btn-link btn-sm", title: "Remove filter", onclick: function () { state.filters.splice(i, 1); renderFilters(); reload(); }}, "×")));
    });
  }
  function addFilter(name) {
    state.filters.push({field: name || (model.titleField || allFields[0].name)});
    renderFilters();
  }

  /* Columns */
  var columnsMenu = el("div", {class: "dropdown-menu xrm-columns", id: "xrm-columns"});
  function renderColumns() {
    xrm.clear(columnsMenu);
    allFields.forEach(function (f) {
      var box = el("input", {type: "checkbox", value: f.name, checked: state.columns.indexOf(f.name) >= 0, onchange: function () {
        if (box.checked) state.columns.push(f.name);
        else state.columns = state.columns.filter(function (c) { return c !== f.name; });
        load();
      }});
      columnsMenu.appendChild(el("div", {class: "checkbox"}, el("label", {}, box, " ", f.label)));
    });
  }
  columnsMenu.addEventListener("click", function (ev) { ev.stopPropagation(); });

  /* Saved views */
  var viewSel = el("select", {class: "form-control input-sm", id: "xrm-view", "aria-label": "Saved view"});
  function renderViews() {
    xrm.clear(viewSel);
    viewSel.appendChild(el("option", {value: ""}, "All " + model.labelPlural.toLowerCase()));
    (page.savedViews || []).forEach(function (v) {
      viewSel.appendChild(el("option", {value: String(v.id), selected: currentView && String(currentView.id) === String(v.id)},
        v.label + (v.shared ? " (shared)" : "")));
    });
  }
  function applyView(v) {
    currentView = v;
    var s = xrm.query.stateFrom(v ? v.query : "");
    state.filters = s.filters; state.search = s.search; state.sort = s.sort; state.extra = s.extra;
    state.columns = v && v.columns && v.columns.length ? v.columns.slice() : model.listColumns.slice();
    search.value = state.search;
    renderFilters(); renderColumns(); reload();
    delBtn.classList.toggle("hidden", !(v && v.source === "user" && (!v.shared || page.user.admin)));
  }
  viewSel.addEventListener("change", function () {
    var v = (page.savedViews || []).filter(function (x) { return String(x.id) === viewSel.value; })[0] || null;
    applyView(v);
  });
  function currentQuery() { return xrm.qs(pairs()); }
  var saveBtn = el("button", {class: "btn btn-default btn-sm", id: "xrm-save-view", onclick: function () {
    var label = window.prompt("Name of the view", currentView && currentView.source === "user" ? currentView.label : "");
    if (!label) return;
    var body = {entity: entity, label: label, kind: "list", columns: state.columns, query: currentQuery()};
    if (page.user.admin && window.confirm("Share this view with everyone who may read " + model.labelPlural + "?")) body.shared = true;
    var existing = currentView && currentView.source === "user" && currentView.label === label;
    var req = existing ? xrm.api("PATCH", "/views/" + currentView.id, {columns: body.columns, query: body.query})
      : xrm.api("POST", "/views", body);
    req.then(function (r) {
      page.savedViews = (page.savedViews || []).filter(function (v) { return String(v.id) !== String(r.data.id); }).concat([r.data]);
      currentView = r.data; renderViews(); xrm.toast("View saved");
    }).catch(function (err) { xrm.alert(err.message + (err.errors.length ? ": " + err.errors.map(function (e) { return e.message; }).join("; ") : "")); });
  }}, "Save view");
  var delBtn = el("button", {class: "btn btn-link btn-sm hidden", id: "xrm-delete-view", onclick: function () {
    if (!currentView || !window.confirm("Delete the view " + currentView.label + "?")) return;
    xrm.api("DELETE", "/views/" + currentView.id).then(function () {
      page.savedViews = page.savedViews.filter(function (v) { return v !== currentView; });
      applyView(null); renderViews();
    }).catch(function (err) { xrm.alert(err.message); });
  }}, "Delete view");

  /* Export and bulk actions */
  function exportUrl(format, ids) {
    var extra = [["format", format], ["header", "label"]];
    var q = ids ? xrm.qs([["id", "in.(" + ids.join(",") + ")"], ["select", selectText().replace(/\([^)]*\)/g, "")]].concat(extra))
      : xrm.qs(pairs().concat([["select", selectText().replace(/\([^)]*\)/g, "")]]).concat(extra));
    return page.apiBase + "/data/" + encodeURIComponent(entity) + "/export?" + q;
  }
  var bulkBar = el("div", {class: "xrm-toolbar hidden", id: "xrm-bulk"});
  function selectedIds() { return Object.keys(selected).map(Number); }
  function renderBulk() {
    var ids = selectedIds();
    bulkBar.classList.toggle("hidden", ids.length === 0);
    xrm.clear(bulkBar);
    if (!ids.length) return;
    bulkBar.appendChild(el("strong", {}, ids.length + " selected"));
    if (model.rights.export) {
      bulkBar.appendChild(el("a", {class: "btn btn-default btn-sm", href: exportUrl("csv", ids), download: ""}, "Export CSV"));
      bulkBar.appendChild(el("a", {class: "btn btn-default btn-sm", href: exportUrl("xlsx", ids), download: ""}, "Export XLSX"));
    }
    if (model.rights["delete"]) bulkBar.appendChild(el("button", {class: "btn btn-danger btn-sm", id: "xrm-bulk-delete", onclick: bulkDelete}, "Delete"));
    if (model.workflow && model.rights.update) {
      var sel = el("select", {class: "form-control input-sm", id: "xrm-bulk-transition", "aria-label": "Transition"}, el("option", {value: ""}, "Transition…"));
      xrm.api("GET", "/data/" + encodeURIComponent(entity) + "/" + ids[0] + "/transitions").then(function (r) {
        (r.data.transitions || []).forEach(function (t) { sel.appendChild(el("option", {value: t.name}, t.label || t.name)); });
      }).catch(function () { sel.disabled = true; });
      sel.addEventListener("change", function () { if (sel.value) bulkTransition(sel.value); });
      bulkBar.appendChild(sel);
    }
  }
  function runEach(ids, fn, verb) {
    var failures = [];
    return ids.reduce(function (p, id) {
      return p.then(function () { return fn(id).catch(function (err) { failures.push("#" + id + ": " + err.message); }); });
    }, Promise.resolve()).then(function () {
      var done = ids.length - failures.length;
      if (done) xrm.toast(done + " " + verb);
      if (failures.length) xrm.alert(failures.length + " not " + verb + ": " + failures.join("; "));
      selected = {};
      return load();
    });
  }
  function bulkDelete() {
    var ids = selectedIds();
    if (!window.confirm("Move " + ids.length + " record(s) to the recycle bin?")) return;
    runEach(ids, function (id) { return xrm.api("DELETE", "/data/" + encodeURIComponent(entity) + "/" + id); }, "deleted");
  }
  function bulkTransition(name) {
    var ids = selectedIds();
    runEach(ids, function (id) {
      return xrm.api("POST", "/data/" + encodeURIComponent(entity) + "/" + id + "/transitions/" + encodeURIComponent(name), {});
    }, "moved");
  }

  /* Layout */
  renderColumns(); renderViews();
  var toolbar = el("div", {class: "xrm-toolbar"},
    el("div", {class: "xrm-grow"}, search),
    viewSel, saveBtn, delBtn,
    el("button", {class: "btn btn-default btn-sm", id: "xrm-add-filter", onclick: function () { addFilter(); }}, "+ Filter"),
    el("div", {class: "btn-group"},
      el("button", {class: "btn btn-default btn-sm dropdown-toggle", "data-toggle": "dropdown", id: "xrm-columns-toggle"}, "Columns ", el("span", {class: "caret"})),
      columnsMenu),
    model.rights.export ? el("div", {class: "btn-group"},
      el("button", {class: "btn btn-default btn-sm dropdown-toggle", "data-toggle": "dropdown", id: "xrm-export"}, "Export ", el("span", {class: "caret"})),
      el("ul", {class: "dropdown-menu dropdown-menu-right"},
        el("li", {}, el("a", {id: "xrm-export-csv", href: "#", onclick: function (ev) { ev.currentTarget.href = exportUrl("csv"); }}, "CSV of this view")),
        el("li", {}, el("a", {id: "xrm-export-xlsx", href: "#", onclick: function (ev) { ev.currentTarget.href = exportUrl("xlsx"); }}, "XLSX of this view")))) : null,
    (model.workflow || model.boardFields.length) ? el("a", {class: "btn btn-default btn-sm", id: "xrm-board-link", href: page.uiBase + "/" + encodeURIComponent(entity) + "/board"}, "Board") : null,
    model.rights.create ? el("a", {class: "btn btn-primary btn-sm", id: "xrm-new", href: page.uiBase + "/" + encodeURIComponent(entity) + "/new"}, "New " + model.label) : null);
  xrm.append(root, [toolbar, filtersBox, bulkBar, el("div", {class: "table-responsive"}, table),
    el("div", {class: "xrm-toolbar"}, prevBtn, nextBtn, info)]);

  var initial = page.view ? (page.savedViews || []).filter(function (v) { return String(v.id) === String(page.view); })[0] : null;
  if (initial) { renderViews(); applyView(initial); viewSel.value = String(initial.id); }
  else load();
})(window.xrm);
