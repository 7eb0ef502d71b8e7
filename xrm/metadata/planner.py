"""The migration planner: a pure function from (old, new) definitions to typed operations.

No database is touched here. Every operation carries its risk:

* ``safe``: cannot lose or reject data (add a nullable field, add an index, widen a column);
* ``checked``: existing rows might not fit (type conversion, new required field, new unique
  constraint, tightened constraint); the migrator counts them before changing anything;
* ``destructive``: data leaves the live schema (a removed field is archived, restorable, until
  an explicit purge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa

from .errors import DefinitionProblem
from .fieldtypes import CONVERSIONS, FIELD_TYPES
from .fieldtypes.scalars import DEFAULT_TEXT_LENGTH
from .model import EntityDefinition, FieldSpec, thaw
from .validation import pointer


class Risk(StrEnum):
    SAFE = "safe"
    CHECKED = "checked"
    DESTRUCTIVE = "destructive"

    @property
    def rank(self) -> int:
        return ("safe", "checked", "destructive").index(self.value)


@dataclass(frozen=True)
class Operation:
    entity: str
    kind: ClassVar[str] = "operation"
    risk: ClassVar[Risk] = Risk.SAFE

    def describe(self) -> str:
        return self.kind

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "op": self.kind,
            "entity": self.entity,
            "risk": self.risk_of.value,
            "description": self.describe(),
        }
        for f in fields(self):
            key, value = f.name, getattr(self, f.name)
            if key == "entity":
                continue
            if isinstance(value, FieldSpec):
                out[key] = value.name
            else:
                out[key] = thaw(value)
        return out

    @property
    def risk_of(self) -> Risk:
        return self.risk


@dataclass(frozen=True)
class CreateEntity(Operation):
    kind: ClassVar[str] = "create_entity"

    def describe(self) -> str:
        return f"create entity {self.entity} (new table)"


@dataclass(frozen=True)
class UpdateEntityOptions(Operation):
    """Labels, title/search fields, list columns, audit...: the definition row only."""

    changed: tuple[str, ...] = ()
    kind: ClassVar[str] = "update_entity"

    def describe(self) -> str:
        return f"update options of {self.entity}: {', '.join(self.changed)}"


@dataclass(frozen=True)
class ArchiveEntity(Operation):
    kind: ClassVar[str] = "archive_entity"
    risk: ClassVar[Risk] = Risk.DESTRUCTIVE

    def describe(self) -> str:
        return f"remove entity {self.entity}: its table is archived (hidden, restorable)"


@dataclass(frozen=True)
class AddField(Operation):
    field: FieldSpec = None  # type: ignore[assignment]
    kind: ClassVar[str] = "add_field"

    @property
    def risk_of(self) -> Risk:
        # A required field without default cannot be filled for existing rows.
        return Risk.CHECKED if self.field.required and not self.field.has_default else Risk.SAFE

    def describe(self) -> str:
        extra = ""
        if self.field.has_default and self.field.default is not None:
            extra = f", existing rows get {thaw(self.field.default)!r}"
        elif self.field.required:
            extra = ", required: refused if the entity has rows"
        return f"add {self.field.type} field {self.field.name}{extra}"


@dataclass(frozen=True)
class RenameField(Operation):
    old: FieldSpec = None  # type: ignore[assignment]
    new: FieldSpec = None  # type: ignore[assignment]
    kind: ClassVar[str] = "rename_field"

    def describe(self) -> str:
        return f"rename field {self.old.name} to {self.new.name} (data kept)"


@dataclass(frozen=True)
class RestoreField(Operation):
    """A removed field defined again with the same type and rules: its archived data comes back."""

    field: FieldSpec = None  # type: ignore[assignment]
    kind: ClassVar[str] = "restore_field"

    def describe(self) -> str:
        return f"restore field {self.field.name} with its archived data"


@dataclass(frozen=True)
class ArchiveField(Operation):
    field: FieldSpec = None  # type: ignore[assignment]
    kind: ClassVar[str] = "archive_field"
    risk: ClassVar[Risk] = Risk.DESTRUCTIVE

    def describe(self) -> str:
        return f"remove field {self.field.name}: its data is archived (hidden, restorable until purged)"


@dataclass(frozen=True)
class ConvertField(Operation):
    """Type change: values are converted one by one into a new column; the old column is
    archived, so the original data stays restorable."""

    old: FieldSpec = None  # type: ignore[assignment]
    new: FieldSpec = None  # type: ignore[assignment]
    conversion: str = "checked"
    kind: ClassVar[str] = "convert_field"

    @property
    def risk_of(self) -> Risk:
        return Risk(self.conversion)

    def describe(self) -> str:
        return f"convert field {self.new.name} from {self.old.type} to {self.new.type}"


@dataclass(frozen=True)
class AlterField(Operation):
    """Same type, different parameters or constraints (length, precision, enum, range,
    required, on-delete...)."""

    old: FieldSpec = None  # type: ignore[assignment]
    new: FieldSpec = None  # type: ignore[assignment]
    changes: tuple[str, ...] = ()
    tightened: bool = False
    column_change: bool = False
    kind: ClassVar[str] = "alter_field"

    @property
    def risk_of(self) -> Risk:
        return Risk.CHECKED if self.tightened else Risk.SAFE

    def describe(self) -> str:
        return f"change {', '.join(self.changes)} of field {self.new.name}"


@dataclass(frozen=True)
class AddIndex(Operation):
    name: str = ""
    columns: tuple[str, ...] = ()
    unique: bool = False
    fields: tuple[str, ...] = ()
    kind: ClassVar[str] = "add_index"

    @property
    def risk_of(self) -> Risk:
        return Risk.CHECKED if self.unique else Risk.SAFE

    def describe(self) -> str:
        what = "unique constraint" if self.unique else "index"
        return f"add {what} on {', '.join(self.fields or self.columns)}"


@dataclass(frozen=True)
class DropIndex(Operation):
    name: str = ""
    columns: tuple[str, ...] = ()
    unique: bool = False
    kind: ClassVar[str] = "drop_index"

    def describe(self) -> str:
        what = "unique constraint" if self.unique else "index"
        return f"drop {what} {self.name}"


@dataclass
class MigrationPlan:
    """What applying new definitions would do. ``problems`` are changes that cannot be made."""

    operations: list[Operation] = field(default_factory=list)
    problems: list[DefinitionProblem] = field(default_factory=list)
    definitions: dict[str, EntityDefinition] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    base_version: int | None = None
    #: Filled by the migrator's data checks: op index -> {"failing": n, "samples": [...]}.
    checks: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: The definition layers and option sets the registry writes when the plan is applied.
    layer_changes: list[Any] = field(default_factory=list)
    option_sets: list[dict[str, Any]] = field(default_factory=list)
    #: Documents of the layers above that the apply rewrites to follow a renamed field
    #: (``{"kind", "name"}``; filled by the registry's plan checks).
    followed: list[dict[str, str]] = field(default_factory=list)

    @property
    def risk(self) -> Risk:
        ranks = [op.risk_of for op in self.operations]
        return max(ranks, key=lambda r: r.rank) if ranks else Risk.SAFE

    @property
    def is_empty(self) -> bool:
        return not self.operations

    @property
    def changed_entities(self) -> list[str]:
        return sorted({op.entity for op in self.operations})

    def as_dict(self) -> dict[str, Any]:
        ops = []
        for i, op in enumerate(self.operations):
            d = op.as_dict()
            if i in self.checks:
                d["check"] = self.checks[i]
            ops.append(d)
        return {
            "baseVersion": self.base_version,
            "risk": self.risk.value,
            "operations": ops,
            "problems": [p.as_dict() for p in self.problems],
            "optionSets": [s["name"] for s in self.option_sets],
            **({"followed": list(self.followed)} if self.followed else {}),
        }


def plan_entity(
    old: EntityDefinition | None,
    new: EntityDefinition,
    archived: Mapping[str, FieldSpec] | None = None,
) -> tuple[list[Operation], list[DefinitionProblem]]:
    """Operations turning ``old`` (None: does not exist yet) into ``new``. ``archived`` holds
    the removed fields of the entity whose data is still archived: defining one of them again
    with the same type and rules restores its data instead of adding an empty field."""
    if old is None:
        return [CreateEntity(new.name)], []
    ops: list[Operation] = []
    problems: list[DefinitionProblem] = []
    options = _entity_option_changes(old, new)
    if options:
        ops.append(UpdateEntityOptions(new.name, changed=options))
    old_fields = old.field_map
    new_names = {f.name for f in new.fields}
    matched: set[str] = set()
    field_ops: list[Operation] = []
    for nf in new.fields:
        of = old_fields.get(nf.name)
        if of is None:
            source = next(
                (r for r in nf.renamed_from if r in old_fields and r not in new_names), None
            )
            if source is not None:
                of = old_fields[source]
                matched.add(source)
                field_ops.append(RenameField(new.name, old=of, new=_renamed(of, nf.name)))
                of = _renamed(of, nf.name)
            elif archived and _restorable(archived.get(nf.name), nf):
                field_ops.append(RestoreField(new.name, field=nf))
                continue
            else:
                field_ops.append(AddField(new.name, field=nf))
                continue
        else:
            matched.add(nf.name)
        field_ops.extend(_plan_field_change(new.name, of, nf, problems))
    for of in old.fields:
        if of.name not in matched:
            field_ops.append(ArchiveField(new.name, field=of))

    old_ix, new_ix = index_set(old, renames=_rename_map(field_ops)), index_set(new)
    drops = [
        DropIndex(new.name, name=n, columns=c, unique=u)
        for n, (c, u, _f) in old_ix.items()
        if n not in new_ix or new_ix[n][:2] != (c, u)
    ]
    adds = [
        AddIndex(new.name, name=n, columns=c, unique=u, fields=f)
        for n, (c, u, f) in new_ix.items()
        if n not in old_ix or old_ix[n][:2] != (c, u)
    ]
    return ops + drops + field_ops + adds, problems


def _restorable(archived: FieldSpec | None, new: FieldSpec) -> bool:
    if archived is None:
        return False
    same = ("type", "schema", "options", "required")
    return all(thaw(getattr(archived, k)) == thaw(getattr(new, k)) for k in same)


def _renamed(spec: FieldSpec, name: str) -> FieldSpec:
    from dataclasses import replace

    return replace(spec, name=name)


def _rename_map(ops: list[Operation]) -> dict[str, str]:
    return {op.old.name: op.new.name for op in ops if isinstance(op, RenameField)}


def index_set(
    defn: EntityDefinition, renames: Mapping[str, str] | None = None
) -> dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]]:
    """The physical indexes a definition implies: name -> (columns, unique, fields).

    Old indexes are reported under their current names (the rename of a field keeps the
    index but, since names derive from columns, it is dropped and recreated under the new name).
    """
    from .compiler import build_tables

    table, _ = build_tables(defn, sa.MetaData())
    out = {}
    col_field = {c: f.name for f in defn.fields for c in FIELD_TYPES[f.type].column_names(f)}
    for ix in table.indexes:
        cols = tuple(c.name for c in ix.columns)
        if cols == ("owner_id",):
            continue
        fields = tuple(dict.fromkeys(col_field.get(c, c) for c in cols))
        out[ix.name] = (cols, bool(ix.unique), fields)
    return out


def _entity_option_changes(old: EntityDefinition, new: EntityDefinition) -> tuple[str, ...]:
    keys = (
        "label",
        "label_plural",
        "description",
        "title_field",
        "search_fields",
        "list_columns",
        "ownership",
        "audit",
    )
    changed = [k for k in keys if getattr(old, k) != getattr(new, k)]
    return tuple(changed)


def _plan_field_change(
    entity: str, old: FieldSpec, new: FieldSpec, problems: list[DefinitionProblem]
) -> list[Operation]:
    if old.type != new.type:
        conversion = CONVERSIONS.get((old.type, new.type))
        if (
            conversion is None
            or FIELD_TYPES[old.type].association
            or FIELD_TYPES[new.type].association
        ):
            problems.append(
                DefinitionProblem(
                    pointer("properties", new.name, "x-xrm", "type"),
                    f"field {entity}.{new.name} cannot be converted from {old.type} to {new.type}; "
                    f"add a new field and copy the data instead",
                )
            )
            return []
        return [ConvertField(entity, old=old, new=new, conversion=conversion)]
    changes, tightened, column_change = [], False, False
    if thaw(old.schema) != thaw(new.schema):
        for key in sorted(set(old.schema) | set(new.schema)):
            a, b = thaw(old.schema.get(key)), thaw(new.schema.get(key))
            if a == b:
                continue
            changes.append(key)
            if key == "enum":
                tightened |= not set(a or ()) <= set(b or ())
            elif key == "maxLength":
                column_change |= new.type == "text"
                if new.type == "text":  # no maxLength means the default length, not unlimited
                    a, b = a or DEFAULT_TEXT_LENGTH, b or DEFAULT_TEXT_LENGTH
                tightened |= b is not None and (a is None or b < a)
            else:
                tightened |= b is not None
    if old.required != new.required:
        changes.append("required")
        tightened |= new.required
    for key in sorted(set(old.options) | set(new.options)):
        a, b = thaw(old.options.get(key)), thaw(new.options.get(key))
        if a == b:
            continue
        if key == "target":
            problems.append(
                DefinitionProblem(
                    pointer("properties", new.name, "x-xrm", "target"),
                    f"the target of {entity}.{new.name} cannot change ({a} -> {b}); add a new field",
                )
            )
            continue
        changes.append(key)
        if key in ("precision", "scale"):
            column_change = True
            tightened |= (b or 0) < (a or 0) or key == "scale"
        elif key == "onDelete":
            column_change = True
        elif key in ("currencies", "targets"):
            tightened |= (
                b is not None and not set(a or ()) >= set(b)
                if a is None
                else not set(a) <= set(b or a)
            )
    for key in ("label", "description", "default", "readonly", "maintained_by"):
        if getattr(old, key) != getattr(new, key):
            changes.append(key)
    if not changes:
        return []
    return [
        AlterField(
            entity,
            old=old,
            new=new,
            changes=tuple(changes),
            tightened=tightened,
            column_change=column_change,
        )
    ]


def plan_changes(
    current: Mapping[str, EntityDefinition],
    new: Mapping[str, EntityDefinition],
    removed: tuple[str, ...] = (),
    base_version: int | None = None,
    archived: Mapping[str, Mapping[str, FieldSpec]] | None = None,
) -> MigrationPlan:
    """Plan a batch: ``new`` replaces (or adds) definitions, ``removed`` are archived.
    ``archived`` maps entity -> field -> spec of removed fields whose data is kept."""
    plan = MigrationPlan(definitions=dict(new), removed=tuple(removed), base_version=base_version)
    creates, others = [], []
    for name in sorted(new):
        ops, problems = plan_entity(current.get(name), new[name], (archived or {}).get(name))
        plan.problems.extend(problems)
        (creates if ops and isinstance(ops[0], CreateEntity) else others).extend(ops)
    plan.operations = _order_creates(creates, new) + others
    for name in removed:
        if name in current:
            plan.operations.append(ArchiveEntity(name))
        else:
            plan.problems.append(DefinitionProblem("", f"entity {name!r} does not exist"))
    return plan


def _order_creates(
    creates: list[Operation], new: Mapping[str, EntityDefinition]
) -> list[Operation]:
    """New tables in dependency order (targets first), so foreign keys can be created inline."""
    names = [op.entity for op in creates]
    pending = set(names)
    ordered: list[str] = []
    while pending:
        ready = sorted(
            n
            for n in pending
            if not any(
                f.opt("target") in pending and f.opt("target") != n
                for f in new[n].fields
                if f.type == "reference"
            )
        )
        if not ready:  # a cycle: the migrator adds the remaining foreign keys afterwards
            ready = sorted(pending)
        ordered.extend(ready)
        pending -= set(ready)
    return [CreateEntity(n) for n in ordered]
