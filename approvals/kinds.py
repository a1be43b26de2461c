"""The registry of request kinds: what each kind changes, how it applies, who besides the deciding org's
admin may decide. Apps register their kinds at start-up (AppConfig.ready); the engine in
approvals.services knows nothing else about them.

A kind's `apply(request, actor)` runs inside the decision transaction with the target already locked and
available as `request.target`; it applies `request.changes` ({field: [old, new]}) and may raise
ApprovalError to refuse. The helpers below (`field_values`, `apply_field_changes`) serve kinds whose
changes are plain model fields.
See docs/approvals.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhtj.errors import UserError

if TYPE_CHECKING:
    from orgs.permissions import Actor

    from .models import ApprovalRequest


class ApprovalError(UserError):
    """A refusal with a translated, user-facing message (views show it as a form error or message)."""


@dataclass(frozen=True)
class Kind:
    code: str                      # "org_info", "personal_info", "admin_change", "transfer_to_branch", ...
    label: Any                     # lazy translated
    model: type[models.Model]      # target model
    apply: Callable[[ApprovalRequest, Actor], None]  # inside the decision transaction, target locked
    current_values: Callable[[models.Model], dict]   # {field: JSON-able current value} for stale detection
    superior_may_decide: bool = False  # True: the deciding org's direct superior admin may decide too
    stale_check: bool = True
    # Optional extras (all default to "not used"):
    # the org an object belongs to (scopes audit entries and detail pages); default: the deciding org.
    org_of: Callable[[models.Model], Any] | None = None
    # fields a request of this kind may change; None: any field the kind's apply accepts.
    allowed_fields: frozenset[str] | None = None
    # how to show one value of a change: (request, field, value) -> str; default: field-aware display.
    render_value: Callable[[ApprovalRequest, str, Any], str] | None = None
    # labels of fields that are not model fields (e.g. "admin"); model fields use their verbose_name.
    field_labels: dict[str, Any] | None = None
    # who besides the requester may withdraw (transfers: either side): (request, actor) -> bool.
    may_withdraw: Callable[[ApprovalRequest, Actor], bool] | None = None
    # called in the same transaction when a request leaves "pending" without being applied
    # (rejected, withdrawn, expired), after status/decided_*/decision_reason are set and before they are
    # saved; actor is None for expiry.
    on_close: Callable[[ApprovalRequest, Actor | None], None] | None = None
    # related objects current_values reads (e.g. ("person",)): the inbox loads its page's targets with
    # them in one query per kind, so current_values should read them from the instance, not query again.
    select_related: tuple[str, ...] = ()

    def field_label(self, name: str) -> Any:
        if self.field_labels and name in self.field_labels:
            return self.field_labels[name]
        try:
            return self.model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            return name


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Add a kind; registering the same code twice with a different definition is a programming error."""
    existing = KINDS.get(kind.code)
    if existing is not None and existing != kind:
        raise ValueError(f"approval kind {kind.code!r} is already registered")
    KINDS[kind.code] = kind


def get_kind(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise ApprovalError(_("Unknown kind of request.")) from None


def to_json(value: Any) -> Any:
    """The JSON form of a value as requests store it (dates as ISO strings, decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def field_values(obj: models.Model, names: Iterable[str] | None = None) -> dict[str, Any]:
    """{field name: JSON value} for the named concrete fields (all of them by default; FKs as pks)."""
    fields = list(obj._meta.concrete_fields) if names is None else [obj._meta.get_field(n) for n in names]
    return {f.name: to_json(f.value_from_object(obj)) for f in fields}


def apply_field_changes(obj: models.Model, changes: dict[str, list]) -> None:
    """Set each changed field to its new value (validated by the field) and save only those fields."""
    update_fields: list[str] = []
    errors: list[str] = []
    for name, (_old, new) in changes.items():
        field = obj._meta.get_field(name)
        try:
            value = None if new is None else field.clean(new, obj)
        except ValidationError as exc:
            errors.append(f"{field.verbose_name}: {' '.join(exc.messages)}")
            continue
        if isinstance(field, models.ForeignKey) and value is not None:
            value = value.pk if isinstance(value, models.Model) else value
        if value is None and not field.null:
            value = "" if isinstance(field, (models.CharField, models.TextField)) else value
        setattr(obj, field.attname, value)
        update_fields.append(field.name)
    if errors:
        raise ApprovalError(_("The requested values are not valid: %(errors)s") % {"errors": "; ".join(errors)})
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
        update_fields.append("updated_at")
    obj.save(update_fields=update_fields)


def stale_fields(kind: Kind, request: ApprovalRequest, target: Any) -> list[str]:
    """The changed fields whose current value no longer matches the request's old value."""
    if not kind.stale_check or target is None:
        return []
    current = kind.current_values(target)
    return [name for name, (old, _new) in request.changes.items() if to_json(current.get(name)) != to_json(old)]


def default_render_value(kind: Kind, field: str, value: Any) -> str:
    """A change value for people: choice labels, yes/no, "—" for empty."""
    if value is None or value == "":
        return "—"
    try:
        model_field = kind.model._meta.get_field(field)
    except FieldDoesNotExist:
        return str(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return str(_("Yes") if value else _("No"))
    return str(value)
