"""On PostgreSQL, two requests racing for one unique name or ID number get the serial case's clear message.

Each check (no sibling of that name, no person with that ID number) passes in both transactions before either
writes; the database's unique constraint then refuses the second writer. Through the real URLs, the loser must
see the same form error it would have seen a moment later, never an HTTP 500. The checks are held at a
barrier so both transactions really pass them before either writes.
"""

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from members.models import Person
from orgs import services
from orgs.codes import code_issue
from orgs.models import Org, OrgAdmin
from orgs.permissions import Actor

from . import factories as f
from .concurrency import run_together
from .conftest import login_as

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kx7#mq-2Lp!a"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent transactions")


def _hold_first_call(monkeypatch, module, name: str, *, before: bool = False, parties: int = 2) -> None:
    """Hold each thread's first call of module.name until every party has reached it: after the call (a check
    that reads), or before it (a write, which would block the other party on the unique index)."""
    barrier = threading.Barrier(parties, timeout=20)
    seen = threading.local()
    original = getattr(module, name)

    def held(*args, **kwargs):
        if getattr(seen, "done", False):
            return original(*args, **kwargs)
        seen.done = True
        if before:
            barrier.wait()
            return original(*args, **kwargs)
        result = original(*args, **kwargs)
        barrier.wait()
        return result

    monkeypatch.setattr(module, name, held)


def _english_client(person, org) -> Client:
    c = login_as(Client(), person, org)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def _outcome(response) -> str:
    if response.status_code == 302:
        return "done"
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_two_siblings_renamed_to_one_name_at_once_the_loser_gets_the_sibling_name_error(tree, monkeypatch):
    _hold_first_call(monkeypatch, services, "_check_sibling_name")
    data = {"short_name": "同名支部", "full_name": "同名支部全称", "contact_phone": "", "contact_email": ""}
    clients = [_english_client(tree.gb_admin, tree.gb) for _ in range(2)]
    results = run_together(
        lambda: clients[0].post(reverse("org_edit", args=[tree.branch.pk]), data),
        lambda: clients[1].post(reverse("org_edit", args=[tree.branch2.pk]), data),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = [_outcome(r) for r in results]
    assert outcomes.count("done") == 1, outcomes
    loser = next(o for o in outcomes if o != "done")
    assert "already has a subordinate organization named 同名支部" in loser
    assert Org.objects.filter(parent=tree.gb, short_name="同名支部").count() == 1
    assert set(Org.objects.filter(parent=tree.gb).values_list("short_name", flat=True)) in (
        {"同名支部", "二班团支部"}, {"一班团支部", "同名支部"})


def test_rename_racing_a_move_into_the_same_parent_the_loser_gets_the_sibling_name_error(tree, monkeypatch):
    # The work committee admin moves the sibling branch (机关团支部) under gb while gb's admin renames one of
    # gb's branches to 机关团支部: both see no clash, only one may win.
    _hold_first_call(monkeypatch, services, "_check_sibling_name")
    mover = _english_client(tree.wc_admin, tree.wc)
    renamer = _english_client(tree.gb_admin, tree.gb)
    results = run_together(
        lambda: mover.post(reverse("org_move", args=[tree.sibling.pk]), {"parent_code": tree.gb.code}),
        lambda: renamer.post(reverse("org_edit", args=[tree.branch.pk]),
                             {"short_name": "机关团支部", "full_name": "一班团支部全称", "contact_phone": "",
                              "contact_email": ""}),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = [_outcome(r) for r in results]
    assert outcomes.count("done") == 1, outcomes
    loser = next(o for o in outcomes if o != "done")
    assert "already has a subordinate organization named 机关团支部" in loser
    assert Org.objects.filter(parent=tree.gb, short_name="机关团支部").count() == 1
    from orgs.tree import tree_problems

    assert tree_problems() == []


def _registration(org, code, number, password):
    return {"org": org.code, "code": code, "name": "并发管理员", "id_number": number, "phone": "138 0013 8000",
            "password": password, "password2": password}


def test_two_registrations_with_one_new_id_number_at_once_the_loser_is_asked_for_the_password(tree, monkeypatch):
    # Two orgs' codes, one new person registering with each at the same moment under different passwords:
    # serially, the second is told that the account exists and its password is needed.
    gb = Actor(person=tree.gb_admin, org=tree.gb)
    first, second = code_issue(actor=gb, org=tree.branch), code_issue(actor=gb, org=tree.branch2)
    number = f.next_id_number()
    _hold_first_call(monkeypatch, Person.objects, "create_user", before=True)
    c1, c2 = Client(), Client()
    for c in (c1, c2):
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    results = run_together(
        lambda: c1.post(reverse("register_admin"), _registration(tree.branch, first, number, PASSWORD)),
        lambda: c2.post(reverse("register_admin"), _registration(tree.branch2, second, number, "Other#pass-2026")),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = [_outcome(r) for r in results]
    assert outcomes.count("done") == 1, outcomes
    loser = next(o for o in outcomes if o != "done")
    assert "An account with this ID number already exists" in loser
    person = Person.objects.get(id_number=number)
    assert OrgAdmin.objects.filter(person=person).count() == 1


def test_two_registrations_with_one_new_id_number_and_its_password_both_succeed(tree, monkeypatch):
    # The same person with the same password registering for two orgs at once: serially both succeed.
    gb = Actor(person=tree.gb_admin, org=tree.gb)
    first, second = code_issue(actor=gb, org=tree.branch), code_issue(actor=gb, org=tree.branch2)
    number = f.next_id_number()
    _hold_first_call(monkeypatch, Person.objects, "create_user", before=True)
    c1, c2 = Client(), Client()
    results = run_together(
        lambda: c1.post(reverse("register_admin"), _registration(tree.branch, first, number, PASSWORD)),
        lambda: c2.post(reverse("register_admin"), _registration(tree.branch2, second, number, PASSWORD)),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.status_code for r in results] == [302, 302]
    person = Person.objects.get(id_number=number)
    assert set(OrgAdmin.objects.filter(person=person).values_list("org_id", flat=True)) == {
        tree.branch.pk, tree.branch2.pk}
