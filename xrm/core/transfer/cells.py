"""Field values as spreadsheet cells, both ways.

Export writes each value as text that import reads back to the same value (XLSX: a typed cell
where the type is exact, text otherwise). Import hands cells to the field types' lenient
coercion (the one place values are checked), after the few translations text needs that
coercion does not do itself:

=============  =============================  ============================================
type           text                           notes
=============  =============================  ============================================
money          ``12.50 EUR``                  also ``EUR 12.50``; a bare amount takes the
                                              field's default currency
regarding      ``crm.account:42``             entity name, colon, record id
multichoice    ``email; phone``               values split on ``;`` or ``,``
manytomany     ``3; 7``                       record ids
boolean        ``true`` / ``false``           also yes/no, 1/0, on/off, x
json           ``{"a": 1}``                   JSON text
datetime       ``2026-03-01T09:30:00Z``       UTC; a value without offset is taken as UTC
=============  =============================  ============================================
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from ...metadata.fieldtypes import FieldValueError
from ...metadata.model import FieldSpec

#: Types whose text is translated here before the field type sees it.
TEXT_TRANSLATED = frozenset({"money", "regarding"})
#: Types whose text is taken as it is: spaces are text (elsewhere a cell of spaces is empty).
VERBATIM_TYPES = frozenset({"text", "longtext"})
#: Types whose values are numbers: an XLSX number cell is handed over as a number.
NUMERIC_TYPES = frozenset({"integer", "bigint", "decimal", "float", "reference"})
MONEY_TEXT = re.compile(
    r"^\s*(?:([A-Za-z]{3})\s+)?([-+]?[0-9][0-9.]*|[-+]?\.[0-9]+)(?:\s+([A-Za-z]{3}))?\s*$"
)
REGARDING_TEXT = re.compile(r"^\s*([a-z][a-z0-9_.]*)\s*[:/#]\s*([0-9]+)\s*$")
#: Control characters an XLSX cell cannot hold: openpyxl's ``ILLEGAL_CHARACTERS_RE``, copied so
#: that openpyxl is imported on the first spreadsheet, not at start-up.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: Largest integer a spreadsheet number keeps exactly (IEEE double).
EXACT_INT = 2**53


# -- import ---------------------------------------------------------------------------------------


def is_empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def cell_input(spec: FieldSpec, cell: Any) -> Any:
    """A non-empty cell (CSV text or an XLSX value) -> the value for lenient validation.
    Raises :class:`FieldValueError` for text that cannot be one (the message follows the label).
    """
    ftype = spec.type
    if isinstance(cell, str):
        if ftype == "money":
            return _money(spec, cell)
        if ftype == "regarding":
            m = REGARDING_TEXT.match(cell)
            if not m:
                raise FieldValueError(f"{cell!r} is not a record such as crm.account:42")
            return {"entity": m.group(1), "id": int(m.group(2))}
        return cell
    # A typed XLSX cell.
    if isinstance(cell, bool):
        return cell if ftype in ("boolean", "integer", "bigint") else str(cell).lower()
    if isinstance(cell, int | float | Decimal):
        if ftype == "money":
            return _money(spec, _number_text(cell))
        if ftype in NUMERIC_TYPES:
            return cell
        if ftype == "manytomany":
            return [_number_text(cell)]
        return _number_text(cell)
    if isinstance(cell, dt.datetime):
        if ftype in ("date", "datetime"):
            return cell
        if ftype == "text" and cell.time() == dt.time():
            return cell.date().isoformat()
        return cell.isoformat()
    if isinstance(cell, dt.date | dt.time):
        return cell if ftype in ("date", "datetime") else cell.isoformat()
    return str(cell)


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_INT:
        return str(int(value))
    return str(value)


def _money(spec: FieldSpec, text: str) -> Any:
    m = MONEY_TEXT.match(text)
    if not m or (m.group(1) and m.group(3)):
        raise FieldValueError(f"{text!r} is not an amount such as 12.50 EUR")
    currency = (m.group(1) or m.group(3) or spec.opt("defaultCurrency") or "").upper()
    if not currency:
        raise FieldValueError(f"{text!r} has no currency; write it as {m.group(2)} EUR")
    return {"amount": m.group(2), "currency": currency}


# -- export ---------------------------------------------------------------------------------------


def text_of(ftype: str, value: Any) -> str:
    """A record's JSON value -> the text of its CSV cell (empty for null)."""
    if value is None:
        return ""
    if ftype == "boolean":
        return "true" if value else "false"
    if ftype == "money":
        return f"{value['amount']} {value['currency']}"
    if ftype == "regarding":
        return f"{value['entity']}:{value['id']}"
    if ftype in ("multichoice", "manytomany"):
        return "; ".join(str(v) for v in value)
    if ftype == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def xlsx_of(ftype: str, spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """A record's JSON value -> (XLSX cell value, number format or None). Typed cells only
    where the spreadsheet keeps the value exactly; text otherwise."""
    if value is None:
        return None, None
    if ftype == "boolean":
        return bool(value), None
    if ftype in ("integer", "bigint", "reference") and isinstance(value, int):
        return (value, None) if abs(value) < EXACT_INT else (str(value), None)
    if ftype == "float":
        return value, None
    if ftype == "decimal":
        d = Decimal(value)
        if Decimal(repr(float(d))).quantize(d) == d and len(d.as_tuple().digits) <= 15:
            scale = -d.as_tuple().exponent
            return float(d), "0" if scale <= 0 else "0." + "0" * scale
        return value, None
    if ftype == "date":
        return dt.date.fromisoformat(value), "yyyy-mm-dd"
    if ftype == "datetime":
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
        # A spreadsheet keeps milliseconds at best: finer instants stay text.
        if moment.microsecond == 0:
            return moment, "yyyy-mm-dd hh:mm:ss"
        return value, None
    # Text cannot carry the control characters XLSX forbids.
    return ILLEGAL_CHARACTERS_RE.sub("", text_of(ftype, value)), None
