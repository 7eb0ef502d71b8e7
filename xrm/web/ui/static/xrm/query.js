/* Building list queries in the REST grammar (docs/api.md) from UI state, and reading a saved
   query back into UI state. Shared by the list page, the board and saved views. */
(function (xrm) {
  "use strict";

  function likeEscape(s) { return String(s).replace(/[\\*%_]/g, function (c) { return "\\" + c; }); }
  function likeUnescape(s) { return String(s).replace(/\\(.)/g, "$1"); }
  function quote(s) { return '"' + String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }
  function listItem(s) { return /[,(){}"\\\s]/.test(String(s)) ? quote(s) : String(s); }

  var TEXT = ["text", "longtext", "autonumber", "uuid"];
  var NUMBER = ["integer", "bigint", "decimal", "float", "money"];
  var DATE = ["date", "datetime"];

  /* The operators a filter row offers for a field, as [op, label]. */
  function operators(f) {
    var t = f.type, ops = f.operators || [];
    var out = [];
    function add(op, label, need) { if (!need || ops.indexOf(need) >= 0) out.push([op, label]); }
    if (TEXT.indexOf(t) >= 0) {
      add("contains", "contains", "ilike"); add("eq", "is", "eq"); add("neq", "is not", "neq");
      add("starts", "starts with", "ilike");
    } else if (NUMBER.indexOf(t) >= 0 || f.name === "id") {
      add("eq", "=", "eq"); add("neq", "≠", "neq"); add("gt", ">", "gt"); add("gte", "≥", "gte");
      add("lt", "<", "lt"); add("lte", "≤", "lte"); add("between", "between", "gte");
    } else if (DATE.indexOf(t) >= 0) {
      add("between", "between", "gte"); add("gte", "on or after", "gte"); add("lte", "on or before", "lte");
      add("eq", "on", "eq");
    } else if (t === "choice") {
      add("in", "is any of", "in"); add("notin", "is none of", "in");
    } else if (t === "multichoice") {
      add("cs", "has all of", "cs");
    } else if (t === "boolean") {
      add("is.true", "is yes", "is"); add("is.false", "is no", "is");
    } else if (t === "reference") {
      add("eq", "is", "eq"); add("neq", "is not", "neq");
    } else if (t === "manytomany") {
      add("cs", "includes", "cs");
    }
    if (ops.indexOf("is") >= 0 && t !== "boolean") {
      out.push(["is.null", "is empty"]); out.push(["not.is.null", "is not empty"]);
    }
    return out;
  }

  /* A filter row {field, op, value, value2} -> query pairs. */
  function filterPairs(row) {
    var f = row.field, v = row.value, none = v === undefined || v === null || v === "" ||
      (Array.isArray(v) && !v.length);
    switch (row.op) {
      case "is.null": case "not.is.null": case "is.true": case "is.false":
        return [[f, row.op]];
      case "contains": return none ? [] : [[f, "ilike.*" + likeEscape(v) + "*"]];
      case "starts": return none ? [] : [[f, "ilike." + likeEscape(v) + "*"]];
      case "in": return none ? [] : [[f, "in.(" + [].concat(v).map(listItem).join(",") + ")"]];
      case "notin": return none ? [] : [[f, "not.in.(" + [].concat(v).map(listItem).join(",") + ")"]];
      case "cs": return none ? [] : [[f, "cs.{" + [].concat(v).map(listItem).join(",") + "}"]];
      case "between":
        var out = [];
        if (!none) out.push([f, "gte." + v]);
        if (row.value2 !== undefined && row.value2 !== null && row.value2 !== "") out.push([f, "lte." + row.value2]);
        return out;
      default: return none ? [] : [[f, row.op + "." + v]];
    }
  }

  function parseList(text) {
    var items = [], cur = "", q = false, i;
    for (i = 0; i < text.length; i++) {
      var c = text[i];
      if (q) {
        if (c === "\\" && i + 1 < text.length) { cur += text[++i]; }
        else if (c === '"') q = false;
        else cur += c;
      } else if (c === '"') q = true;
      else if (c === ",") { items.push(cur.trim()); cur = ""; }
      else cur += c;
    }
    if (cur.trim() || items.length) items.push(cur.trim());
    return items;
  }

  /* One query pair -> a filter row (or null when the UI cannot show it as a row). */
  function rowFromPair(key, value) {
    var m;
    if (/^(not\.)?is\.(null|true|false)$/.test(value)) return {field: key, op: value === "not.is.null" ? "not.is.null" : value.replace(/^not\./, "")};
    if ((m = /^ilike\.\*(.*)\*$/.exec(value))) return {field: key, op: "contains", value: likeUnescape(m[1])};
    if ((m = /^ilike\.(.*)\*$/.exec(value))) return {field: key, op: "starts", value: likeUnescape(m[1])};
    if ((m = /^(not\.)?in\.\((.*)\)$/.exec(value))) return {field: key, op: m[1] ? "notin" : "in", value: parseList(m[2])};
    if ((m = /^cs\.\{(.*)\}$/.exec(value))) return {field: key, op: "cs", value: parseList(m[1])};
    if ((m = /^(eq|neq|gt|gte|lt|lte)\.(.*)$/.exec(value))) return {field: key, op: m[1], value: m[2]};
    return null;
  }

  /* The search box: or=(f1.ilike."*q*",f2.ilike."*q*") over the text search fields. */
  function searchPair(model, text) {
    if (!text) return null;
    var fm = xrm.fieldMap(model);
    var fields = (model.searchFields || []).filter(function (n) {
      return fm[n] && TEXT.indexOf(fm[n].type) >= 0;
    });
    if (!fields.length && model.titleField) fields = [model.titleField];
    if (!fields.length) return null;
    var pattern = quote("*" + likeEscape(text) + "*");
    return ["or", "(" + fields.map(function (n) { return n + ".ilike." + pattern; }).join(",") + ")"];
  }
  function searchFrom(value) {
    var m = /\.ilike\."\*(.*?)\*"[,)]/.exec(value);
    if (!m) return null;
    return likeUnescape(m[1].replace(/\\(.)/g, "$1"));
  }

  function orderText(sort) {
    return sort.map(function (s) { return s.field + (s.desc ? ".desc" : ".asc"); }).join(",");
  }
  function parseOrder(text) {
    return (text || "").split(",").filter(Boolean).map(function (t) {
      var parts = t.split(".");
      return {field: parts[0], desc: parts[1] === "desc"};
    });
  }

  /* The query pairs of the current state {filters, search, sort}. */
  function statePairs(model, state) {
    var pairs = [];
    (state.filters || []).forEach(function (r) { pairs = pairs.concat(filterPairs(r)); });
    var s = searchPair(model, state.search);
    if (s) pairs.push(s);
    (state.extra || []).forEach(function (p) { pairs.push(p); });
    if (state.sort && state.sort.length) pairs.push(["order", orderText(state.sort)]);
    return pairs;
  }

  /* A saved query string -> state {filters, search, sort, extra}. */
  function stateFrom(text) {
    var state = {filters: [], search: "", sort: [], extra: []};
    new URLSearchParams(text || "").forEach(function (value, key) {
      if (key === "order") state.sort = parseOrder(value);
      else if (key === "or" && searchFrom(value) !== null) state.search = searchFrom(value);
      else if (["select", "limit", "cursor", "count"].indexOf(key) >= 0) return;
      else {
        var row = rowFromPair(key, value);
        if (row) state.filters.push(row); else state.extra.push([key, value]);
      }
    });
    return state;
  }

  xrm.query = {
    operators: operators, filterPairs: filterPairs, statePairs: statePairs, stateFrom: stateFrom,
    searchPair: searchPair, likeEscape: likeEscape, listItem: listItem, orderText: orderText,
    TEXT: TEXT, NUMBER: NUMBER, DATE: DATE
  };
})(window.xrm);
