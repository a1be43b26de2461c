"""Two admins at the same moment (PostgreSQL, two threads): one member per person, one secretary per org."""

import datetime as dt

import pytest
from django.db import connection

from members import services
from members.models import Cadre, Member
from members.rules import MemberInput
from members.services import MemberError
from orgs.permissions import Actor

from . import factories as f
from .concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent transactions")


def data(number: str, devno: str) -> MemberInput:
    return MemberInput(name="并发", id_number=number, ethnicity="汉族", political_status="共青团员",
                       joined_on=dt.date(2020, 5, 1), development_number=devno, phone="13912345678", email="",
                       education="", occupation="")


def test_same_person_added_to_two_branches_at_once_only_one_wins(tree):
    number = f.next_id_number(birth=dt.date(2005, 1, 1))
    results = run_together(
        lambda: services.member_add(actor=Actor(person=tree.branch_admin, org=tree.branch), branch=tree.branch,
                                    data=data(number, "202005990001")),
        lambda: services.member_add(actor=Actor(person=tree.branch2_admin, org=tree.branch2), branch=tree.branch2,
                                    data=data(number, "202005990002")),
    )
    winners = [r for r in results if isinstance(r, Member)]
    losers = [r for r in results if isinstance(r, MemberError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert Member.objects.filter(person__id_number=number).count() == 1


def test_two_secretaries_at_once_only_one_wins(tree):
    def add(admin, org_of_admin, name):
        return lambda: services.cadre_add(
            actor=Actor(person=admin, org=org_of_admin), org=tree.gb, position="书记", since=dt.date(2023, 1, 1),
            nature="兼职", person_data=MemberInput(
                name=name, id_number=f.next_id_number(birth=dt.date(1995, 1, 1)), ethnicity="汉族",
                political_status="中共党员", joined_on=None, development_number=None, phone="", email="",
                education="", occupation=""),
        )

    results = run_together(add(tree.gb_admin, tree.gb, "甲"), add(tree.wc_admin, tree.wc, "乙"))
    winners = [r for r in results if isinstance(r, Cadre)]
    losers = [r for r in results if isinstance(r, MemberError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "one secretary" in losers[0].message
    assert Cadre.objects.filter(org=tree.gb, position="书记").count() == 1
