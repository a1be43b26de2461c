"""Fuzzing the upload pages: mutated .xlsx files (bit flips in the zip, inside the decompressed XML
parts, truncations) each get an answer (the form with a sentence, or the job page), never a 500; no job is left
queued or running and no upload stays on disk. Seeded, so every run tries the same files."""

import io
import random
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from imports.models import ImportJob, ImportStatus

from .conftest import login_as
from .import_helpers import media, member_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")

SEED = 20261202
CASES_PER_KIND = 150


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def _flip_bytes(rng: random.Random, data: bytes, flips: int) -> bytes:
    mutated = bytearray(data)
    for _ in range(flips):
        mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
    return bytes(mutated)


def _flip_inside_parts(rng: random.Random, data: bytes) -> bytes:
    """One XML part's decompressed text damaged, then zipped again (the zip itself is sound)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    name = rng.choice(sorted(n for n in parts if n.endswith((".xml", ".rels"))))
    parts[name] = _flip_bytes(rng, parts[name], rng.randint(1, 4))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part, text in parts.items():
            target.writestr(part, text)
    return out.getvalue()


def mutants(rng: random.Random, data: bytes, *, zipped: bool):
    for i in range(CASES_PER_KIND):
        choice = i % 3
        if choice == 0:
            yield _flip_bytes(rng, data, rng.randint(1, 3))
        elif choice == 1 and zipped:
            yield _flip_inside_parts(rng, data)
        else:
            yield data[:rng.randrange(1, len(data))]


def _uploads_on_disk() -> list:
    root = settings.MEDIA_ROOT / "imports" / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _member_files():
    rows = [member_row(f"甲{i}") for i in range(5)]
    rng = random.Random(SEED)
    yield from ((data, "members.xlsx") for data in mutants(rng, xlsx(rows), zipped=True))
    # Mutated .xls files are left out for now: one of them aborts python-calamine inside
    # CalamineWorkbook.from_path (an allocation the cell-extent check does not see); see docs/import.md.


def test_mutated_member_workbooks_get_an_answer_and_leave_nothing_behind(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    url = reverse("import_home", args=[tree.branch.pk])
    for number, (data, name) in enumerate(_member_files()):
        response = client.post(url, {"file": upload(data, name)})
        assert response.status_code in (200, 302), number
        job = ImportJob.objects.order_by("-pk").first()
        assert job is not None and job.status in (ImportStatus.FAILED, ImportStatus.SUCCEEDED), number
        if job.status == ImportStatus.FAILED:
            assert job.error_message and "Traceback" not in job.error_message, number
            if response.status_code == 200:
                assert response.context["form"].errors["file"], number
        assert not job.file, number
        assert _uploads_on_disk() == [], number


def test_mutated_org_sheets_get_an_answer(client, tree):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["简称", "类别", "全称"])
    book.active.append(["新支部", "团支部", "学院新支部"])
    out = io.BytesIO()
    book.save(out)
    rng = random.Random(SEED + 1)
    files = [(d, "orgs.xlsx") for d in mutants(rng, out.getvalue(), zipped=True)]
    login_as(client, tree.gb_admin, tree.gb)
    url = reverse("org_bulk_create", args=[tree.gb.pk])
    for number, (data, name) in enumerate(files):
        response = client.post(url, {"file": upload(data, name)})
        assert response.status_code in (200, 302), number
        if response.status_code == 200 and response.context["result"] is None:
            assert response.context["form"].errors["file"], number
