"""Benchmark: latency of the branch member list page with 10,000 members.

Builds a 10,000-member branch in a throw-away database — a temporary SQLite file, or, when DATABASE_URL
points at PostgreSQL, a `test_<name>` database created and dropped on that server — then requests the list
page through Django's test client (full middleware, templates, session) and prints the median latency and
query count of several requests per scenario: first page, name search, ID-suffix search, sorted by age,
a deep page sorted by join date, a filter.

Run: .venv/bin/python bench/bench_member_list.py [--members N] [--repeat R]
"""

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from harness import bench_database

    with bench_database("member-list") as backend:
        results = run(args.members, args.repeat)
    print(f"member list, {args.members} members in one branch, {backend}, median of {args.repeat} requests:")
    for label, median_ms, _worst_ms, sql_ms, queries, rows in results:
        print(f"  {label:<30} {median_ms:7.1f} ms total  {sql_ms:6.1f} ms in SQL  {queries:2d} queries"
              f"  {rows:5d} matching")
    return 0


def build(n: int):
    from members import idnumber
    from members.models import Member, Person
    from orgs.models import Org, OrgAdmin, OrgType

    types = {t.category: t for t in OrgType.objects.all()}
    root = Org.objects.create(code="BENCHR", short_name="基准团委", full_name="基准测试团委", type=types["committee"])
    branch = Org.objects.create(code="BENCHB", short_name="基准团支部", full_name="基准测试团支部",
                                type=types["branch"], parent=root)
    admin = Person.objects.create_user(idnumber.make("110101", dt.date(1990, 1, 1), 1), "管理员", password=None)
    admin.password_set_at = admin.created_at
    admin.save(update_fields=["password_set_at"])
    OrgAdmin.objects.create(org=branch, person=admin)
    base = dt.date(1998, 1, 1)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    people = []
    for i in range(n):
        number = idnumber.make("320102", base + dt.timedelta(days=i // 900), i % 900)
        info = idnumber.parse(number)
        people.append(Person(id_number=number, name=f"{surnames[i % len(surnames)]}成员{i:05d}",
                             gender=info.gender, birth_date=info.birth_date, phone=f"139{i:08d}", password="!"))
    Person.objects.bulk_create(people, batch_size=2000)
    ids = Person.objects.filter(id_number__startswith="320102").values_list("pk", flat=True)
    Member.objects.bulk_create(
        [Member(person_id=pk, branch=branch, joined_on=dt.date(2012 + pk % 10, 1 + pk % 12, 1),
                political_status="共青团员" if pk % 7 else "中共党员") for pk in ids],
        batch_size=2000,
    )
    sample_id = people[n // 2].id_number
    from django.db import connection

    if connection.vendor == "postgresql":
        # Autovacuum would analyze a table grown like this within a minute; do it now so the planner
        # sees the steady state rather than an empty table's statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE members_person; ANALYZE members_member; ANALYZE orgs_org;")
    return branch, admin, sample_id


def run(n: int, repeat: int) -> list[tuple[str, float, float, float, int, int]]:
    from django.urls import reverse
    from harness import client_for, time_page

    branch, admin, sample_id = build(n)
    client = client_for(admin, branch)
    url = reverse("member_list", args=[branch.pk])
    scenarios = [
        ("first page", {}),
        ("search name", {"q": "成员04999"}),
        ("search ID last 6", {"q": sample_id[-6:]}),
        ("search phone", {"q": "13900004999"}),
        ("sorted by age", {"sort": "-age"}),
        ("page 100 sorted by join date", {"sort": "joined", "page": "100"}),
        ("filter gender + political", {"gender": "F", "political_status": "共青团员"}),
    ]
    return [time_page(client, label, url, params, lambda r: r.context["page"].paginator.count, repeat)
            for label, params in scenarios]


if __name__ == "__main__":
    raise SystemExit(main())
