"""The public org search of the admin registration page: orgs by code or name, public data only."""

from django.db.models import Q, QuerySet

from .models import Org


def orgs_for_registration(query: str, *, limit: int = 20) -> QuerySet[Org]:
    """Orgs matching a search by code or name, for the public registration page (no personal data)."""
    query = (query or "").strip()
    if len(query) < 2:
        return Org.objects.none()
    return (
        Org.objects.filter(Q(code__iexact=query) | Q(short_name__icontains=query) | Q(full_name__icontains=query))
        .select_related("type", "parent")
        .order_by("tree_id", "lft")[:limit]
    )
