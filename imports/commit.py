"""Writing valid rows: people, memberships, cadre posts and one audit entry per batch, a batch at a time, inside the
job's single transaction.

No per-person password hashing: imported people get the unusable password "!" and activate with the initial
password (members.backends). On PostgreSQL rows go in with COPY (ids taken from the sequences first, so the
memberships can point at the new people); elsewhere with one executemany per table.
"""

import datetime as dt
import functools
from collections.abc import Callable, Sequence

from django.db import connection, models
from django.db.models import Model
from django.utils import timezone

from audit.services import record
from members.choices import MemberStatus
from members.idnumber import mask
from members.models import Cadre, Member, Person

from .models import ImportKind
from .validation import Row, select_in

UNUSABLE_PASSWORD = "!"


_column_type_cache: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def _column_types(cursor, table: str, columns: Sequence[str]) -> list[int]:
    """The type oids of the table's columns, in `columns` order, from the catalog (once per process: the
    columns are built-in types, whose oids are the same in every database)."""
    key = (table, tuple(columns))
    if key not in _column_type_cache:
        cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                       [table])
        oids = dict(cursor.fetchall())
        _column_type_cache[key] = [oids[c] for c in columns]
    return _column_type_cache[key]


def _copy(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """PostgreSQL: COPY rows into a table in the binary format.

    Binary, with the column types given, because the text format makes psycopg pick a dumper for every value:
    measured here, 0.4 s against 0.08 s of Python time per 100,000 rows.
    """
    sql = f'COPY {table} ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)'
    with connection.cursor() as cursor:
        types = _column_types(cursor, table, columns)
        with cursor.cursor.copy(sql) as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)


def _sqlite_converter(field) -> Callable[[object], object] | None:
    """How a value of this field is passed to SQLite (None: as it is)."""
    if isinstance(field, models.DateTimeField):
        # Every row of a batch carries the same timestamp: adapt it once.
        return functools.lru_cache(maxsize=64)(
            lambda v: connection.ops.adapt_datetimefield_value(v) if v is not None else None)
    if isinstance(field, models.DateField):
        return lambda v: v.isoformat() if v is not None else None
    if isinstance(field, models.BooleanField):
        return lambda v: int(v) if v is not None else None
    return None


def _insert(model: type[Model], columns: Sequence[str], rows: list[tuple], *, with_ids: bool = False) -> list[int]:
    """Insert rows (tuples in `columns` order: every column of the model but id; JSON columns as JSON text)
    in one statement per table. with_ids: return the new ids in row order.

    Plain SQL rather than bulk_create: Django prepares every field of every object, which costs more than
    the insert itself at 100,000 rows. Only the people's ids are needed (memberships point at them).
    """
    if not rows:
        return []
    fields = {f.column: f for f in model._meta.concrete_fields if f.column != "id"}
    if set(columns) != set(fields):
        # A model gained or lost a column: the import must be told what to write there.
        raise RuntimeError(f"import columns for {model.__name__} are out of date: {sorted(set(fields) ^ set(columns))}")
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        _copy(table, columns, rows)
    else:
        _executemany(table, columns, [fields[c] for c in columns], rows)
    if not with_ids:
        return []
    # The new people's ids, by their ID numbers, in one query. (Taking ids from the sequence first, for COPY to
    # write, cost three times as much: 2,000 nextval() calls a batch.)
    number_at = columns.index("id_number")
    by_number = dict(select_in(f"SELECT id_number, id FROM {table} WHERE id_number",
                               [row[number_at] for row in rows]))
    return [by_number[row[number_at]] for row in rows]


def _executemany(table: str, columns: Sequence[str], fields: list, rows: list[tuple]) -> None:
    converters = [(i, conv) for i, conv in enumerate(_sqlite_converter(field) for field in fields)
                  if conv is not None]
    if converters:
        data = []
        for row in rows:
            item = list(row)
            for i, conv in converters:
                item[i] = conv(item[i])
            data.append(item)
    else:
        data = rows
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, data)


PERSON_COLUMNS = ("password", "last_login", "is_superuser", "id_number", "name", "gender", "birth_date", "phone",
                  "email", "is_active", "is_staff", "password_set_at", "created_at", "updated_at")
MEMBER_COLUMNS = ("person_id", "branch_id", "status", "ethnicity", "political_status", "joined_on",
                  "development_number", "education", "occupation", "created_at", "updated_at")
CADRE_COLUMNS = ("person_id", "org_id", "position", "since", "nature", "created_at")


def commit_rows(rows: list[Row], *, org, kind: str, job, actor) -> int:
    """Insert the valid rows of one batch; returns how many people were imported."""
    if not rows:
        return 0
    now = timezone.now()
    new_people = [r for r in rows if r.person_id is None]
    person_rows = []
    for r in new_people:
        values = r.values
        number = values["id_number"]  # already validated: birth date and gender read straight from it
        person_rows.append((
            UNUSABLE_PASSWORD, None, False, number, values["name"], "M" if int(number[16]) % 2 else "F",
            dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])), values["phone"], values["email"],
            True, False, None, now, now,
        ))
    ids = _insert(Person, PERSON_COLUMNS, person_rows, with_ids=True)
    for r, pk in zip(new_people, ids, strict=True):
        r.person_id = pk

    if kind == ImportKind.MEMBER:
        active = str(MemberStatus.ACTIVE)
        _insert(Member, MEMBER_COLUMNS, [(
            r.person_id, org.pk, active, v["ethnicity"], v["political_status"], v["joined_on"],
            v["development_number"], v["education"], v["occupation"], now, now,
        ) for r in rows for v in (r.values,)])
    _insert(Cadre, CADRE_COLUMNS, [
        (r.person_id, org.pk, r.values["position"], r.values["since"], r.values["nature"], now)
        for r in rows if r.values.get("position")])

    # One audit entry per batch (up to BATCH_ROWS people), not per row: who, when, from where, the org and every
    # imported person (id, name, masked ID number, row, post). An entry per row cost ~2 s of 100,000 (COPY into
    # a table with nine indexes, and their upkeep at COMMIT) for the same facts.
    record(
        action="member.imported" if kind == ImportKind.MEMBER else "cadre.imported", actor=actor, org=org,
        target=job, after={
            "org": org.pk, "import_job": job.pk, "count": len(rows),
            "people": [{"id": r.person_id, "name": r.values["name"], "id_number": mask(r.values["id_number"]),
                        "row": r.number, "position": r.values.get("position") or None} for r in rows],
        })
    return len(rows)


