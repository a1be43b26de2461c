"""Identity verification of an org's secretary, behind a pluggable verifier.

settings.ZHTJ_SECRETARY_VERIFIER names the verifier class by dotted path. The default, IdRulesVerifier,
checks what can be checked offline: the ID number obeys GB 11643-1999 and a name is given. A real national
identity check can plug in later by dotted path: any class with a `verify(*, name, id_number, phone)` method
returning a Verification. A verifier that raises is treated as a failed check (e.g. a remote service down),
so the admin can still record a deputy for now.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from . import idnumber

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verification:
    """The outcome of one check: ok, or not with a reason the admin can read."""

    ok: bool
    reason: str = ""


class IdRulesVerifier:
    """The default: the ID number's own rules (region, birth date, check digit) and a non-empty name."""

    def verify(self, *, name: str, id_number: str, phone: str = "") -> Verification:
        if not (name or "").strip():
            return Verification(False, _("The name is missing."))
        try:
            idnumber.parse(id_number)
        except ValidationError as exc:
            return Verification(False, " ".join(exc.messages))
        return Verification(True)


def get_verifier():
    """An instance of the configured verifier class."""
    return import_string(settings.ZHTJ_SECRETARY_VERIFIER)()


def verify_identity(*, name: str, id_number: str, phone: str = "") -> Verification:
    """Run the configured verifier; an exception in it counts as a failed check, never as a pass."""
    try:
        result = get_verifier().verify(name=name, id_number=id_number, phone=phone)
    except Exception:  # a remote check may fail in any way; the admin must still be able to proceed
        logger.exception("Secretary identity verifier failed")
        return Verification(False, _("The identity check could not be completed; try again later."))
    if not isinstance(result, Verification):
        return Verification(bool(result))
    return result
