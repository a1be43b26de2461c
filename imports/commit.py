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

from approvals import audit
from members.choices import MemberStatus
from members.idnumber import mask
from members.models import Cadre, Member, Person

from .models import ImportKind
from .validation import Row, select_in

UNUSABLE_PASSWORD = "!"


def _copy(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """PostgreSQL: COPY rows into a table (psycopg adapts dates, datetimes, booleans and None)."""
    sql = f'COPY {table} ({", ".join(columns)}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _next_ids(model: type[Model], n: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
        )
        return [r[0] for r in cursor.fetchall()]


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
    the insert itself at 100,000 rows. Only the people's ids are needed (memberships point at them), so only
    they are taken from the sequence first; other tables number their rows themselves.
    """
    if not rows:
        return []
    fields = {f.column: f for f in model._meta.concrete_fields if f.column != "id"}
    if set(columns) != set(fields):
        # A model gained or lost a column: the import must be told what to write there.
        raise RuntimeError(f"import columns for {model.__name__} are out of date: {sorted(set(fields) ^ set(columns))}")
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        if with_ids:
            ids = _next_ids(model, len(rows))
            _copy(table, ["id", *columns], [(pk, *row) for row, pk in zip(rows, ids, strict=True)])
            return ids
        _copy(table, columns, rows)
        return []
    converters = [(i, conv) for i, conv in enumerate(_sqlite_converter(fields[c]) for c in columns)
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
    if not with_ids:
        return []
    # The new people's ids, by their ID numbers, in one query (a JSON array parameter).
    number_at = columns.index("id_number")
    by_number = dict(select_in(f"SELECT id_number, id FROM {table} WHERE id_number",
                               [row[number_at] for row in rows]))
    return [by_number[row[number_at]] for row in rows]


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
    audit.record(
        action="member.imported" if kind == ImportKind.MEMBER else "cadre.imported", actor=actor, org=org,
        target=job, after={
            "org": org.pk, "import_job": job.pk, "count": len(rows),
            "people": [{"id": r.person_id, "name": r.values["name"], "id_number": mask(r.values["id_number"]),
                        "row": r.number, "position": r.values.get("position") or None} for r in rows],
        })
    return len(rows)


