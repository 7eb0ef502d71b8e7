/* The field types of docs/definitions.md as data: which JSON type a field has, which
 * constraint keywords and x-xrm parameters apply, and how the editor reads and writes them.
 * XA.fieldTypes.typeOf(schema) infers a field's type like xrm.metadata.model.infer_field_type. */
(function () {
  "use strict";

  var NUM = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
  var TYPES = {
    text: {label: "Text", json: "string", keywords: ["maxLength", "minLength", "pattern", "format"], params: []},
    longtext: {label: "Long text", json: "string", keywords: ["maxLength", "minLength", "pattern"], params: []},
    integer: {label: "Whole number", json: "integer", keywords: NUM, params: []},
    bigint: {label: "Big whole number", json: "integer", keywords: NUM, params: []},
    decimal: {label: "Decimal", json: null, keywords: NUM, params: ["precision", "scale"]},
    float: {label: "Floating-point number", json: "number", keywords: NUM, params: []},
    money: {label: "Money", json: "object", keywords: NUM, params: ["scale", "defaultCurrency", "currencies"]},
    boolean: {label: "Yes/No", json: "boolean", keywords: [], params: []},
    date: {label: "Date", json: "string", format: "date", keywords: ["format"], params: []},
    datetime: {label: "Date and time", json: "string", format: "date-time", keywords: ["format"], params: []},
    choice: {label: "Choice", json: "string", keywords: ["enum"], params: ["options", "optionSet"]},
    multichoice: {label: "Multiple choice", json: "array", keywords: ["items", "minItems", "maxItems"], params: ["options", "optionSet"]},
    json: {label: "JSON object", json: "object", keywords: [], params: []},
    uuid: {label: "UUID", json: "string", format: "uuid", keywords: ["format"], params: ["generate"]},
    autonumber: {label: "Autonumber", json: "string", keywords: [], params: ["format"]},
    reference: {label: "Reference (N:1)", json: "integer", keywords: [], params: ["target", "onDelete"]},
    regarding: {label: "Reference to any entity", json: "object", keywords: [], params: ["targets"]},
    manytomany: {label: "Many-to-many", json: "array", keywords: [], params: ["target"]}
  };
  var UNSORTABLE = ["multichoice", "json", "regarding", "manytomany"];
  var RELATIONS = ["reference", "regarding", "manytomany"];
  var ALL_KEYWORDS = ["type", "format", "maxLength", "minLength", "pattern", "enum", "items",
    "minItems", "maxItems"].concat(NUM);

  function jsonType(schema) {
    var t = schema.type;
    if (Array.isArray(t)) t = t.filter(function (x) { return x !== "null"; })[0];
    return t;
  }

  function typeOf(schema) {
    var x = schema["x-xrm"] || {};
    if (x.type) return x.type;
    var t = jsonType(schema);
    if (t === "string") {
      if (schema["enum"]) return "choice";
      if (schema.format === "date") return "date";
      if (schema.format === "date-time") return "datetime";
      if (schema.format === "uuid") return "uuid";
      return "text";
    }
    if (t === "integer") return "integer";
    if (t === "number") return "float";
    if (t === "boolean") return "boolean";
    if (t === "object") return "json";
    if (t === "array" && schema.items && schema.items["enum"]) return "multichoice";
    return "";
  }

  /* Whether the type is inferred from plain JSON Schema without x-xrm.type. */
  function inferable(type, schema) {
    var probe = JSON.parse(JSON.stringify(schema));
    if (probe["x-xrm"]) delete probe["x-xrm"].type;
    return typeOf(probe) === type;
  }

  /* A copy of ``schema`` turned into a field of ``type``: keywords and parameters that do not
   * apply to the new type are dropped (the planner would refuse them), the JSON type is made
   * to fit. Everything else (title, description, $comment...) is kept. */
  function retype(schema, type) {
    var spec = TYPES[type];
    var out = JSON.parse(JSON.stringify(schema));
    var x = out["x-xrm"] || {};
    ALL_KEYWORDS.forEach(function (k) {
      if (k !== "type" && spec.keywords.indexOf(k) < 0) delete out[k];
    });
    Object.keys(x).forEach(function (k) {
      if (["type", "unique", "index", "renamedFrom"].indexOf(k) < 0 && spec.params.indexOf(k) < 0) delete x[k];
    });
    if (UNSORTABLE.indexOf(type) >= 0 && type !== "regarding") { delete x.unique; delete x.index; }
    if (spec.json) out.type = spec.json; else delete out.type;
    if (spec.format) out.format = spec.format;
    if (type === "manytomany") out.items = {type: "integer"};
    if (type === "multichoice") out.items = {type: "string", "enum": (out.items && out.items["enum"]) || []};
    if (type === "autonumber") out.readOnly = true;
    x.type = type;
    if (inferable(type, {type: out.type, format: out.format, "enum": out["enum"], items: out.items})) delete x.type;
    if (Object.keys(x).length) out["x-xrm"] = x; else delete out["x-xrm"];
    return out;
  }

  /* Parse the text of a default value for a field of ``type``; throws with a message. */
  function parseDefault(type, text) {
    if (text === "") return undefined;
    if (["text", "longtext", "date", "datetime", "choice", "uuid"].indexOf(type) >= 0) return text;
    if (type === "integer" || type === "bigint") {
      if (!/^-?\d+$/.test(text)) throw new Error("the default must be a whole number");
      return parseInt(text, 10);
    }
    if (type === "float") {
      var f = Number(text);
      if (text.trim() === "" || !isFinite(f)) throw new Error("the default must be a number");
      return f;
    }
    if (type === "decimal") {
      if (!/^-?\d+(\.\d+)?$/.test(text.trim())) throw new Error("the default must be a decimal number such as 12.50");
      return text.trim();
    }
    if (type === "boolean") {
      if (text === "true") return true;
      if (text === "false") return false;
      throw new Error("the default is true or false");
    }
    try { return JSON.parse(text); } catch (e) { throw new Error("the default must be JSON here (" + e.message + ")"); }
  }

  function formatDefault(type, value) {
    if (value === undefined) return "";
    if (typeof value === "string" && type !== "json" && type !== "multichoice" && type !== "money") return value;
    return JSON.stringify(value);
  }

  window.XA.fieldTypes = {
    TYPES: TYPES, UNSORTABLE: UNSORTABLE, RELATIONS: RELATIONS, typeOf: typeOf, retype: retype,
    parseDefault: parseDefault, formatDefault: formatDefault,
    names: Object.keys(TYPES)
  };
})();
