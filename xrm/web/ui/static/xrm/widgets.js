/* Form widgets, one per field type, built from the form spec. Each widget is
   {node, input, get(), set(value), setDisabled(bool)}; get() returns the value in the record
   API's JSON shape (null when empty). */
(function (xrm) {
  "use strict";
  var el = xrm.el;

  function debounce(fn, ms) {
    var t;
    return function () { var a = arguments, self = this; clearTimeout(t); t = setTimeout(function () { fn.apply(self, a); }, ms); };
  }

  /* Type-ahead over the API: searches the target's search fields (or title field). */
  function lookup(f, opts) {
    opts = opts || {};
    var multi = f.type === "manytomany";
    var ids = [], single = null;
    var input = el("input", {type: "text", class: "form-control", autocomplete: "off",
      placeholder: "Type to search…", id: opts.id, "aria-label": f.label});
    var menu = el("div", {class: "xrm-lookup-menu", role: "listbox"});
    var chips = el("div", {class: "xrm-chips"});
    var node = el("div", {class: "xrm-lookup", dataset: {lookup: f.name}}, multi ? chips : null, input, menu);
    var meta = null;
    function target() {
      if (!meta) meta = xrm.entityMeta(f.target);
      return meta;
    }
    function render() {
      xrm.clear(chips);
      ids.forEach(function (id) {
        chips.appendChild(el("span", {class: "label label-primary"}, xrm.titles[f.target + ":" + id] || ("#" + id),
          el("a", {title: "Remove", onclick: function () { ids = ids.filter(function (x) { return x !== id; }); render(); fire(); }}, "×")));
      });
    }
    function fire() { if (opts.onChange) opts.onChange(); }
    var search = debounce(function () {
      var text = input.value.trim();
      target().then(function (m) {
        var pairs = [["limit", "10"], ["select", "id" + (m.titleField ? "," + m.titleField : "")]];
        var s = xrm.query.searchPair(m, text);
        if (text && s) pairs.push(s);
        if (m.titleField) pairs.push(["order", m.titleField]);
        return xrm.api("GET", "/data/" + encodeURIComponent(f.target) + "?" + xrm.qs(pairs)).then(function (r) {
          xrm.clear(menu);
          r.data.items.forEach(function (rec) {
            var title = xrm.titleOf(m, rec);
            xrm.titles[f.target + ":" + rec.id] = title;
            menu.appendChild(el("a", {href: "#", role: "option", dataset: {id: rec.id}, onmousedown: function (ev) {
              ev.preventDefault(); choose(rec.id, title);
            }}, title));
          });
          if (!r.data.items.length) menu.appendChild(el("span", {class: "text-muted", style: "padding:4px 8px;display:block"}, "No match"));
          menu.classList.add("open");
        });
      }).catch(function (err) { xrm.alert(err.message); });
    }, 200);
    function choose(id, title) {
      xrm.titles[f.target + ":" + id] = title;
      menu.classList.remove("open");
      if (multi) { if (ids.indexOf(id) < 0) ids.push(id); input.value = ""; render(); }
      else { single = id; input.value = title; }
      fire();
    }
    input.addEventListener("input", function () { if (!multi) single = null; search(); });
    input.addEventListener("focus", search);
    input.addEventListener("blur", function () { setTimeout(function () { menu.classList.remove("open"); }, 150); });
    input.addEventListener("keydown", function (ev) {
      var links = menu.querySelectorAll("a"), active = menu.querySelector("a.active");
      var i = Array.prototype.indexOf.call(links, active);
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (active) active.classList.remove("active");
        i = ev.key === "ArrowDown" ? Math.min(i + 1, links.length - 1) : Math.max(i - 1, 0);
        if (links[i]) links[i].classList.add("active");
      } else if (ev.key === "Enter" && active) {
        ev.preventDefault();
        choose(Number(active.dataset.id), active.textContent);
      }
    });
    return {
      node: node, input: input,
      get: function () { return multi ? ids.slice() : single; },
      set: function (v) {
        if (multi) {
          ids = (v || []).map(function (x) { return typeof x === "object" ? x.id : x; });
          xrm.loadTitles(f.target, ids).then(render);
        } else {
          single = v === null || v === undefined ? null : (typeof v === "object" ? v.id : v);
          if (single === null) { input.value = ""; return; }
          xrm.loadTitles(f.target, [single]).then(function () { input.value = xrm.titles[f.target + ":" + single] || "#" + single; });
        }
      },
      setDisabled: function (d) { input.disabled = d; }
    };
  }

  function simple(input, getter, setter) {
    return {node: input, input: input, get: getter, set: setter, setDisabled: function (d) { input.disabled = d; }};
  }

  function toLocalInput(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d)) return "";
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  /* create(field, {id, onChange}) -> widget */
  function create(f, opts) {
    opts = opts || {};
    var id = opts.id, change = opts.onChange || function () {};
    var input;
    switch (f.type) {
      case "longtext":
        input = el("textarea", {class: "form-control", rows: 4, id: id, name: f.name});
        input.addEventListener("change", change);
        return simple(input, function () { return input.value === "" ? null : input.value; }, function (v) { input.value = v === null || v === undefined ? "" : v; });
      case "json":
        input = el("textarea", {class: "form-control", rows: 4, id: id, name: f.name, spellcheck: "false"});
        input.addEventListener("change", change);
        return simple(input, function () {
          if (input.value.trim() === "") return null;
          try { return JSON.parse(input.value); } catch (e) { return input.value; }
        }, function (v) { input.value = v === null || v === undefined ? "" : JSON.stringify(v, null, 2); });
      case "boolean":
        input = el("input", {type: "checkbox", id: id, name: f.name});
        input.addEventListener("change", change);
        var box = el("div", {class: "checkbox"}, el("label", {}, input, " ", f.label));
        var w = simple(input, function () { return input.checked; }, function (v) { input.checked = !!v; });
        w.node = box;
        return w;
      case "integer": case "bigint": case "float": case "decimal":
        input = el("input", {type: "number", class: "form-control", id: id, name: f.name,
          step: f.type === "integer" || f.type === "bigint" ? "1" : "any", min: f.minimum, max: f.maximum});
        input.addEventListener("change", change);
        return simple(input, function () {
          if (input.value === "") return input.validity && input.validity.badInput ? "invalid" : null;
          if (f.type === "decimal") return input.value;
          return Number(input.value);
        }, function (v) { input.value = v === null || v === undefined ? "" : v; });
      case "money":
        var amount = el("input", {type: "number", step: "any", class: "form-control", id: id, name: f.name, "aria-label": f.label + " amount"});
        var currencies = f.currencies && f.currencies.length ? f.currencies : null;
        var cur = currencies
          ? el("select", {class: "form-control", name: f.name + "_currency", "aria-label": f.label + " currency"},
            currencies.map(function (c) { return el("option", {value: c}, c); }))
          : el("input", {type: "text", class: "form-control", maxlength: 3, placeholder: "EUR", name: f.name + "_currency", "aria-label": f.label + " currency", style: "width:80px"});
        if (f.defaultCurrency) cur.value = f.defaultCurrency;
        amount.addEventListener("change", change); cur.addEventListener("change", change);
        return {
          node: el("div", {class: "xrm-money"}, amount, cur), input: amount,
          get: function () { return amount.value === "" ? null : {amount: amount.value, currency: (cur.value || "").toUpperCase() || null}; },
          set: function (v) { amount.value = v && v.amount !== null && v.amount !== undefined ? v.amount : ""; if (v && v.currency) cur.value = v.currency; },
          setDisabled: function (d) { amount.disabled = d; cur.disabled = d; }
        };
      case "date":
        input = el("input", {type: "date", class: "form-control", id: id, name: f.name});
        input.addEventListener("change", change);
        return simple(input, function () { return input.value || null; }, function (v) { input.value = v || ""; });
      case "datetime":
        input = el("input", {type: "datetime-local", class: "form-control", id: id, name: f.name});
        input.addEventListener("change", change);
        return simple(input, function () { return input.value ? new Date(input.value).toISOString() : null; },
          function (v) { input.value = toLocalInput(v); });
      case "choice":
        input = el("select", {class: "form-control", id: id, name: f.name},
          el("option", {value: ""}, "—"),
          (f.options || []).map(function (o) { return el("option", {value: o.value}, o.label); }));
        input.addEventListener("change", change);
        return simple(input, function () { return input.value === "" ? null : input.value; }, function (v) { input.value = v === null || v === undefined ? "" : v; });
      case "multichoice":
        input = el("select", {class: "form-control", id: id, name: f.name, multiple: true, size: Math.min(6, (f.options || []).length || 1)},
          (f.options || []).map(function (o) { return el("option", {value: o.value}, o.label); }));
        input.addEventListener("change", change);
        return simple(input, function () {
          var v = Array.prototype.filter.call(input.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
          return v.length ? v : null;
        }, function (v) { Array.prototype.forEach.call(input.options, function (o) { o.selected = (v || []).indexOf(o.value) >= 0; }); });
      case "reference": case "manytomany":
        return lookup(f, {id: id, onChange: change});
      case "regarding":
        input = el("input", {type: "text", class: "form-control", id: id, name: f.name, placeholder: "entity:id"});
        input.addEventListener("change", change);
        return simple(input, function () {
          var m = /^([a-z][a-z0-9_.]*):(\d+)$/.exec(input.value.trim());
          return input.value.trim() === "" ? null : m ? {entity: m[1], id: Number(m[2])} : input.value;
        }, function (v) { input.value = v ? v.entity + ":" + v.id : ""; });
      default:
        input = el("input", {type: f.format === "email" ? "email" : f.format === "uri" ? "url" : "text",
          class: "form-control", id: id, name: f.name, maxlength: f.maxLength});
        input.addEventListener("change", change);
        return simple(input, function () { return input.value === "" ? null : input.value; }, function (v) { input.value = v === null || v === undefined ? "" : v; });
    }
  }

  xrm.widgets = {create: create, lookup: lookup, debounce: debounce};
})(window.xrm);
