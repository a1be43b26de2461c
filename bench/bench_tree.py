"""Benchmark: latency of the org tree page, the children fragment, search and an org's page on a big tree.

Builds, in a throw-away database (a temporary SQLite file, or a `test_<name>` database when DATABASE_URL
points at PostgreSQL), a tree of 1 committee → W work committees → G general branches each → B branches
each (default 10 × 10 × 25: 2,611 orgs) with M members per branch (default 10: 25,000 members), then
requests the pages through Django's test client (full middleware, session, templates) as the root admin
and prints the median and worst latency and the query count per scenario. Subtree member counts are one
subquery per level, so the figures should not grow with the number of children's descendants' rows much.

Run: .venv/bin/python bench/bench_tree.py [--work-committees W] [--general-branches G] [--branches B]
     [--members M] [--repeat R]
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
    parser.add_argument("--work-committees", type=int, default=10)
    parser.add_argument("--general-branches", type=int, default=10)
    parser.add_argument("--branches", type=int, default=25)
    parser.add_argument("--members", type=int, default=10, help="members per branch")
    parser.add_argument("--repeat", type=int, default=9)
    args, _unknown = parser.parse_known_args()

    from harness import bench_database

    with bench_database("tree") as backend:
        start = time.perf_counter()
        built = build(args.work_committees, args.general_branches, args.branches, args.members)
        build_s = time.perf_counter() - start
        results = measure(built, args.repeat)
    print(f"org tree, {built['orgs']} orgs, {built['members']} members, {backend} "
          f"(built in {build_s:.1f} s), {args.repeat} requests each:")
    print_pages(results)
    return 0


def build(w: int, g: int, b: int, m: int) -> dict:
    """Insert the tree level by level with bulk_create, then number it with one MPTT rebuild."""
    from members import idnumber
    from members.models import Member, Person
    from orgs.models import Org, OrgAdmin, OrgType
    from orgs.tree import tree_problems

    types = {t.code: t for t in OrgType.objects.all()}
    placeholder = {"lft": 0, "rght": 0, "tree_id": 1, "level": 0}
    root = Org.objects.create(code="T", short_name="基准市团委", full_name="基准市团委", type=types["committee"])

    def level(parents: list[Org], count: int, type_code: str, label: str) -> list[Org]:
        rows = [Org(code=f"{p.code}{i:03d}", short_name=f"{label}{i}", full_name=f"{p.short_name}{label}{i}",
                    type=types[type_code], parent=p, **placeholder)
                for p in parents for i in range(1, count + 1)]
        Org.objects.bulk_create(rows, batch_size=1000)
        return list(Org.objects.filter(code__in=[r.code for r in rows]).order_by("code"))

    wcs = level([root], w, "work_committee", "团工委")
    gbs = level(wcs, g, "general_branch", "团总支")
    branches = level(gbs, b, "branch", "团支部")
    Org.objects.rebuild()
    problems = tree_problems()
    if problems:
        raise SystemExit(f"bench tree is broken: {problems[0].describe()}")

    admin = Person.objects.create_user(idnumber.make("110101", dt.date(1990, 1, 1), 1), "基准管理员",
                                       password=None)
    admin.password_set_at = admin.created_at
    admin.save(update_fields=["password_set_at"])
    root.refresh_from_db()
    OrgAdmin.objects.create(org=root, person=admin)

    people = []
    base = dt.date(2000, 1, 1)
    for i in range(len(branches) * m):
        number = idnumber.make("320102", base + dt.timedelta(days=i // 900), i % 900)
        info = idnumber.parse(number)
        people.append(Person(id_number=number, name=f"成员{i:06d}", gender=info.gender,
                             birth_date=info.birth_date, password="!"))
    Person.objects.bulk_create(people, batch_size=2000)
    ids = list(Person.objects.filter(id_number__startswith="320102").order_by("pk").values_list("pk", flat=True))
    Member.objects.bulk_create(
        [Member(person_id=pk, branch=branches[n // m], joined_on=dt.date(2016, 1 + n % 12, 1))
         for n, pk in enumerate(ids)],
        batch_size=2000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh bulk loads have no planner statistics yet; autovacuum would gather them in production.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"root": root, "wc": wcs[0], "gb": gbs[0], "admin": admin, "orgs": Org.objects.count(),
            "members": Member.objects.count()}


def measure(built: dict, repeat: int) -> list[tuple[str, float, float, float, int, int]]:
    from django.urls import reverse


    client = client_for(built["admin"], built["root"])

    scenarios = [
        ("tree page (root + work committees)", reverse("org_tree"), {}, lambda r: len(r.context["children"])),
        ("children of a work committee", reverse("org_children", args=[built["wc"].pk]), {},
         lambda r: len(r.context["nodes"])),
        ("children of a general branch", reverse("org_children", args=[built["gb"].pk]), {},
         lambda r: len(r.context["nodes"])),
        ("search by name (50 hits max)", reverse("org_tree"), {"q": "团支部1"}, lambda r: len(r.context["hits"])),
        ("search by code", reverse("org_tree"), {"q": "T001002003"}, lambda r: len(r.context["hits"])),
        ("org page of the root", reverse("org_detail", args=[built["root"].pk]), {},
         lambda r: len(r.context["detail"].children)),
    ]
    return [time_page(client, label, url, params, count, repeat) for label, url, params, count in scenarios]


if __name__ == "__main__":
    raise SystemExit(main())
