"""Building small import workbooks (.xlsx with openpyxl, .xls with xlwt) for the import tests."""

import contextlib
import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from members import idnumber

MEMBER_HEADERS = ["姓名", "身份证号码", "民族", "政治面貌", "入团年月", "发展团员编号", "手机号码", "电子邮箱", "学历",
                  "职业"]
CADRE_HEADERS = ["姓名", "身份证号码", "手机号码", "电子邮箱", "团内现任职务", "任现职年月", "团干部性质"]

_serial = iter(range(100, 100000))


def new_id(birth: dt.date = dt.date(2004, 3, 15), region: str = "110101") -> str:
    return idnumber.make(region, birth, next(_serial))


def member_row(name: str = "张三", id_number: str | None = None, **over) -> dict:
    row = {"姓名": name, "身份证号码": id_number or new_id(), "民族": "汉族", "政治面貌": "共青团员",
           "入团年月": "2019-05", "发展团员编号": None, "手机号码": "13800138000", "电子邮箱": "", "学历": "本科",
           "职业": "学生"}
    row.update(over)
    if row["发展团员编号"] is None and str(row["入团年月"]).startswith("20") and "发展团员编号" not in over:
        row["发展团员编号"] = f"{str(row['入团年月'])[:4]}{next(_serial):08d}"
    return row


def cadre_row(name: str = "李四", id_number: str | None = None, **over) -> dict:
    row = {"姓名": name, "身份证号码": id_number or new_id(dt.date(1990, 6, 1)), "手机号码": "13900139000",
           "电子邮箱": "", "团内现任职务": "组织委员", "任现职年月": "2022-09", "团干部性质": "兼职"}
    row.update(over)
    return row


def xlsx(rows: list[dict], headers: list[str] | None = None, *, title_rows: list[list] = (), before_sheets=(),
         sheet: str = "团员信息") -> bytes:
    headers = headers or (list(rows[0].keys()) if rows else MEMBER_HEADERS)
    book = openpyxl.Workbook()
    first = book.active
    for name, lines in before_sheets:
        ws = book.create_sheet(name)
        for line in lines:
            ws.append(line)
    ws = book.create_sheet(sheet)
    book.remove(first)
    for line in title_rows:
        ws.append(line)
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as a user can type it
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls(rows: list[dict], headers: list[str] | None = None, *, sheet: str = "团员信息") -> bytes:
    import xlwt

    headers = headers or list(rows[0].keys())
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm")
    for c, h in enumerate(headers):
        ws.write(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, h in enumerate(headers):
            value = row.get(h)
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_dimension(data: bytes, ref: str | None) -> bytes:
    """The workbook with its sheets' declared extent replaced (None: removed), as other writers leave it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                part = re.sub(rb"<dimension [^>]*/>", b"" if ref is None else f'<dimension ref="{ref}"/>'.encode(),
                              part)
            target.writestr(info, part)
    return out.getvalue()


def write(tmp_path: Path, data: bytes, name: str = "members.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_xlsx(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture
def media(settings, tmp_path):
    """Uploads and failure workbooks go to a per-test MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(data: bytes, name: str = "members.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def run_import(org, data: bytes, name: str = "members.xlsx", actor=None):
    """Create and run a job as the web upload does (in-process); returns the refreshed job and the result."""
    from imports import services

    job = services.create_job(actor=actor, org=org, upload=upload(data, name))
    result = None
    if job.status == "queued":
        result = services.run_job(job.pk, actor=actor)
    job.refresh_from_db()
    return job, result


def db_counts() -> tuple[int, int, int, int]:
    from audit.models import AuditEntry
    from members.models import Cadre, Member, Person

    return Person.objects.count(), Member.objects.count(), Cadre.objects.count(), AuditEntry.objects.count()


@contextlib.contextmanager
def live_worker(job):
    """Pretend a worker is running this job: on PostgreSQL hold its advisory lock from another connection (as a
    worker process would); elsewhere hold its lock file's flock through a descriptor of its own."""
    from django.db import connection

    from imports import selectors
    from imports.selectors import JOB_LOCK_CLASS

    if connection.vendor != "postgresql":
        fd = selectors._flock(job.pk)
        assert fd is not None
        try:
            yield
        finally:
            os.close(fd)
        return
    import psycopg

    s = connection.settings_dict
    other = psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                            password=s.get("PASSWORD") or None, dbname=s["NAME"], autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job.pk])
        yield
    finally:
        other.close()
