"""The administration API's request bodies for roles, grants and users, checked.

The API's rule, as for records: a body that is not a JSON object is malformed (400, the web
layer's), while a well-formed body whose values do not fit is invalid - 422, with every problem
at once, each with the JSON pointer of the value at fault (:func:`field_problem`). The checks
are pure: they look at the body only; whether a named role exists is the caller's question
(:func:`existing_roles`). Teams (:mod:`.teams`) check their bodies with the same pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...metadata.fieldtypes.base import FieldValueError
from ...metadata.fieldtypes.scalars import check_text
from ..records.errors import RecordInvalid, field_problem, invalid
from .access import SCOPES
from .permissions import ENTITY_ACTIONS

#: The longest role name (Flask-AppBuilder's ``ab_role.name``).
ROLE_NAME_LIMIT = 64
#: The longest user name, e-mail address, first or last name the API takes.
USER_TEXT_LIMIT = 256
USER_TEXTS = ("username", "email", "firstName", "lastName")


class RoleInvalid(RecordInvalid):
    title = "Invalid role"


class GrantInvalid(RecordInvalid):
    title = "Invalid grant"


class UserInvalid(RecordInvalid):
    title = "Invalid user"


def storable(value: str) -> bool:
    """Text every database stores (the field types' :func:`check_text`: no NUL, no lone
    surrogates); anything else cannot be a name found in the database either."""
    try:
        check_text(value)
    except FieldValueError:
        return False
    return True


_JSON_TYPES = (
    (bool, "boolean"),
    ((int, float), "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _json_type(value: Any) -> str:
    """The JSON name of a parsed JSON value's type, for messages."""
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "null")


def _shown(value: Any) -> str:
    """A value of a body for a message: a short string as it is, anything else by its type."""
    if isinstance(value, str) and len(value) <= 64:
        return repr(value)
    return _json_type(value)


def _has_controls(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def text_problem(
    field: str, value: Any, *, limit: int, required: bool = False, controls: bool = False
) -> str | None:
    """What is wrong with a text value of a body (None: nothing). ``required``: present and
    not blank; ``controls``: control characters are allowed (a description)."""
    if value is None:
        return f"{field} is required" if required else None
    if not isinstance(value, str):
        return f"{field} is a string, got {_json_type(value)}"
    if required and not value.strip():
        return f"{field} may not be blank"
    if len(value) > limit:
        return f"{field} has at most {limit} characters, got {len(value)}"
    if not storable(value):
        return f"{field} is not text a database stores (a NUL character, or invalid Unicode)"
    if not controls and _has_controls(value):
        return f"{field} may not contain control characters"
    return None


def check_role(body: Mapping[str, Any]) -> str:
    """The name of a new role (``{"name"}``); raise :class:`RoleInvalid`."""
    found = text_problem("name", body.get("name"), limit=ROLE_NAME_LIMIT, required=True)
    if found is not None:
        raise invalid(RoleInvalid, "role", [field_problem("name", found)])
    return body["name"]


def check_grant(
    body: Mapping[str, Any], entity: str, *, owned_by_users: bool
) -> tuple[list[str], str]:
    """The ``actions`` and record ``scope`` a role is given on ``entity``; raise
    :class:`GrantInvalid`. An entity whose records have no owner takes only the ``all`` scope:
    ``own`` or ``team`` would hide every record."""
    problems = []
    actions, scope = body.get("actions", []), body.get("scope", "all")
    if not isinstance(actions, list):
        problems.append(
            field_problem("actions", f"actions is a list of {', '.join(ENTITY_ACTIONS)}")
        )
    else:
        problems += [
            field_problem(
                "actions", f"unknown action {_shown(a)}; one of {', '.join(ENTITY_ACTIONS)}", i
            )
            for i, a in enumerate(actions)
            if not isinstance(a, str) or a not in ENTITY_ACTIONS
        ]
    if not isinstance(scope, str) or scope not in SCOPES:
        problems.append(
            field_problem(
                "scope", f"unknown record scope {_shown(scope)}; one of {', '.join(SCOPES)}"
            )
        )
    elif scope != "all" and not owned_by_users:
        problems.append(
            field_problem(
                "scope",
                f"{entity} is owned by the organisation (its records have no owner): "
                f"a {scope!r} scope would hide every record; give 'all'",
            )
        )
    if problems:
        raise invalid(GrantInvalid, f"grant on {entity}", problems)
    return actions, scope


def check_field_rights(body: Mapping[str, Any], field: str) -> tuple[bool, bool]:
    """A role's ``read`` and ``write`` rights on a secured ``field``; raise
    :class:`GrantInvalid`."""
    problems = [
        field_problem(k, f"{k} is true or false, got {_shown(body.get(k))}")
        for k in ("read", "write")
        if not isinstance(body.get(k), bool)
    ]
    if problems:
        raise invalid(GrantInvalid, f"rights on {field}", problems)
    return body["read"], body["write"]


def _roles_problems(body: Mapping[str, Any]) -> list[dict[str, str]]:
    if "roles" not in body:
        return []
    roles = body["roles"]
    if not isinstance(roles, list):
        return [field_problem("roles", f"roles is a list of role names, got {_shown(roles)}")]
    return [
        field_problem("roles", found, i)
        for i, name in enumerate(roles)
        if (found := text_problem("role", name, limit=ROLE_NAME_LIMIT, required=True))
    ]


def check_new_user(body: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a new user: ``username``, ``email`` and ``password`` (required),
    ``firstName``, ``lastName``, ``roles`` (role names); raise :class:`UserInvalid`."""
    problems = []
    for k in USER_TEXTS:
        if k in body and body[k] is None:  # a user's names are text, never null
            found = f"{k} is a string, got null"
        else:
            found = text_problem(
                k, body.get(k), limit=USER_TEXT_LIMIT, required=k in ("username", "email")
            )
        if found is not None:
            problems.append(field_problem(k, found))
    password = body.get("password")
    if not isinstance(password, str) or not password:
        problems.append(field_problem("password", "password is required: a non-empty string"))
    problems += _roles_problems(body)
    if problems:
        raise invalid(UserInvalid, "user", problems)
    return {k: body[k] for k in (*USER_TEXTS, "password", "roles") if k in body}


def check_user_change(body: Mapping[str, Any]) -> dict[str, Any]:
    """The changes to a user: ``active`` (true or false) and ``roles`` (the whole new list of
    role names); raise :class:`UserInvalid`."""
    problems = []
    if "active" in body and not isinstance(body["active"], bool):
        problems.append(
            field_problem("active", f"active is true or false, got {_shown(body['active'])}")
        )
    problems += _roles_problems(body)
    if problems:
        raise invalid(UserInvalid, "user", problems)
    return {k: body[k] for k in ("active", "roles") if k in body}


def existing_roles(names: Sequence[str], find: Callable[[str], Any]) -> list[Any]:
    """The roles named (``find``: a name -> the role, or None); raise :class:`UserInvalid`
    naming every role that does not exist."""
    roles = [find(name) for name in names]
    problems = [
        field_problem("roles", f"role {name!r} does not exist", i)
        for i, (name, role) in enumerate(zip(names, roles, strict=True))
        if role is None
    ]
    if problems:
        raise invalid(UserInvalid, "user", problems)
    return roles
