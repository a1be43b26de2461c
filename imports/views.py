"""Import pages: upload and history, template download, job result with live progress, failure workbook, retry."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgs.permissions import get_org_for, require

from . import selectors, services
from .columns import columns_for, kind_for_org
from .models import ImportKind, ImportStatus
from .template import build_template, template_filename

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Workbook (.xlsx or .xls)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls", "class": "form-control"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ZHTJ_IMPORT_MAX_BYTES:
            raise forms.ValidationError(services.too_big_message(upload.size))
        return upload


def _admin_org(request: HttpRequest, pk: object):
    org = get_org_for(request.actor, pk)
    require(request.actor.is_admin_of(org))
    return org


@login_required
@require_http_methods(["GET", "POST"])
def import_home(request: HttpRequest, pk: int) -> HttpResponse:
    org = _admin_org(request, pk)
    kind = kind_for_org(org)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(actor=request.actor, org=org, upload=form.cleaned_data["file"])
        except services.ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            if job.status == ImportStatus.FAILED:
                form.add_error("file", job.error_message)
            else:
                services.start_job(job)
                return redirect("import_job", pk=job.pk)
    page = Paginator(selectors.history(org), 20).get_page(request.GET.get("page"))
    return render(request, "imports/home.html", {
        "org": org, "kind": kind, "form": form, "page": page,
        "columns": [(c.header, c.required_for(kind)) for c in columns_for(kind)],
        "is_member": kind == ImportKind.MEMBER, "max_rows": settings.ZHTJ_IMPORT_MAX_ROWS,
        "max_mb": settings.ZHTJ_IMPORT_MAX_BYTES // 1048576,
    })


@login_required
@require_GET
def import_template(request: HttpRequest, pk: int) -> HttpResponse:
    org = _admin_org(request, pk)
    kind = kind_for_org(org)
    response = HttpResponse(build_template(org, kind), content_type=XLSX_TYPE)
    response["Content-Disposition"] = _attachment(template_filename(org, kind))
    return response


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, filename)


def _job_context(job) -> dict:
    progress = selectors.progress(job)
    # A running job whose process died is shown as interrupted, with the retry button; the retry (a POST) or
    # the beat task records it. A GET changes nothing.
    interrupted = selectors.is_stale(job)
    total = max(progress["read"], 1)
    return {
        "job": job, "org": job.org, "progress": progress, "interrupted": interrupted,
        "percent": 100 if job.is_done else min(99, int(100 * progress["validated"] / total)) if progress["read"] else 0,
        "sentence": services.result_sentence(job.kind, job.rows_imported, job.rows_failed)
        if job.status == ImportStatus.SUCCEEDED else "",
    }


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_job_for(request.actor, pk)
    return render(request, "imports/job.html", _job_context(job))


@login_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_job_for(request.actor, pk)
    context = _job_context(job)
    response = render(request, "imports/_progress.html", context)
    if job.is_done or context["interrupted"]:
        response["HX-Refresh"] = "true"  # show the full result page
    return response


@login_required
@require_GET
def import_failures(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_job_for(request.actor, pk)
    if not job.failure_file:
        raise Http404
    try:
        handle = job.failure_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    stem = job.file_name.rsplit(".", 1)[0]
    return FileResponse(handle, as_attachment=True, filename=f"{stem}-{_('failed rows')}.xlsx",
                        content_type=XLSX_TYPE)


@login_required
@require_POST
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_job_for(request.actor, pk)
    try:
        services.retry_job(actor=request.actor, job=job)
    except services.ImportRefused as exc:
        messages.error(request, str(exc))
    return redirect("import_job", pk=job.pk)
