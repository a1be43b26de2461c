"""Template context every page needs: the acting person and org."""


def actor(request):
    actor = getattr(request, "actor", None)
    return {"actor": actor}
