"""`manage.py seed_demo`: a deterministic demo tree with admins, cadres and a few hundred members.

Everything is fixed (names, codes, ID numbers, dates), so the demo logins in README stay true. Safe to run
again: orgs are found by their fixed codes and people by their fixed ID numbers; whatever is missing is
added and nothing else changes. The structure:

    100000 示范市团委 (committee)
      └ 2 work committees ─┬ 2 general branches ── 3 branches each
                           └ 1 branch directly under the work committee

Every org gets an admin (password DEMO_PASSWORD) who is also its secretary (书记); every branch gets
25 members who have never set a password (they log in with the last 8 characters of their ID number).
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from members import idnumber
from members.choices import CadreNature, Education, PoliticalStatus
from members.models import Cadre, Member, Person
from orgs.models import Org, OrgAdmin, OrgType
from orgs.services import org_create_by_operator

DEMO_PASSWORD = "Demo-pass-2026"
REGION = "110101"
ROOT_CODE = "100000"
MEMBERS_PER_BRANCH = 25
# Membership dates are fixed, not relative to today, so the data is the same on every run.
LATEST_JOIN = dt.date(2025, 12, 1)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
# Given names by gender: a person's gender comes from their ID number (odd 17th digit: male), and the name
# agrees with it.
GIVEN_MALE = ["梓轩", "浩然", "宇航", "思远", "俊杰", "博文", "明轩", "天佑", "志强", "文博",
              "皓轩", "家豪", "子墨", "泽宇", "嘉懿"]
GIVEN_FEMALE = ["子涵", "欣怡", "雨桐", "一诺", "佳怡", "诗涵", "晨曦", "可馨", "若曦", "雅琪",
                "紫萱", "梦瑶", "语桐", "欣妍", "静怡"]
ETHNIC_MIX = ["汉族"] * 9 + ["回族", "满族", "蒙古族", "壮族"]


@dataclass(frozen=True)
class OrgSpec:
    code: str
    parent: str | None
    type: str
    short_name: str
    full_name: str


def org_specs() -> list[OrgSpec]:
    specs = [OrgSpec(ROOT_CODE, None, "committee", "示范市团委", "共青团示范市委员会")]
    for w, district in enumerate(["东城区", "西城区"], start=1):
        wc = f"{ROOT_CODE}{w:03d}"
        specs.append(OrgSpec(wc, ROOT_CODE, "work_committee", f"{district}团工委", f"共青团示范市{district}工作委员会"))
        for g, school in enumerate(["第一中学", "职业技术学院"], start=1):
            gb = f"{wc}{g:03d}"
            specs.append(OrgSpec(gb, wc, "general_branch", f"{district}{school}团总支",
                                 f"共青团示范市{district}{school}总支部委员会"))
            for b in range(1, 4):
                grade = "高一" if g == 1 else "2025级"
                specs.append(OrgSpec(f"{gb}{b:03d}", gb, "branch", f"{grade}{b}班团支部",
                                     f"共青团示范市{district}{school}{grade}{b}班支部委员会"))
        specs.append(OrgSpec(f"{wc}003", wc, "branch", f"{district}机关团支部",
                             f"共青团示范市{district}机关支部委员会"))
    return specs


def person_name(n: int) -> str:
    """The n-th demo person's name: distinct for every n below 900, and of the gender their ID number says
    (the ID numbers' sequence is n, whose last digit gives the gender)."""
    given = GIVEN_MALE if n % 2 else GIVEN_FEMALE
    k = n // 2  # the k-th person of that gender
    return SURNAMES[k % len(SURNAMES)] + given[(k // len(SURNAMES)) % len(given)]


def admin_id_number(index: int) -> str:
    return idnumber.make(REGION, dt.date(1988, 3, 1) + dt.timedelta(days=index * 53), index)


def member_id_number(n: int) -> str:
    # Born 2000–2011: members stay under the age limit (28) for years to come.
    return idnumber.make(REGION, dt.date(2000, 1, 1) + dt.timedelta(days=n * 9), n)


def member_fields(n: int) -> dict:
    birth = dt.date(2000, 1, 1) + dt.timedelta(days=n * 9)
    joined = min(dt.date(birth.year + 14 + n % 3, birth.month, 1), LATEST_JOIN)
    age_on_join_year = joined.year - birth.year
    education = Education.SENIOR_HIGH if age_on_join_year < 17 else Education.BACHELOR
    return {
        "ethnicity": ETHNIC_MIX[n % len(ETHNIC_MIX)],
        "political_status": PoliticalStatus.PROBATIONARY_PARTY if n % 17 == 0 else PoliticalStatus.LEAGUE_MEMBER,
        "joined_on": joined,
        # From 2017 a member has a 12-digit development number starting with the join year.
        "development_number": f"{joined.year}{n:08d}" if joined.year >= 2017 else None,
        "education": education,
        "occupation": "学生",
    }


@dataclass
class Login:
    role: str
    org: str
    org_code: str
    id_number: str
    password: str


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - shown, 0)


class Command(BaseCommand):
    help = "Load the deterministic demo tree, admins, cadres and members (idempotent)."

    def handle(self, *args, **options) -> None:
        logins = self.seed()
        counts = {
            "orgs": Org.objects.filter(tree_id=Org.objects.get(code=ROOT_CODE).tree_id).count(),
            "admins": OrgAdmin.objects.filter(org__code__startswith=ROOT_CODE).count(),
            "members": Member.objects.filter(branch__code__startswith=ROOT_CODE).count(),
            "cadres": Cadre.objects.filter(org__code__startswith=ROOT_CODE).count(),
        }
        self.stdout.write("Demo data: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        self.stdout.write("")
        widths = (8, 40, 20, 16)
        header = ("role", "organization", "ID number", "password")
        self.stdout.write("  ".join(pad(h, w) for h, w in zip(header, widths, strict=True)))
        for login in logins:
            row = (login.role, f"{login.org} {login.org_code}", login.id_number, login.password)
            self.stdout.write("  ".join(pad(v, w) for v, w in zip(row, widths, strict=True)).rstrip())

    @transaction.atomic
    def seed(self) -> list[Login]:
        types = {t.code: t for t in OrgType.objects.all()}
        orgs: dict[str, Org] = {o.code: o for o in Org.objects.filter(code__startswith=ROOT_CODE)}
        specs = org_specs()
        for index, spec in enumerate(specs, start=1):
            if spec.code not in orgs:
                orgs[spec.code] = org_create_by_operator(
                    parent=orgs[spec.parent] if spec.parent else None, type=types[spec.type],
                    short_name=spec.short_name, full_name=spec.full_name, code=spec.code,
                    contact_phone=f"010-6601{index:04d}",
                )
        self.seed_admins(specs, orgs)
        self.seed_members([orgs[s.code] for s in specs if s.type == "branch"])
        return self.logins(specs, orgs)

    def seed_admins(self, specs: list[OrgSpec], orgs: dict[str, Org]) -> None:
        password_hash = None  # hashed once, shared by every demo admin: PBKDF2 per person would be slow
        now = timezone.now()
        for index, spec in enumerate(specs, start=1):
            org = orgs[spec.code]
            number = admin_id_number(index)
            person = Person.objects.filter(id_number=number).first()
            if person is None:
                password_hash = password_hash or make_password(DEMO_PASSWORD)
                # Past the members' numbers (100–449), with the parity of the admin's ID sequence (index).
                person = Person(name=person_name(480 + index), phone=f"138{index:08d}")
                person.set_id_number(number)
                person.password = password_hash
                person.password_set_at = now
                person.save()
            if not OrgAdmin.objects.filter(org=org).exists():
                OrgAdmin.objects.create(org=org, person=person)
            if not Cadre.objects.filter(org=org, position="书记").exists():
                Cadre.objects.create(person=person, org=org, position="书记", since=dt.date(2023, 9, 1),
                                     nature=CadreNature.FULL_TIME if org.level < 2 else CadreNature.PART_TIME)
            if org.secretary_id is None:
                org.secretary = person
                org.save(update_fields=["secretary", "updated_at"])

    def seed_members(self, branches: list[Org]) -> None:
        wanted: list[tuple[int, Org]] = []
        for b, branch in enumerate(branches):
            for i in range(MEMBERS_PER_BRANCH):
                wanted.append((100 + b * MEMBERS_PER_BRANCH + i, branch))
        numbers = {n: member_id_number(n) for n, _ in wanted}
        existing = set(Person.objects.filter(id_number__in=numbers.values()).values_list("id_number", flat=True))
        new_people = []
        for n, _branch in wanted:
            if numbers[n] in existing:
                continue
            person = Person(name=person_name(n), phone=f"139{n:08d}")
            person.set_id_number(numbers[n])
            person.set_unusable_password()  # never hashed per person: the initial password activates
            new_people.append(person)
        Person.objects.bulk_create(new_people, batch_size=500)
        people = dict(Person.objects.filter(id_number__in=numbers.values()).values_list("id_number", "pk"))
        with_record = set(Member.objects.filter(person_id__in=people.values()).values_list("person_id", flat=True))
        Member.objects.bulk_create(
            [Member(person_id=people[numbers[n]], branch=branch, **member_fields(n))
             for n, branch in wanted if people[numbers[n]] not in with_record],
            batch_size=500,
        )
        # A second cadre per branch: its organization committee member, one of its members.
        for b, branch in enumerate(branches):
            person_id = people[numbers[100 + b * MEMBERS_PER_BRANCH + 1]]
            Cadre.objects.get_or_create(person_id=person_id, org=branch, position="组织委员",
                                        defaults={"since": dt.date(2024, 9, 1)})

    def logins(self, specs: list[OrgSpec], orgs: dict[str, Org]) -> list[Login]:
        first_branch = next(i for i, s in enumerate(specs, start=1) if s.type == "branch")
        rows = [Login("admin", s.short_name, s.code, admin_id_number(i), DEMO_PASSWORD)
                for i, s in enumerate(specs, start=1)]
        member_number = member_id_number(100)
        branch = specs[first_branch - 1]
        rows.append(Login("member", branch.short_name, branch.code, member_number,
                          f"{member_number[-8:]} (initial)"))
        return rows
