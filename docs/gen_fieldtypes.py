"""Generate the field-type and conversion tables of docs/definitions.md from the registry.

    .venv/bin/python docs/gen_fieldtypes.py           # print both tables
    .venv/bin/python docs/gen_fieldtypes.py --write   # rewrite them in docs/definitions.md
    .venv/bin/python docs/gen_fieldtypes.py --check   # exit 1 if definitions.md is out of date

The tables sit between ``<!-- fieldtypes:start -->``/``<!-- fieldtypes:end -->`` and
``<!-- conversions:start -->``/``<!-- conversions:end -->``; everything outside the markers is
left alone. A field type is declared once (xrm/metadata/fieldtypes/), so its documentation is
generated rather than written twice.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from sqlalchemy.dialects import postgresql, sqlite  # noqa: E402

from xrm.metadata.fieldtypes import CONVERSIONS, FIELD_TYPES, FieldType  # noqa: E402
from xrm.metadata.model import FieldSpec  # noqa: E402

DEFINITIONS = ROOT / "docs" / "definitions.md"
SECTIONS = ("fieldtypes", "conversions")
#: ``format`` is accepted on these types although it is not in their keyword list
#: (see validation.semantic_problems): it is how plain JSON Schema selects them.
FORMAT_SELECTS = {"date": "date", "datetime": "date-time", "uuid": "uuid"}


def escape_pipes(text: str) -> str:
    return text.replace("|", "\\|")


def cell(text: str) -> str:
    """Make prose safe inside a markdown table cell (pipes, and ``<name>`` read as HTML)."""
    return escape_pipes(text.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " "))


def code(text: str) -> str:
    return f"`{text}`"


def column_type(sa_type) -> str:
    pg = sa_type.compile(dialect=postgresql.dialect())
    lite = sa_type.compile(dialect=sqlite.dialect())
    return pg if pg == lite else f"{pg} (PostgreSQL) / {lite} (SQLite)"


def describe_columns(ftype: FieldType) -> str:
    if ftype.association:
        return "association table `<table>__<name>` (source_id, target_id)"
    probe = FieldSpec(name="<name>", type=ftype.name, label="probe")
    return "<br>".join(
        f"{code(name)} {column_type(sa_type)}" for name, sa_type, _kw in ftype.columns(probe)
    )


def describe_param(schema: dict) -> str:
    """A one-line summary of a parameter's JSON Schema."""
    if "enum" in schema:
        return " | ".join(code(str(v)) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        item = schema.get("items", {})
        if item.get("type") == "object":
            required = item.get("required", ())
            props = item.get("properties", {})
            keys = ", ".join(f"{k}{'*' if k in required else ''}" for k in props)
            return f"list of {{{keys}}}"
        return f"list of {describe_param(item)}"
    if kind == "string" and "pattern" in schema:
        pattern = schema["pattern"]
        if "[a-z0-9]{1,15}" in pattern:
            return "entity name"
        if pattern == "^[A-Z]{3}$":
            return "ISO 4217 code"
        return f"string matching {code(pattern)}"
    if kind == "integer" and "minimum" in schema and "maximum" in schema:
        return f"integer {schema['minimum']}..{schema['maximum']}"
    return str(kind)


def describe_params(ftype: FieldType) -> str:
    if not ftype.params:
        return ""
    params = ftype.params.items()
    return "<br>".join(f"{code(k)}: {escape_pipes(describe_param(v))}" for k, v in params)


def describe_keywords(ftype: FieldType) -> str:
    words = [code(k) for k in ftype.keywords]
    if ftype.name in FORMAT_SELECTS:
        words.append(code(f'format: "{FORMAT_SELECTS[ftype.name]}"'))
    return ", ".join(words)


def notes(ftype: FieldType) -> str:
    out = []
    if ftype.generated:
        out.append("generated, read-only")
    if not ftype.sortable:
        out.append("not sortable, no index")
    if ftype.association:
        out.append("association table")
    return ", ".join(out)


def fieldtypes_table() -> str:
    lines = [
        "| Type | Label | What it is | Columns | Filter operators | `x-xrm` parameters "
        "| JSON Schema keywords | Notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for ftype in FIELD_TYPES.values():
        lines.append(
            "| "
            + " | ".join(
                [
                    code(ftype.name),
                    cell(ftype.label),
                    cell(ftype.doc),
                    describe_columns(ftype),
                    ", ".join(ftype.operators),
                    describe_params(ftype),
                    describe_keywords(ftype),
                    notes(ftype),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def conversions_table() -> str:
    lines = ["| From | `safe` to | `checked` to |", "|---|---|---|"]
    for src in FIELD_TYPES:
        by_risk: dict[str, list[str]] = {"safe": [], "checked": []}
        for (a, b), risk in CONVERSIONS.items():
            if a == src:
                by_risk[risk].append(b)
        if not any(by_risk.values()):
            continue
        cells = [", ".join(code(t) for t in sorted(by_risk[r])) or "-" for r in ("safe", "checked")]
        lines.append(f"| {code(src)} | {' | '.join(cells)} |")
    never = [code(t) for t in FIELD_TYPES if not any(t in pair for pair in CONVERSIONS)]
    lines.append("")
    lines.append(
        f"{len(CONVERSIONS)} conversions. Never converted, in either direction: "
        + ", ".join(never)
        + ". Any pair not listed is refused by the planner."
    )
    return "\n".join(lines)


def generate() -> dict[str, str]:
    return {"fieldtypes": fieldtypes_table(), "conversions": conversions_table()}


def rewrite(text: str, sections: dict[str, str]) -> str:
    for name, body in sections.items():
        pattern = re.compile(rf"(<!-- {name}:start -->).*?(<!-- {name}:end -->)", flags=re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"{DEFINITIONS}: markers <!-- {name}:start/end --> not found")
        text = pattern.sub(lambda m, body=body: f"{m.group(1)}\n{body}\n{m.group(2)}", text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the sections in place")
    mode.add_argument("--check", action="store_true", help="fail if the sections are stale")
    args = parser.parse_args(argv)
    sections = generate()
    if not (args.write or args.check):
        for name in SECTIONS:
            print(f"<!-- {name}:start -->\n{sections[name]}\n<!-- {name}:end -->\n")
        return 0
    current = DEFINITIONS.read_text(encoding="utf-8")
    updated = rewrite(current, sections)
    if args.check:
        if updated != current:
            print(f"{DEFINITIONS} is out of date; run: python docs/gen_fieldtypes.py --write")
            return 1
        return 0
    if updated != current:
        DEFINITIONS.write_text(updated, encoding="utf-8")
    print(f"{DEFINITIONS}: {'updated' if updated != current else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
