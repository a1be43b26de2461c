"""Template filters for approvals pages: audit actions and before/after values in people's words."""

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from ..kinds import KINDS

register = template.Library()

_REQUEST_VERBS = {
    "submitted": _("Request submitted"),
    "approved": _("Request approved"),
    "rejected": _("Request rejected"),
    "withdrawn": _("Request withdrawn"),
    "expired": _("Request expired"),
}


@register.filter
def action_label(action: str) -> str:
    """`request.<verb>.<kind>` as "<verb> · <kind label>"; other actions keep their code."""
    parts = (action or "").split(".")
    if len(parts) == 3 and parts[0] == "request" and parts[1] in _REQUEST_VERBS:
        kind = KINDS.get(parts[2])
        return f"{_REQUEST_VERBS[parts[1]]} · {kind.label if kind else parts[2]}"
    return action


def _shown(key: str, value: Any) -> str:
    from ..selectors import MASKED_FIELDS

    if value in (None, ""):
        return "—"
    if key in MASKED_FIELDS and isinstance(value, str):
        return MASKED_FIELDS[key](value)  # the audit page is a list: personal data masked (PIPL)
    return str(value)


@register.filter
def kv(value: Any) -> str:
    """A before/after value as `key: value; …` (dicts), phone and ID numbers masked, or as it is."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_shown(k, v)}" for k, v in value.items())
    return str(value)
