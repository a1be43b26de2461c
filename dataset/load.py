"""Writing a planned province into the database: orgs (numbered in Python), admins, people, members, cadres,
completed transfers with their approved requests, audit history — then pending requests and transfers through
the real services.

On PostgreSQL every table is loaded with binary COPY after its secondary indexes, unique and foreign-key
constraints and user triggers are set aside; they come back after the load (one sorted index build and one
validating scan each, instead of an index insert and a foreign-key probe per row) and the rules the triggers
enforce are checked over the whole load in one query each. Everything happens in one transaction, so a
failure leaves the database as it was. On SQLite rows go in with executemany, triggers and all (small sizes).
See docs/performance.md for why the member load grew faster than linearly before.
"""

import datetime as dt
import json
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from members import idnumber
from members.choices import CadreNature, Education, MemberStatus, PoliticalStatus, Position
from members.models import Cadre, Member, Person
from orgs.counts import recount
from orgs.models import Org, OrgAdmin, OrgType
from orgs.permissions import Actor
from transfers.models import Transfer

from .shape import Plan, PlannedOrg

DEMO_PASSWORD = "Demo-pass-2026"  # every generated admin's password (hashed once, the hash reused)
UNUSABLE_PASSWORD = "!"  # members log in with the initial password (the last 8 characters of their ID number)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞")
GIVEN = ("伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子涵欣怡梓轩雨桐思远一诺佳俊诗博文晨曦"
         "轩可馨天佑若志雅琪嘉懿紫萱皓梦瑶家豪语墨妍泽静怡婷雪琳晓燕建国海波春梅凯旭东亮辉斌彬鑫悦")
ETHNIC_MIX = ["汉族"] * 30 + ["回族", "满族", "蒙古族", "壮族", "苗族", "土家族", "彝族", "藏族"]
OCCUPATIONS = ["学生"] * 6 + ["职员", "教师", "医护人员", "工人", "农民", "个体经营者"]


def _mix(n: int, salt: int) -> int:
    """A cheap integer hash: deterministic per-member variety without a random generator's state."""
    x = (n * 0x9E3779B1 + salt * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    return x ^ (x >> 12)


def person_name(n: int, seed: int) -> str:
    h = _mix(n, seed)
    name = SURNAMES[h % len(SURNAMES)] + GIVEN[(h >> 8) % len(GIVEN)]
    return name + GIVEN[(h >> 16) % len(GIVEN)] if h % 10 < 7 else name


class IdNumbers:
    """Unique valid ID numbers per region: birth day and 3-digit sequence from a per-region counter, the
    sequence's parity (the gender digit) alternating so both genders appear in every region."""

    def __init__(self, first_birth: dt.date, last_birth: dt.date) -> None:
        days = (last_birth - first_birth).days + 1
        self.days = [f"{first_birth + dt.timedelta(days=d):%Y%m%d}" for d in range(days)]
        self.counters: dict[str, int] = {}

    def next(self, region: str) -> str:
        n = self.counters.get(region, 0)
        self.counters[region] = n + 1
        day, rest = n % len(self.days), n // len(self.days)
        seq = 2 * rest + (n & 1)
        if seq > 999:
            raise ValueError(f"region {region} ran out of ID numbers")
        first17 = f"{region}{self.days[day]}{seq:03d}"
        return first17 + idnumber.check_char(first17)


def _server_counters() -> tuple[int, int, int] | None:
    """PostgreSQL: WAL written so far (bytes), checkpoints, and buffers written by backends themselves (dirty
    pages evicted because shared_buffers was full)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,"
                       " checkpoints_timed + checkpoints_req, buffers_backend FROM pg_stat_bgwriter")
        return tuple(int(v) for v in cursor.fetchone())


def describe_phase(name: str, seconds: float, server: tuple[int, int, int] | None) -> str:
    line = f"  {name:<58} {seconds:7.1f} s"
    if server is not None:
        wal, checkpoints, backend_writes = server
        line += f"  WAL {wal / 2**20:6,.0f} MB  {checkpoints} checkpoints  {backend_writes:,} backend writes"
    return line


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    # (phase, seconds, (WAL bytes, checkpoints, backend buffer writes) during it, or None on SQLite)
    phases: list[tuple[str, float, tuple[int, int, int] | None]] = field(default_factory=list)
    wal_bytes: int | None = None
    checkpoints: int | None = None
    root_admin_id_number: str = ""
    _counters: tuple[int, int, int] | None = None
    log: Callable[[str], None] | None = None

    def phase(self, name: str, start: float) -> float:
        now = time.perf_counter()
        counters = _server_counters()
        delta = None
        if counters is not None and self._counters is not None:
            delta = tuple(a - b for a, b in zip(counters, self._counters, strict=True))
        self._counters = counters
        self.phases.append((name, now - start, delta))
        if self.log is not None:
            self.log(describe_phase(name, now - start, delta))
        return time.perf_counter()


# ---------------------------------------------------------------------------------------------------------
# Writing rows


def _columns(model: type[models.Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _sqlite_adapter(f: models.Field) -> Callable[[object], object] | None:
    if isinstance(f, models.JSONField):
        return lambda v: None if v is None else json.dumps(v, cls=DjangoJSONEncoder)
    if isinstance(f, models.DateTimeField):
        return lambda v: connection.ops.adapt_datetimefield_value(v) if v is not None else None
    if isinstance(f, models.DateField):
        return lambda v: v.isoformat() if v is not None else None
    if isinstance(f, models.BooleanField):
        return lambda v: None if v is None else int(v)
    return None


def write(model: type[models.Model], rows: Iterable[Sequence]) -> int:
    """Insert rows (tuples with every concrete column of the model, in field order, id included)."""
    table, columns = model._meta.db_table, _columns(model)
    n = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                           [table])
            oids = dict(cursor.fetchall())
            with cursor.cursor.copy(f'COPY {table} ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)') as copy:
                copy.set_types([oids[c] for c in columns])
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n
    adapters = [(i, a) for i, a in enumerate(_sqlite_adapter(f) for f in model._meta.concrete_fields) if a]
    sql = f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'
    batch: list[list] = []
    with connection.cursor() as cursor:
        for row in rows:
            item = list(row)
            for i, adapt in adapters:
                item[i] = adapt(item[i])
            batch.append(item)
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            n += len(batch)
    return n


LOADED_MODELS = (Org, Person, OrgAdmin, Member, Cadre, ApprovalRequest, Transfer, AuditEntry)


@dataclass
class SetAside:
    """DDL to put back after the load: constraints and indexes (in creation order) and trigger state."""

    constraints: list[str] = field(default_factory=list)  # ALTER TABLE ... ADD CONSTRAINT, unique ones first
    indexes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def set_aside(tables: Sequence[str]) -> SetAside:
    """PostgreSQL: drop the secondary indexes, unique and foreign-key constraints of the tables and disable
    their user triggers (inside the caller's transaction), remembering how to put each back."""
    aside = SetAside(tables=list(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')
               ORDER BY c.contype DESC, c.conname""", [list(tables)])  # 'u' before 'f' when put back
        constraints = cursor.fetchall()
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
               ORDER BY 1""", [list(tables)])
        indexes = cursor.fetchall()
        for table, name, _kind, _definition in sorted(constraints, key=lambda c: c[2] != "f"):  # FKs first
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table, name, _kind, definition in constraints:
            aside.constraints.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
            aside.indexes.append(definition)
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    return aside


def put_back(aside: SetAside) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for sql in aside.indexes:
            cursor.execute(sql)
        for sql in aside.constraints:
            cursor.execute(sql)
        for table in aside.tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


# The rules zhtj/dbrules.py's triggers enforce row by row, checked once over everything (PostgreSQL, after a
# load with the triggers disabled).
RULE_CHECKS = {
    "an org under a branch, or a non-branch under a general branch": """
        SELECT count(*) FROM orgs_org c JOIN orgs_orgtype ct ON ct.id = c.type_id
        JOIN orgs_org p ON p.id = c.parent_id JOIN orgs_orgtype pt ON pt.id = p.type_id
        WHERE pt.category = 'branch' OR (pt.category = 'general_branch' AND ct.category <> 'branch')""",
    "a member outside a branch": """
        SELECT count(*) FROM members_member m JOIN orgs_org o ON o.id = m.branch_id
        JOIN orgs_orgtype t ON t.id = o.type_id WHERE t.category <> 'branch'""",
}


def check_rules() -> None:
    with connection.cursor() as cursor:
        for rule, sql in RULE_CHECKS.items():
            cursor.execute(sql)
            bad = cursor.fetchone()[0]
            if bad:
                raise RuntimeError(f"generated data breaks a database rule: {bad} rows with {rule}")


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows explicit ids by itself
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


# ---------------------------------------------------------------------------------------------------------
# The generator


def _wal_position() -> tuple[str, int] | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text, checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        return cursor.fetchone()


def generate(plan: Plan, *, seed: int, transfers: int, pending: int, keep_constraints: bool = False,
             log: Callable[[str], None] = print) -> Report:
    """Write the plan; returns the counts and the time of each phase."""
    report = Report(log=log)
    report._counters = _server_counters()
    wal_start = _wal_position()
    tables = [m._meta.db_table for m in LOADED_MODELS]
    with transaction.atomic():
        start = time.perf_counter()
        aside = None
        if connection.vendor == "postgresql" and not keep_constraints:
            aside = set_aside(tables)
            start = report.phase("set aside indexes, constraints, triggers", start)
        _load(plan, seed=seed, transfers=transfers, report=report, log=log, start=start)
        start = time.perf_counter()
        if aside is not None:
            put_back(aside)
            start = report.phase("indexes and constraints rebuilt", start)
            check_rules()
            start = report.phase("database rules checked", start)
        reset_sequences(LOADED_MODELS)
        recount()  # the count triggers were off (PostgreSQL) or counted row by row (SQLite): count once
        start = report.phase("subtree member counts", start)
    start = time.perf_counter()
    _pending(plan, seed=seed, count=pending, report=report)
    start = report.phase(f"pending requests and transfers via services ({pending * 2})", start)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        else:
            cursor.execute("ANALYZE")
    report.phase("vacuum/analyze", start)
    wal_end = _wal_position()
    if wal_start and wal_end:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_lsn_diff(%s, %s)", [wal_end[0], wal_start[0]])
            report.wal_bytes = int(cursor.fetchone()[0])
        report.checkpoints = wal_end[1] - wal_start[1]
    for model in (*LOADED_MODELS,):
        report.counts[model._meta.label_lower] = model._default_manager.count()
    return report


def _load(plan: Plan, *, seed: int, transfers: int, report: Report, log: Callable[[str], None], start: float) -> None:
    now = timezone.now()
    today = timezone.localdate()
    types = {t.code: t.pk for t in OrgType.objects.all()}
    orgs = plan.orgs
    n_orgs = len(orgs)
    # Ids: orgs 1..N; the admin of org k is person k; member n (0-based, in tree order) is member n + 1 and
    # person N + n + 1.
    tree_id = (Org.objects.order_by("-tree_id").values_list("tree_id", flat=True).first() or 0) + 1

    write(Org, (_org_row(o, now=now, tree_id=tree_id, type_id=types[o.type_code]) for o in orgs))
    start = report.phase(f"orgs ({n_orgs:,})", start)

    password = make_password(DEMO_PASSWORD)  # one hash for every admin: hashing 100,000 times would take hours
    admin_numbers = IdNumbers(dt.date(today.year - 45, 1, 1), dt.date(today.year - 23, 12, 31))
    admin_ids = [admin_numbers.next(o.region) for o in orgs]
    report.root_admin_id_number = admin_ids[0]
    person = Person._meta
    assert [f.column for f in person.concrete_fields] == [
        "id", "password", "last_login", "is_superuser", "id_number", "name", "gender", "birth_date", "phone",
        "email", "is_active", "is_staff", "password_set_at", "created_at", "updated_at"], "Person changed"
    member_numbers = IdNumbers(dt.date(today.year - 26, 1, 1), dt.date(today.year - 15, 12, 31))
    birth_years = array("H")  # each member's, from the people pass (their joining date must follow it)
    starts: list[int] = []  # first member index of each branch, in tree order
    n = 0
    for b in plan.branches:
        starts.append(n)
        n += b.members

    def people():
        for o, number in zip(orgs, admin_ids, strict=True):
            yield (o.id, password, None, False, number, person_name(o.id + 10_000_000, seed),
                   "M" if int(number[16]) % 2 else "F",
                   dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                   f"139{o.id:08d}", "", True, False, now, now, now)
        i = 0
        for b in plan.branches:
            region = b.region
            for _ in range(b.members):
                number = member_numbers.next(region)
                birth_years.append(int(number[6:10]))
                yield (n_orgs + i + 1, UNUSABLE_PASSWORD, None, False, number, person_name(i, seed),
                       "M" if int(number[16]) % 2 else "F",
                       dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                       f"1{3 + _mix(i, seed + 1) % 7}{i:09d}", "", True, False, None, now, now)
                i += 1

    people_written = write(Person, people())
    start = report.phase(f"people ({people_written:,})", start)

    write(OrgAdmin, _admin_rows(orgs, now))
    start = report.phase(f"admins ({n_orgs:,})", start)

    def members():
        i = 0
        for b in plan.branches:
            for _ in range(b.members):
                yield _member_row(i, b.id, birth_years[i], n_orgs=n_orgs, seed=seed, today=today, now=now)
                i += 1

    member_count = write(Member, members())
    start = report.phase(f"members ({member_count:,})", start)

    def cadres():
        k = 0
        for o in orgs:
            k += 1
            nature = CadreNature.FULL_TIME if o.kind in ("province", "city", "county") else CadreNature.PART_TIME
            yield (k, o.id, o.id, Position.SECRETARY.value, dt.date(today.year - 2, 9, 1), nature.value, now)
        for b, first in zip(plan.branches, starts, strict=True):
            k += 1
            yield (k, n_orgs + first + 1, b.id, Position.ORGANIZATION.value, dt.date(today.year - 1, 9, 1),
                   CadreNature.PART_TIME.value, now)

    cadre_count = write(Cadre, cadres())
    start = report.phase(f"cadres ({cadre_count:,})", start)

    moved = _history(plan, starts=starts, n_orgs=n_orgs, transfers=transfers, seed=seed, now=now)
    report.phase(f"history ({moved:,} completed transfers, audit entries)", start)


def _org_row(o: PlannedOrg, *, now: dt.datetime, tree_id: int, type_id: int) -> tuple:
    fields = [f.column for f in Org._meta.concrete_fields]
    values = {
        "id": o.id, "code": o.code, "short_name": o.short_name, "full_name": o.full_name, "type_id": type_id,
        "parent_id": o.parent.id if o.parent else None, "contact_phone": f"020-{8000_0000 + o.id:08d}"[:20],
        "contact_email": "", "secretary_id": o.id, "secretary_is_deputy": False, "created_at": now,
        "updated_at": now, "lft": o.lft, "rght": o.rght, "tree_id": tree_id, "level": o.level,
    }
    return tuple(values[c] for c in fields)


def _admin_rows(orgs: list[PlannedOrg], now: dt.datetime):
    fields = [f.column for f in OrgAdmin._meta.concrete_fields]
    assigned = now - dt.timedelta(days=400)
    for o in orgs:
        values = {"id": o.id, "org_id": o.id, "person_id": o.id, "assigned_at": assigned, "assigned_by_id": None}
        yield tuple(values[c] for c in fields)


MEMBER_FIELDS = [f.column for f in Member._meta.concrete_fields]
assert MEMBER_FIELDS == ["id", "person_id", "branch_id", "status", "ethnicity", "political_status", "joined_on",
                         "development_number", "education", "occupation", "created_at", "updated_at"], MEMBER_FIELDS
_ACTIVE, _LEFT = MemberStatus.ACTIVE.value, MemberStatus.LEFT.value
EDUCATIONS = (Education.SENIOR_HIGH, Education.BACHELOR, Education.JUNIOR_COLLEGE, Education.VOCATIONAL)


def _member_row(i: int, branch_id: int, birth_year: int, *, n_orgs: int, seed: int, today: dt.date,
                now: dt.datetime) -> tuple:
    h = _mix(i, seed + 2)
    # Joined in the year they turned 15 to 17 (so at 14 at least), never after this month.
    joined = dt.date(birth_year + 15 + h % 3, 1 + (h >> 4) % 12, 1)
    if joined > today:
        joined = today.replace(day=1)
    status = _LEFT if h % 40 == 0 else _ACTIVE
    political = PoliticalStatus.PROBATIONARY_PARTY.value if h % 33 == 1 else PoliticalStatus.LEAGUE_MEMBER.value
    devno = f"{joined.year}{i + 1:08d}" if joined.year >= 2017 else None
    education = EDUCATIONS[(h >> 8) % len(EDUCATIONS)]
    return (i + 1, n_orgs + i + 1, branch_id, status, ETHNIC_MIX[(h >> 12) % len(ETHNIC_MIX)], political, joined,
            devno, education.value, OCCUPATIONS[(h >> 16) % len(OCCUPATIONS)], now, now)


def _history(plan: Plan, *, starts: list[int], n_orgs: int, transfers: int, seed: int, now: dt.datetime) -> int:
    """Completed transfers (each with its approved request) and the audit trail of the whole load."""
    branches = plan.branches
    total = plan.members
    transfers = min(transfers, total)
    step = max(1, total // transfers) if transfers else 0
    moves = []  # (member index, source branch, target branch = where the member is now)
    for k in range(transfers):
        i = k * step
        b = bisect_right(starts, i) - 1
        source = branches[b - 1] if b > 0 else branches[1] if len(branches) > 1 else None
        if source is None:
            break
        moves.append((i, source, branches[b], now - dt.timedelta(days=30 + _mix(i, seed) % 1500)))
    request_fields = [f.column for f in ApprovalRequest._meta.concrete_fields]
    transfer_fields = [f.column for f in Transfer._meta.concrete_fields]

    def requests():
        for k, (i, source, target, at) in enumerate(moves, start=1):
            decided = at + dt.timedelta(days=2)
            values = {
                "id": k, "kind": "transfer", "target_type": "transfers.transfer", "target_id": k,
                "target_repr": f"{person_name(i, seed)} {source.short_name} → {target.short_name}"[:200],
                "org_id": source.id, "changes": {"branch": [source.id, target.id]},
                "payload": {"names": {str(source.id): f"{source.short_name}（{source.code}）",
                                      str(target.id): f"{target.short_name}（{target.code}）"}},
                "reason": "就业", "requested_by_id": source.id, "requested_for_org_id": source.id,
                "deciding_org_id": target.id, "status": "approved", "decided_by_id": target.id,
                "decided_at": decided, "decision_reason": "", "created_at": at, "updated_at": decided,
            }
            yield tuple(values[c] for c in request_fields)

    write(ApprovalRequest, requests())

    def transfer_rows():
        for k, (i, source, target, at) in enumerate(moves, start=1):
            decided = at + dt.timedelta(days=2)
            values = {
                "id": k, "member_id": i + 1, "direction": "out", "source_branch_id": source.id,
                "target_org_id": target.id, "allocated_branch_id": None, "reason": "就业", "reason_text": "",
                "status": "completed", "request_id": k, "submitted_at": at, "submitted_by_id": source.id,
                "submitted_for_id": source.id, "decided_at": decided, "decided_by_id": target.id,
                "decision_note": "", "allocated_at": None, "allocated_by_id": None, "completed_at": decided,
                "closed_at": None, "closed_by_id": None,
            }
            yield tuple(values[c] for c in transfer_fields)

    write(Transfer, transfer_rows())
    audit_fields = [f.column for f in AuditEntry._meta.concrete_fields]
    created = now - dt.timedelta(days=2000)

    def entries():
        k = 0

        def entry(**values):
            nonlocal k
            k += 1
            row = {"id": k, "actor_id": None, "acting_org_id": None, "target_type": "", "target_id": "",
                   "target_repr": "", "before": None, "after": None, "reason": "", "ip": None, **values}
            return tuple(row[c] for c in audit_fields)

        for o in plan.orgs:
            yield entry(at=created, org_id=o.id, action="org.create", target_type="orgs.org", target_id=str(o.id),
                        target_repr=o.short_name, after={"code": o.code, "short_name": o.short_name,
                                                         "parent": o.parent.code if o.parent else None})
        for b, first in zip(branches, starts, strict=True):
            yield entry(at=created + dt.timedelta(days=1), actor_id=b.id, acting_org_id=b.id, org_id=b.id,
                        action="member.imported", target_type="orgs.org", target_id=str(b.id),
                        target_repr=b.short_name, after={"org": b.id, "count": b.members, "first_member": first + 1})
        for k_, (i, source, target, at) in enumerate(moves, start=1):
            repr_ = f"{person_name(i, seed)} {source.short_name} → {target.short_name}"[:200]
            yield entry(at=at, actor_id=source.id, acting_org_id=source.id, org_id=source.id,
                        action="transfer.submit_out", target_type="transfers.transfer", target_id=str(k_),
                        target_repr=repr_, reason="就业")
            yield entry(at=at + dt.timedelta(days=2), actor_id=target.id, acting_org_id=target.id, org_id=target.id,
                        action="request.approved.transfer", target_type="transfers.transfer", target_id=str(k_),
                        target_repr=repr_)

    write(AuditEntry, entries())
    return len(moves)


def _pending(plan: Plan, *, seed: int, count: int, report: Report) -> None:
    """Pending personal-info requests and pending transfers (half of them to a committee, whose admin then
    decides and allocates), written by the services themselves so they are exactly what users would leave."""
    if count <= 0:
        return
    from members.services import personal_info_request
    from transfers.services import transfer_out_submit

    branches = plan.branches
    step = max(1, len(branches) // count)
    cities = [o for o in plan.orgs if o.kind in ("province", "city")]
    for k in range(count):
        branch = branches[(k * step) % len(branches)]
        active = Member.objects.select_related("person", "branch").filter(branch_id=branch.id,
                                                                           status=MemberStatus.ACTIVE)
        picked = list(active.order_by("pk")[:2])
        if len(picked) < 2:
            continue
        first, second = picked
        personal_info_request(actor=Actor(person=first.person), member=first,
                              changes={"occupation": "工程师" if first.occupation != "工程师" else "教师"})
        branch_org = Org.objects.select_related("type").get(pk=branch.id)
        # Odd ones to a committee (decided and allocated there), even ones to the next branch.
        target = cities[k % len(cities)].id if k % 2 else branches[(k * step + 1) % len(branches)].id
        if target == branch.id:
            continue
        transfer_out_submit(actor=Actor(person=Person.objects.get(pk=branch.id), org=branch_org),
                            member_id=second.pk, target_org_id=target, reason="升学")
