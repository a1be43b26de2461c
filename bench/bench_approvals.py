"""Benchmark: latency of the approvals inbox, the request page and the audit trail on a busy org.

Builds, in a throw-away database (a temporary SQLite file, or a `test_<name>` database when DATABASE_URL
points at PostgreSQL), a committee → general branch with B branches (default 2,000), one pending org-info
request per branch waiting for the general branch (plus as many decided ones) and E audit entries (default
200,000) spread over the branches, then requests the pages through Django's test client (full middleware,
session, templates) as the general branch's admin and prints the median and worst latency and the query
count per scenario. The inbox and audit pages are paginated (50 a page), so their figures should not grow
with the number of requests or entries much; deep audit pages pay for OFFSET.

Run: .venv/bin/python bench/bench_approvals.py [--branches B] [--entries E] [--repeat R]
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from harness import client_for, print_pages, time_page  # noqa: E402 - bench/ is on sys.path when run as a script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=9)
    args, _unknown = parser.parse_known_args()

    from harness import bench_database

    with bench_database("approvals") as backend:
        start = time.perf_counter()
        built = build(args.branches, args.entries)
        build_s = time.perf_counter() - start
        results = measure(built, args.repeat)
    print(f"approvals, {built['pending']} pending + {built['decided']} decided requests, {built['entries']} audit "
          f"entries, {backend} (built in {build_s:.1f} s), {args.repeat} requests each:")
    print_pages(results)
    return 0


def build(branch_count: int, entry_count: int) -> dict:
    """Orgs, requests and audit entries with bulk_create; one MPTT rebuild numbers the tree."""
    from django.db import connection
    from django.utils import timezone

    from approvals.models import ApprovalRequest, RequestStatus
    from audit.models import AuditEntry
    from members import idnumber
    from members.models import Person
    from orgs.models import Org, OrgAdmin, OrgType

    types = {t.code: t for t in OrgType.objects.all()}
    placeholder = {"lft": 0, "rght": 0, "tree_id": 1, "level": 0}
    root = Org.objects.create(code="A", short_name="基准市团委", full_name="基准市团委", type=types["committee"])
    gb = Org.objects.create(code="A0", short_name="基准团总支", full_name="基准团总支", type=types["general_branch"],
                            parent=root)
    Org.objects.bulk_create(
        [Org(code=f"A0{i:05d}", short_name=f"团支部{i}", full_name=f"基准团支部{i}", type=types["branch"], parent=gb,
             **placeholder) for i in range(branch_count)],
        batch_size=1000,
    )
    Org.objects.rebuild()
    gb.refresh_from_db()
    branches = list(Org.objects.filter(parent=gb).order_by("code"))

    def person(n: int, name: str) -> Person:
        p = Person.objects.create_user(idnumber.make("110101", dt.date(1990, 1, 1), n), name, password=None)
        p.password_set_at = p.created_at
        p.save(update_fields=["password_set_at"])
        return p

    admin, asker = person(1, "基准审批人"), person(2, "基准申请人")
    OrgAdmin.objects.create(org=gb, person=admin)
    now = timezone.now()
    requests = []
    for i, b in enumerate(branches):
        common = dict(kind="org_info", target_type="orgs.org", target_id=b.pk, target_repr=b.short_name, org=b,
                      requested_by=asker, requested_for_org=b, deciding_org=gb, reason="更名")
        requests.append(ApprovalRequest(changes={"short_name": [b.short_name, f"{b.short_name}新"]},
                                        created_at=now - dt.timedelta(minutes=i), **common))
        requests.append(ApprovalRequest(changes={"full_name": [b.full_name, f"{b.full_name}（旧）"]},
                                        status=RequestStatus.REJECTED, decided_by=admin, decision_reason="否",
                                        decided_at=now - dt.timedelta(days=1, minutes=i),
                                        created_at=now - dt.timedelta(days=2, minutes=i), **common))
    ApprovalRequest.objects.bulk_create(requests, batch_size=2000)
    batch = []
    for i in range(entry_count):
        batch.append(AuditEntry(action="org.update" if i % 3 else "member.update", org=branches[i % len(branches)],
                                actor=admin, acting_org=gb, at=now - dt.timedelta(seconds=i), target_repr="基准",
                                before={"short_name": "旧"}, after={"short_name": "新"}, ip="10.0.0.1"))
        if len(batch) == 10_000:
            AuditEntry.objects.bulk_create(batch)
            batch = []
    AuditEntry.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        # Fresh bulk loads have no planner statistics yet; autovacuum would gather them in production.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"gb": gb, "admin": admin, "asker": asker, "first": requests[0],
            "pending": branch_count, "decided": branch_count, "entries": entry_count}


def measure(built: dict, repeat: int) -> list[tuple[str, float, float, float, int, int]]:
    from django.test import Client
    from django.urls import reverse

    from approvals.models import ApprovalRequest

    client = client_for(built["admin"], built["gb"])
    asker = Client()
    asker.force_login(built["asker"])
    first = ApprovalRequest.objects.filter(status="pending").order_by("pk").first()

    def rows(r):
        return len(r.context["rows"])

    def entries(r):
        return len(r.context["page"].object_list)

    scenarios = [
        (client, "inbox, first page", reverse("inbox"), {}, rows),
        (client, "inbox, page 20", reverse("inbox"), {"page": 20}, rows),
        (client, "inbox, decided tab", reverse("inbox"), {"tab": "decided"}, rows),
        (client, "request page", reverse("request_detail", args=[first.pk]), {},
         lambda r: len(r.context["row"].changes)),
        (asker, "my requests (requester)", reverse("my_requests"), {}, rows),
        (client, "audit trail, first page", reverse("audit_log"), {}, entries),
        (client, "audit trail, page 100", reverse("audit_log"), {"page": 100}, entries),
        (client, "audit trail, action + date filter", reverse("audit_log"),
         {"action": "member.update", "date_from": "2000-01-01"}, entries),
    ]
    return [time_page(c, label, url, params, count, repeat) for c, label, url, params, count in scenarios]


if __name__ == "__main__":
    raise SystemExit(main())
