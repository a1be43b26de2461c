"""Template context every page needs: the acting person and org, and whether they are a plain member."""

from orgs.permissions import administered_orgs


class _LazyPlainMember:
    """A signed-in person who administers no org (one query, only on the pages that ask: the error pages)."""

    def __init__(self, request) -> None:
        self._request = request
        self._value: bool | None = None

    def __call__(self) -> bool:
        if self._value is None:
            user = self._request.user
            actor = getattr(self._request, "actor", None)
            self._value = bool(
                user.is_authenticated and (actor is None or actor.org is None)
                and not administered_orgs(user).exists()
            )
        return self._value


def actor(request):
    actor = getattr(request, "actor", None)
    return {"actor": actor, "plain_member": _LazyPlainMember(request)}
