"""The org app's request kind on the approvals engine, registered from OrgsConfig.ready(): org info.

The fields and their rules belong to orgs.services (INFO_FIELDS, org_update_info). The org code and type
are fixed once set: the code is the org's identity in every exchange and import file, and the type decides
containment; neither is an info field. Names change with the direct superior's approval. See
docs/approvals.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from approvals.kinds import ApprovalError, Kind, field_values, register

from .models import Org
from .services import INFO_FIELDS, OrgError, org_update_info

if TYPE_CHECKING:
    from approvals.models import ApprovalRequest

    from .permissions import Actor

KIND = "org_info"


def _org_of_org(org: Org) -> Org:
    return org


def _org_info_apply(request: ApprovalRequest, actor: Actor) -> None:
    # The decider is the admin of the org's direct superior, so orgs' own at-once path applies the change
    # with every rule of the tree (names, sibling names, contacts) checked again now, and audits it.
    try:
        org_update_info(actor=actor, org=request.target, changes={n: p[1] for n, p in request.changes.items()})
    except OrgError as exc:
        raise ApprovalError(exc.message) from None
    except PermissionDenied:
        raise ApprovalError(_("The organization is no longer directly under yours; reject the request.")) from None


def _org_info_current(org: Org) -> dict:
    return field_values(org, INFO_FIELDS)


def register_kinds() -> None:
    register(Kind(
        code=KIND, label=_("Organization info change"), model=Org,
        apply=_org_info_apply, current_values=_org_info_current,
        org_of=_org_of_org, allowed_fields=frozenset(INFO_FIELDS),
    ))
