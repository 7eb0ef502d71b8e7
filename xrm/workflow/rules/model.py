"""The model of a rule set: validation rules, computed fields, defaults and form rules of one
entity. A rule set document (``schemas/rules.schema.json``) is separate from workflows: an
entity may have rules without having a workflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from xrm.metadata.model import fingerprint, freeze
from xrm.metadata.validation import pointer


@dataclass(frozen=True)
class ValidationRule:
    """``expression`` must hold for a valid record (when ``when`` holds); otherwise ``message``
    is reported on ``field`` (or on the whole record)."""

    name: str
    expression: str
    message: str
    pointer: str
    field: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class ComputedField:
    """``field`` always holds the value of ``expression``; computed before validation, in
    dependency order."""

    field: str
    expression: str
    pointer: str


@dataclass(frozen=True)
class DefaultRule:
    """A new record without a value for ``field`` gets the value of ``expression`` (when
    ``when`` holds). Several defaults for one field: the first that applies wins."""

    field: str
    expression: str
    pointer: str
    when: str | None = None


@dataclass(frozen=True)
class FormRule:
    """While ``when`` holds: ``show`` fields are shown (hidden otherwise), ``hide`` fields are
    hidden, ``require`` fields are required, ``read_only`` fields cannot change."""

    name: str
    when: str
    pointer: str
    show: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    name: str
    entity: str
    label: str
    validations: tuple[ValidationRule, ...] = ()
    computed: tuple[ComputedField, ...] = ()
    defaults: tuple[DefaultRule, ...] = ()
    form_rules: tuple[FormRule, ...] = ()
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.document)


def parse_rules(doc: Mapping[str, Any]) -> RuleSet:
    """Build the model from a document that already passed the meta-schema."""
    return RuleSet(
        name=doc["name"],
        entity=doc["entity"],
        label=doc.get("label") or doc["name"].split(".", 1)[-1].replace("_", " ").capitalize(),
        validations=tuple(
            ValidationRule(
                name=r["name"],
                expression=r["expression"],
                message=r["message"],
                pointer=pointer("validations", i),
                field=r.get("field"),
                when=r.get("when"),
            )
            for i, r in enumerate(doc.get("validations", ()))
        ),
        computed=tuple(
            ComputedField(r["field"], r["expression"], pointer("computed", i))
            for i, r in enumerate(doc.get("computed", ()))
        ),
        defaults=tuple(
            DefaultRule(r["field"], r["expression"], pointer("defaults", i), r.get("when"))
            for i, r in enumerate(doc.get("defaults", ()))
        ),
        form_rules=tuple(
            FormRule(
                name=r["name"],
                when=r["when"],
                pointer=pointer("formRules", i),
                show=tuple(r.get("show", ())),
                hide=tuple(r.get("hide", ())),
                require=tuple(r.get("require", ())),
                read_only=tuple(r.get("readOnly", ())),
            )
            for i, r in enumerate(doc.get("formRules", ()))
        ),
        document=freeze(dict(doc)),
    )
