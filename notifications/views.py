"""The message centre: the list, mark one read (and open its link), mark all read."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services

PAGE_SIZE = 30


@login_required
def message_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.messages_for(request.actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def message_read(request: HttpRequest, pk: int) -> HttpResponse:
    message = services.message_mark_read(actor=request.actor, message_id=pk)
    if message is None:
        raise Http404
    # "Open" follows the link the service stored; a path of this site only.
    if request.POST.get("open") and message.link and url_has_allowed_host_and_scheme(
        message.link, allowed_hosts={request.get_host()}
    ):
        return redirect(message.link)
    return redirect("message_list")


@login_required
@require_POST
def message_read_all(request: HttpRequest) -> HttpResponse:
    n = services.messages_mark_all_read(actor=request.actor)
    flash.success(request, _("Marked %(n)d message(s) read.") % {"n": n})
    return redirect("message_list")
