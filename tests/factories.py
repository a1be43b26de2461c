"""Factories for test data: plain functions with sensible defaults, every argument overridable."""

import datetime as dt
import itertools

from django.db import transaction

from members import idnumber
from members.models import Cadre, Member, Person
from orgs.models import Org, OrgAdmin, OrgType

_seq = itertools.count(1)


def next_id_number(birth: dt.date | None = None, region: str = "110101") -> str:
    n = next(_seq)
    if birth is None:
        # 24 to 26 years old whatever the test order and the year: an adult, but under the age limit (28)
        # of an active member. Birth day and serial together stay unique for 700,000 numbers.
        today = dt.date.today()
        birth = today.replace(year=today.year - 24, day=1) - dt.timedelta(days=(n // 1000) % 700)
    return idnumber.make(region, birth, n % 1000)


def make_person(*, name: str | None = None, id_number: str | None = None, password: str | None = "Str0ng-pass!",
                birth: dt.date | None = None, **extra) -> Person:
    """A person; with password=None they have never set one (initial-password activation applies)."""
    number = id_number or next_id_number(birth)
    return Person.objects.create_user(number, name or f"测试{next(_seq)}", password=password, **extra)


def org_type(code: str) -> OrgType:
    found = OrgType.objects.filter(code=code).first()
    if found is None:
        # A transactional test's flush empties the table the data migration filled: refill it.
        import importlib

        for c, name, category, order in importlib.import_module("orgs.migrations.0002_org_types").TYPES:
            OrgType.objects.get_or_create(code=c, defaults={"name": name, "category": category, "sort_order": order})
        found = OrgType.objects.get(code=code)
    return found


def make_org(type_code: str = "branch", *, parent: Org | None = None, short_name: str | None = None,
             code: str | None = None, **extra) -> Org:
    n = next(_seq)
    with transaction.atomic():
        org = Org.objects.create(
            code=code or f"T{n:06d}",
            short_name=short_name or f"组织{n}",
            full_name=extra.pop("full_name", None) or f"测试组织{n}",
            type=org_type(type_code),
            parent=parent,
            **extra,
        )
    return org


def make_admin(org: Org, person: Person | None = None) -> Person:
    person = person or make_person(name=f"{org.short_name}管理员")
    OrgAdmin.objects.update_or_create(org=org, defaults={"person": person})
    return person


def make_member(branch: Org, *, person: Person | None = None, **extra) -> Member:
    person = person or make_person(password=None)
    extra.setdefault("joined_on", dt.date(2015, 5, 1))
    return Member.objects.create(person=person, branch=branch, **extra)


def make_cadre(org: Org, *, person: Person | None = None, position: str = "组织委员", **extra) -> Cadre:
    person = person or make_person()
    extra.setdefault("since", dt.date(2022, 9, 1))
    return Cadre.objects.create(person=person, org=org, position=position, **extra)
