"""Writing valid rows: people, memberships, cadre posts and their audit entries, a batch at a time, inside the
job's single transaction.

No per-person password hashing: imported people get the unusable password "!" and activate with the initial
password (members.backends). On PostgreSQL rows go in with COPY (ids taken from the sequences first, so the
memberships can point at the new people); elsewhere with bulk_create.
"""

import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from approvals.models import AuditEntry
from members import idnumber
from members.choices import MemberStatus
from members.models import Cadre, Member, Person

from .models import ImportKind
from .validation import Row

UNUSABLE_PASSWORD = "!"


def _columns(model: type[Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _copy(model: type[Model], rows: Sequence[dict]) -> None:
    """COPY rows (dicts by column name, every column present) into the model's table."""
    columns = _columns(model)
    sql = f'COPY {model._meta.db_table} ({", ".join(columns)}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _next_ids(model: type[Model], n: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
        )
        return [r[0] for r in cursor.fetchall()]


def _insert(model: type[Model], rows: list[dict], *, need_ids: bool = False) -> list[int]:
    """Insert rows (dicts by attname/column, ids omitted) and return their ids when asked."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        ids = _next_ids(model, len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk
        _copy(model, rows)
        return ids
    objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
    return [o.pk for o in objs] if need_ids else []


def _audit_json(value: dict) -> object:
    # COPY takes the JSON text; bulk_create takes the dict.
    return json.dumps(value, ensure_ascii=False) if connection.vendor == "postgresql" else value


def commit_rows(rows: list[Row], *, org, kind: str, job, actor) -> int:
    """Insert the valid rows of one batch; returns how many people were imported."""
    if not rows:
        return 0
    now = timezone.now()
    new_people = [r for r in rows if r.person_id is None]
    person_rows = []
    for r in new_people:
        info = idnumber.parse(r.values["id_number"])
        person_rows.append({
            "password": UNUSABLE_PASSWORD, "last_login": None, "is_superuser": False,
            "id_number": info.number, "name": r.values["name"], "gender": info.gender,
            "birth_date": info.birth_date, "phone": r.values["phone"], "email": r.values["email"],
            "is_active": True, "is_staff": False, "password_set_at": None, "created_at": now, "updated_at": now,
        })
    ids = _insert(Person, person_rows, need_ids=True)
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
        "after": _audit_json({"org": org.pk, "import_job": job.pk, "row": r.number,
                              "position": r.values.get("position") or None}),
        "reason": "", "ip": getattr(actor, "ip", None),
    } for r in rows])
    return len(rows)
