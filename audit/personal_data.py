"""Which recorded values are personal data, and how to mask them (PIPL).

Audit entries and approval requests keep values by field name ({"phone": ...}). Pages that show them to
viewers with no business with the whole value (the audit log, request lists) mask them with the masks
registered here. The people layer registers its own (phone, ID number) from MembersConfig.ready(), so
nothing at this layer knows what a person is.
"""

from collections.abc import Callable

_MASKS: dict[str, Callable[[str], str]] = {}


def register_mask(field: str, mask: Callable[[str], str]) -> None:
    _MASKS[field] = mask


def is_personal(field: str) -> bool:
    return field in _MASKS


def mask_value(field: str, value: str) -> str:
    """The masked value of a personal-data field (a non-personal field's value as it is)."""
    mask = _MASKS.get(field)
    return mask(value) if mask is not None else value
