"""Benchmark: Excel member import — reading, validating, committing and the whole job, in rows per second,
on SQLite and (when reachable at 127.0.0.1) PostgreSQL, against django-import-export as the baseline.

Generates realistic member workbooks once into bench/out/, stored as Excel and WPS save them (shared strings,
the sheet's extent declared): valid ID numbers with correct check digits and about 5% bad rows (bad phones,
duplicate IDs, IDs Excel turned into numbers, unknown ethnicities, missing development numbers). Each
measurement runs in its own process on a fresh copy of a migrated database, so the peak RSS printed is that
run's own.

The baseline is django-import-export's Resource.import_data with a plain ModelResource (use_bulk=True) for
the people of the same file, reading included (tablib/openpyxl).

Run: .venv/bin/python bench/bench_import.py [--sizes 1000,10000] [--no-baseline] [--backends sqlite]
     ZHTJ_BENCH_IMPORT_FULL=1 adds the 100,000-row file (about 3 minutes more, mostly the baseline);
     ZHTJ_BENCH_SKIP_BASELINE=1 is --no-baseline (while iterating: reported figures include the baseline).
The read column is a separate process reading every row; the job's peak RSS is the job's alone, and the reader
RSS that of the child process a large job forks to read and clean its rows.
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
PG_SERVER = os.environ.get("ZHTJ_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_TEMPLATE = "zhtj_bench_import_tpl"
PG_RUN = "zhtj_bench_import_run"
HEADERS = ["姓名", "身份证号码", "民族", "政治面貌", "入团年月", "发展团员编号", "手机号码", "电子邮箱", "学历", "职业"]


# -- workbooks ------------------------------------------------------------------------------------------------

def workbook_path(size: int) -> Path:
    return OUT / f"members_{size}.xlsx"


def generate(size: int) -> Path:
    """A member workbook of `size` rows (made once; reused while it exists)."""
    path = workbook_path(size)
    if path.exists():
        return path
    from openpyxl import Workbook

    from members import idnumber

    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
    ethnicities = ["汉族"] * 18 + ["回族", "满族", "壮族", "蒙古族"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("团员信息")
    sheet.append(HEADERS)
    base = dt.date(1999, 1, 1)
    ids: list[str] = []
    for i in range(size):
        birth = base + dt.timedelta(days=(i // 1000) % 3000)
        number = idnumber.make("320102", birth, i % 1000)
        joined = dt.date(birth.year + 15, rng.randint(1, 12), 1)
        devno = f"{joined.year}{i:08d}"
        phone: object = f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
        ethnicity = rng.choice(ethnicities)
        id_cell: object = number
        bad = rng.random()
        if bad < 0.01:
            phone = "1380013800"  # 10 digits
        elif bad < 0.02 and ids:
            id_cell = rng.choice(ids)  # duplicate inside the file
        elif bad < 0.03 and not number.endswith("X"):
            id_cell = int(number)  # Excel turned it into a number
        elif bad < 0.04:
            ethnicity = "未知族"
        elif bad < 0.05:
            devno = ""
        ids.append(number)
        sheet.append([
            rng.choice(surnames) + rng.choice(given) + rng.choice(given), id_cell, ethnicity,
            "共青团员", f"{joined:%Y-%m}" if i % 3 else joined, devno, phone,
            f"m{i}@example.org" if i % 4 == 0 else "", rng.choice(["本科", "大专", "高中", "硕士研究生"]),
            rng.choice(["学生", "工人", "教师", "职员", "农民"]),
        ])
    draft = path.with_suffix(".draft.xlsx")
    book.save(draft)
    _as_excel_saves_it(draft, path)
    draft.unlink()
    return path


def _as_excel_saves_it(source: Path, target: Path) -> None:
    """Rewrite openpyxl's write-only output the way Excel and WPS save a workbook: every text cell in the shared
    string table (openpyxl writes them inline, CJK as character references) and the sheet's extent declared."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    from spreadsheets.xlsx_stream import XlsxBook

    with XlsxBook(source) as book:  # decodes the inline strings exactly as the import will
        rows = list(book.rows(book.sheet_names[0]))
    table: dict[str, int] = {}
    cells = re.compile(rb'<c r="([A-Z]+)([0-9]+)"([^>]*?) t="inlineStr"><is><t>[^<]*</t></is></c>')
    with zipfile.ZipFile(source) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
        values = {number: cells_ for number, cells_ in rows}

        def shared(match: re.Match) -> bytes:
            column = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(match[1].decode()))) - 1
            index = table.setdefault(values[int(match[2])][column], len(table))
            return b'<c r="%s%s"%s t="s"><v>%d</v></c>' % (match[1], match[2], match[3], index)

        sheet = cells.sub(shared, sheet)
        sheet = sheet.replace(b"<sheetData>", f'<dimension ref="A1:J{rows[-1][0]}"/><sheetData>'.encode(), 1)
        strings = "".join(f"<si><t>{escape(text)}</t></si>" for text in table).encode()
        sst = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml'
               b'/2006/main" count="%d" uniqueCount="%d">' % (len(table), len(table)) + strings + b"</sst>")
        rels = z.read("xl/_rels/workbook.xml.rels").replace(b"</Relationships>", (
            b'<Relationship Id="rIdSharedStrings" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org'
            b'/officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
        types = z.read("[Content_Types].xml").replace(b"</Types>", (
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument'
            b'.spreadsheetml.sharedStrings+xml"/></Types>'))
        replaced = {"xl/worksheets/sheet1.xml": sheet, "xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": types}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in z.infolist():
                out.writestr(info.filename, replaced.get(info.filename) or z.read(info))
            out.writestr("xl/sharedStrings.xml", sst)


# -- databases ------------------------------------------------------------------------------------------------

def postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def prepare_template(backend: str) -> str:
    """A migrated database to copy for each run; returns its DATABASE_URL."""
    if backend == "sqlite":
        path = OUT / "template.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_RUN}")
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
        _pg_admin(f"CREATE DATABASE {PG_TEMPLATE}")
        url = f"{PG_SERVER}/{PG_TEMPLATE}"
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    if backend == "sqlite":
        # One file, no WAL side files: the copy must be complete.
        import sqlite3

        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
    return url


def fresh_copy(backend: str, template_url: str, workdir: Path) -> str:
    if backend == "sqlite":
        target = workdir / "run.sqlite3"
        shutil.copyfile(template_url.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    _pg_admin(f"DROP DATABASE IF EXISTS {PG_RUN}")
    _pg_admin(f"CREATE DATABASE {PG_RUN} TEMPLATE {PG_TEMPLATE}")
    return f"{PG_SERVER}/{PG_RUN}"


def drop_copy(backend: str) -> None:
    if backend != "sqlite":
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_RUN}")


# -- one measurement (a child process) ------------------------------------------------------------------------

def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


def child(tool: str, path: Path) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhtj.settings")
    os.environ.pop("REDIS_URL", None)
    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from django.conf import settings

    from orgs.models import Org, OrgType

    media = tempfile.mkdtemp(prefix="zhtj-bench-media-")
    settings.MEDIA_ROOT = media
    settings.ZHTJ_IMPORT_MAX_BYTES = 200 * 1024 * 1024
    types = {t.category: t for t in OrgType.objects.all()}
    root = Org.objects.create(code="BR", short_name="基准团委", full_name="基准团委", type=types["committee"])
    branch = Org.objects.create(code="BB", short_name="基准团支部", full_name="基准团支部", type=types["branch"],
                                parent=root)
    branch.refresh_from_db()
    rss_start = _rss_mb()
    try:
        if tool == "read":
            out = _run_read(path)
        else:
            out = _run_zhtj(path, branch) if tool == "zhtj" else _run_import_export(path)
    finally:
        shutil.rmtree(media, ignore_errors=True)
    out["rss_start_mb"] = rss_start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = usage.ru_maxrss / 1024
    # A large import reads and cleans in a forked child process: its peak counts too.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["reader_rss_mb"] = children.ru_maxrss / 1024
    # CPU seconds of this process and its reader (not the database server's): steadier than wall time on a busy
    # machine.
    out["cpu_s"] = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    return out


def _run_zhtj(path: Path, branch) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports import services

    start = time.perf_counter()
    job = services.create_job(actor=None, org=branch, upload=SimpleUploadedFile(path.name, path.read_bytes()))
    result = services.run_job(job.pk)
    total_s = time.perf_counter() - start
    assert result is not None, "the job failed"
    t = result.timings
    return {"rows": result.imported + result.failed, "imported": result.imported, "failed": result.failed,
            "validate_s": t["validate"] + t.get("check", 0.0), "commit_s": t["commit"] + t["failures"],
            "total_s": total_s, "phases": t}


def _run_read(path: Path) -> dict:
    """Reading alone (open, checks, find the sheet, every row), in a process of its own so that the job's
    peak RSS is not this pass's."""
    from imports.reader import Workbook

    start = time.perf_counter()
    data = Workbook(path).find_data("member")
    rows = sum(1 for _ in data.iter_rows())
    return {"rows": rows, "read_s": time.perf_counter() - start}


def _run_import_export(path: Path) -> dict:
    import tablib
    from import_export import fields, resources

    from members.models import Person

    class PersonResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="姓名")
        id_number = fields.Field(attribute="id_number", column_name="身份证号码")
        phone = fields.Field(attribute="phone", column_name="手机号码")
        email = fields.Field(attribute="email", column_name="电子邮箱")

        class Meta:
            model = Person
            fields = ("name", "id_number", "phone", "email")
            import_id_fields = ("id_number",)
            use_bulk = True
            batch_size = 1000

        def before_save_instance(self, instance, row, **kwargs):
            instance.set_id_number(str(instance.id_number))  # gender and birth date from the ID number
            instance.password = "!"
            # Empty cells arrive as None; the columns are NOT NULL (one None fails the whole bulk batch).
            instance.phone = str(instance.phone or "")
            instance.email = str(instance.email or "")

    start = time.perf_counter()
    dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
    read_s = time.perf_counter() - start
    # Without a transaction: with one, import-export rolls everything back when any row has an error.
    result = PersonResource().import_data(dataset, dry_run=False, raise_errors=False, use_transactions=False)
    total_s = time.perf_counter() - start
    return {"rows": len(dataset), "imported": Person.objects.count(), "failed": len(result.invalid_rows)
            + len(result.row_errors()), "read_s": read_s, "total_s": total_s}


# -- the parent ----------------------------------------------------------------------------------------------

def measure(backend: str, template_url: str, tool: str, size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="zhtj-bench-") as workdir:
        url = fresh_copy(backend, template_url, Path(workdir))
        env = {**os.environ, "DATABASE_URL": url}
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", tool, str(workbook_path(size))],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
        finally:
            drop_copy(backend)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} {size} on {backend} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reader_rss(result: dict) -> str:
    """The forked reader's peak RSS, or "-" when the job read in its own process (small files)."""
    return f"{result['reader_rss_mb']:>8.0f}MB" if result.get("reader_rss_mb") else f"{'-':>10}"


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>9,.0f}/s" if seconds > 0 else "        -"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--backends", default="")
    parser.add_argument("--child", nargs=2, metavar=("TOOL", "FILE"))
    parser.add_argument("--generate", type=int, metavar="ROWS")
    args, _unknown = parser.parse_known_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0
    if args.generate:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhtj.settings")
        import django

        django.setup()
        generate(args.generate)
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s] or (
        [1_000, 10_000, 100_000] if os.environ.get("ZHTJ_BENCH_IMPORT_FULL") else [1_000, 10_000])
    backends = [b for b in args.backends.split(",") if b] or (
        ["sqlite", "postgresql"] if postgres_reachable() else ["sqlite"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhtj.settings")
    import django

    django.setup()
    for size in sizes:
        start = time.perf_counter()
        fresh = not workbook_path(size).exists()
        if fresh:
            # In a process of its own: Linux keeps a process's peak RSS across exec, so the measurements this
            # process starts would inherit the generator's.
            subprocess.run([sys.executable, __file__, "--generate", str(size)], cwd=ROOT, check=True)
        if fresh:
            print(f"generated {workbook_path(size).relative_to(ROOT)} in {time.perf_counter() - start:.1f} s")
    print("Excel import of members (about 5% bad rows); rows per second by phase, seconds for the whole job")
    if "postgresql" not in backends:
        print("  (PostgreSQL not reachable at 127.0.0.1: SQLite only)")
    for backend in backends:
        template = prepare_template(backend)
        print(f"\n  {backend}:")
        print(f"  {'rows':>8} {'tool':<15} {'read':>11} {'validate':>11} {'commit':>11} {'whole job':>11} "
              f"{'seconds':>8} {'imported':>9} {'failed':>7} {'peak RSS':>9} {'reader RSS':>10}")
        for size in sizes:
            ours = measure(backend, template, "zhtj", size)
            ours["read_s"] = measure(backend, template, "read", size)["read_s"]
            print(f"  {size:>8,} {'zhtj':<15} {rate(ours['rows'], ours['read_s'])} "
                  f"{rate(ours['rows'], ours['validate_s'])} {rate(ours['imported'], ours['commit_s'])} "
                  f"{rate(ours['rows'], ours['total_s'])} {ours['total_s']:>8.2f} {ours['imported']:>9,} "
                  f"{ours['failed']:>7,} {ours['peak_rss_mb']:>7.0f}MB {reader_rss(ours)}", flush=True)
            phases = ", ".join(f"{k} {v:.2f}" for k, v in ours["phases"].items())
            print(f"  {'':>8} {'':<15} seconds by phase inside the job (read and validate overlap the rest when a"
                  f" child process reads): {phases}; Python CPU {ours['cpu_s']:.2f}", flush=True)
            if args.no_baseline or os.environ.get("ZHTJ_BENCH_SKIP_BASELINE"):
                continue
            base = measure(backend, template, "import-export", size)
            print(f"  {size:>8,} {'import-export':<15} {rate(base['rows'], base['read_s'])} {'':>11} {'':>11} "
                  f"{rate(base['rows'], base['total_s'])} {base['total_s']:>8.2f} {base['imported']:>9,} "
                  f"{base['failed']:>7,} {base['peak_rss_mb']:>7.0f}MB"
                  f"   → zhtj is {base['total_s'] / ours['total_s']:.1f}x faster", flush=True)
        if backend == "postgresql":
            _pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
