"""Writing valid rows: people, memberships, cadre posts and their audit entries, a batch at a time, inside the
job's single transaction.

No per-person password hashing: imported people get the unusable password "!" and activate with the initial
password (members.backends). On PostgreSQL rows go in with COPY (ids taken from the sequences first, so the
memberships can point at the new people); elsewhere with one executemany per table.
"""

import datetime as dt
import functools
import json
import operator
from collections.abc import Callable, Sequence

from django.db import connection, models
from django.db.models import Model
from django.utils import timezone

from approvals.models import AuditEntry
from members.choices import MemberStatus
from members.models import Cadre, Member, Person

from .models import ImportKind
from .validation import Row

UNUSABLE_PASSWORD = "!"


def _columns(model: type[Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _copy(model: type[Model], columns: list[str], rows: Sequence[tuple]) -> None:
    """PostgreSQL: COPY rows into the model's table (psycopg adapts dates, datetimes, booleans and None)."""
    sql = f'COPY {model._meta.db_table} ({", ".join(columns)}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


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
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, ensure_ascii=False) if v is not None else None
    return None


def _insert(model: type[Model], rows: list[dict]) -> list[int] | None:
    """Insert rows (dicts by column name, every column but id) in one statement per table; returns the new ids
    on PostgreSQL (taken from the sequence first) and None elsewhere.

    Plain SQL rather than bulk_create: Django prepares every field of every object, which costs more than
    the insert itself at 100,000 rows.
    """
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if f.column != "id"]
    columns = [f.column for f in fields]
    values = operator.itemgetter(*columns)  # a C-level dict → tuple in column order
    if connection.vendor == "postgresql":
        for field in fields:
            if isinstance(field, models.JSONField):
                for row in rows:
                    if row[field.column] is not None:
                        row[field.column] = json.dumps(row[field.column], ensure_ascii=False)
        ids = _next_ids(model, len(rows))
        _copy(model, ["id", *columns], [(pk, *values(row)) for row, pk in zip(rows, ids, strict=True)])
        return ids
    converters = [(i, conv) for i, conv in enumerate(_sqlite_converter(f) for f in fields) if conv is not None]
    data = []
    for row in rows:
        item = list(values(row))
        for i, conv in converters:
            item[i] = conv(item[i])
        data.append(item)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, data)
    return None


def _person_ids(numbers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        found.update(Person.objects.filter(id_number__in=chunk).values_list("id_number", "id"))
    return found


def commit_rows(rows: list[Row], *, org, kind: str, job, actor) -> int:
    """Insert the valid rows of one batch; returns how many people were imported."""
    if not rows:
        return 0
    now = timezone.now()
    new_people = [r for r in rows if r.person_id is None]
    person_rows = []
    for r in new_people:
        number = r.values["id_number"]  # already validated: birth date and gender read straight from it
        person_rows.append({
            "password": UNUSABLE_PASSWORD, "last_login": None, "is_superuser": False,
            "id_number": number, "name": r.values["name"], "gender": "M" if int(number[16]) % 2 else "F",
            "birth_date": dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
            "phone": r.values["phone"], "email": r.values["email"],
            "is_active": True, "is_staff": False, "password_set_at": None, "created_at": now, "updated_at": now,
        })
    ids = _insert(Person, person_rows)
    if ids is None:
        by_number = _person_ids([p["id_number"] for p in person_rows])
        ids = [by_number[p["id_number"]] for p in person_rows]
    for r, pk in zip(new_people, ids, strict=True):
        r.person_id = pk

    if kind == ImportKind.MEMBER:
        _insert(Member, [{
            "person_id": r.person_id, "branch_id": org.pk, "status": MemberStatus.ACTIVE,
            "ethnicity": r.values["ethnicity"], "political_status": r.values["political_status"],
            "joined_on": r.values["joined_on"], "development_number": r.values["development_number"],
            "education": r.values["education"], "occupation": r.values["occupation"],
            "created_at": now, "updated_at": now,
        } for r in rows])
    _insert(Cadre, [{
        "person_id": r.person_id, "org_id": org.pk, "position": r.values["position"],
        "since": r.values["since"], "nature": r.values["nature"], "created_at": now,
    } for r in rows if r.values.get("position")])

    actor_person = getattr(actor, "person", None)
    actor_id = getattr(actor_person, "pk", None)
    acting_org_id = getattr(getattr(actor, "org", None), "pk", None)
    action = "member.imported" if kind == ImportKind.MEMBER else "cadre.imported"
    _insert(AuditEntry, [{
        "at": now, "actor_id": actor_id, "acting_org_id": acting_org_id, "org_id": org.pk, "action": action,
        "target_type": "members.person", "target_id": str(r.person_id), "target_repr": r.values["name"][:200],
        "before": None,
        "after": {"org": org.pk, "import_job": job.pk, "row": r.number,
                  "position": r.values.get("position") or None},
        "reason": "", "ip": getattr(actor, "ip", None),
    } for r in rows])
    return len(rows)
