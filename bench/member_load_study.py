"""Why a members COPY grows faster than linearly: reload the members of a generated database under variants.

Run against a PostgreSQL database that generate_dataset filled (not part of `make bench`; it takes minutes):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhtj_h14_big .venv/bin/python bench/member_load_study.py

Reads the members table once (binary COPY TO), then for each variant, inside a transaction that is rolled back:
empties members_member (and what references it), sets aside what the variant says, COPYs the first N rows back
and reports seconds, WAL written, checkpoints, and buffers the backend had to write itself (shared_buffers
full of dirty pages). Variants: everything in place; foreign keys dropped; secondary and unique indexes
dropped; the statement trigger disabled; all of them set aside (plus the time to put them back).
"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhtj.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from dataset.load import _server_counters, put_back, set_aside  # noqa: E402

TABLE = "members_member"


def read_rows(limit: int) -> bytes:
    buf = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY (SELECT * FROM {TABLE} ORDER BY id LIMIT {limit}) TO STDOUT (FORMAT BINARY)"
    ) as copy:
        for chunk in copy:
            buf.write(chunk)
    return buf.getvalue()


def drop(cursor, kinds: set[str]) -> None:
    if "fk" in kinds or "unique" in kinds:
        types = [t for k, t in (("fk", "f"), ("unique", "u")) if k in kinds]
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = ANY(%s)",
                       [TABLE, types])
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
    if "index" in kinds:
        cursor.execute("""SELECT indexrelid::regclass::text FROM pg_index i WHERE indrelid = %s::regclass
                          AND NOT indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid)""", [TABLE])
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
    if "trigger" in kinds:
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")


def run(label: str, data: bytes, kinds: set[str], *, all_aside: bool = False) -> None:
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {TABLE} CASCADE")
                aside = set_aside([TABLE]) if all_aside else None
                if not all_aside:
                    drop(cursor, kinds)
                before = _server_counters()
                start = time.perf_counter()
                with cursor.cursor.copy(f"COPY {TABLE} FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(data)
                cursor.execute("SELECT 1")  # the statement trigger has run by now
                seconds = time.perf_counter() - start
                rebuilt = ""
                if aside is not None:
                    t = time.perf_counter()
                    put_back(aside)
                    rebuilt = f", put back in {time.perf_counter() - t:.1f} s"
                after = _server_counters()
                wal, checkpoints, backend = (a - b for a, b in zip(after, before, strict=True))
                print(f"  {label:<44} {seconds:7.1f} s  WAL {wal / 2**20:6,.0f} MB  {checkpoints} checkpoints"
                      f"  {backend:,} backend writes{rebuilt}", flush=True)
            raise KeyboardInterrupt  # roll back: the members stay as they were
    except KeyboardInterrupt:
        pass
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # each variant starts from clean buffers


def main() -> None:
    sizes = [int(s) for s in (sys.argv[1:] or ["100000", "1000000"])]
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        shared = cursor.fetchone()[0]
        cursor.execute("SHOW max_wal_size")
        wal = cursor.fetchone()[0]
    print(f"members COPY study: shared_buffers {shared}, max_wal_size {wal}")
    for size in sizes:
        data = read_rows(size)
        print(f"{size:,} members ({len(data) / 2**20:.0f} MB of COPY data):", flush=True)
        run("everything in place", data, set())
        run("foreign keys dropped", data, {"fk"})
        run("secondary + unique indexes dropped", data, {"index", "unique"})
        run("user trigger disabled", data, {"trigger"})
        run("all set aside (generate_dataset)", data, set(), all_aside=True)


if __name__ == "__main__":
    main()
