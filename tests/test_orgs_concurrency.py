"""On PostgreSQL, concurrent structural writes under the tree lock leave a valid MPTT tree."""

import threading

import pytest
from django.db import connection

from orgs import services
from orgs.models import Org
from orgs.permissions import Actor
from orgs.tree import tree_problems

from . import factories as f


def _in_thread(fn, errors: list) -> threading.Thread:
    def run():
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_child_creations_under_one_parent_leave_a_valid_tree(org_types):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    root = f.make_org("committee", short_name="并发团委", code="C0001")
    wc = f.make_org("work_committee", parent=root, short_name="并发工委", code="C0002")
    f.make_org("branch", parent=root, short_name="并发支部", code="C0003")
    admin = f.make_admin(wc)
    wc.refresh_from_db()
    actor = Actor(person=admin, org=wc)
    barrier = threading.Barrier(4)
    errors: list = []

    def create(i: int):
        def go():
            barrier.wait()
            for j in range(5):
                services.org_create(actor=actor, parent=wc, type=f.org_type("branch"),
                                    short_name=f"线程{i}支部{j}", full_name=f"线程{i}支部{j}")
        return go

    threads = [_in_thread(create(i), errors) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Org.objects.filter(parent=wc).count() == 20
    assert len(set(Org.objects.filter(parent=wc).values_list("code", flat=True))) == 20
    assert tree_problems() == []
    root.refresh_from_db()
    assert root.get_descendant_count() == 22


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_create_and_delete_leave_a_valid_tree(org_types):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    root = f.make_org("committee", short_name="并发团委", code="D0001")
    empties = [f.make_org("branch", parent=root, short_name=f"空{i}", code=f"D1{i:03d}") for i in range(6)]
    admin = f.make_admin(root)
    root.refresh_from_db()
    actor = Actor(person=admin, org=root)
    barrier = threading.Barrier(2)
    errors: list = []

    def creator():
        barrier.wait()
        for j in range(6):
            services.org_create(actor=actor, parent=root, type=f.org_type("general_branch"),
                                short_name=f"新总支{j}", full_name=f"新总支{j}")

    def deleter():
        barrier.wait()
        for org in empties:
            services.org_delete(actor=actor, org=org)

    threads = [_in_thread(creator, errors), _in_thread(deleter, errors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Org.objects.filter(parent=root).count() == 6
    assert tree_problems() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_and_creations_leave_a_valid_tree(org_types):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    root = f.make_org("committee", short_name="并发团委", code="M0001")
    left = f.make_org("work_committee", parent=root, short_name="左工委", code="M0002")
    right = f.make_org("work_committee", parent=root, short_name="右工委", code="M0003")
    movers = [f.make_org("general_branch", parent=left, short_name=f"总支{i}", code=f"M1{i:03d}") for i in range(4)]
    for gb in movers:
        f.make_org("branch", parent=gb, short_name=f"{gb.short_name}支部", code=f"{gb.code}B")
    admin = f.make_admin(root)
    root.refresh_from_db()
    actor = Actor(person=admin, org=root)
    barrier = threading.Barrier(2)
    errors: list = []

    def mover():
        barrier.wait()
        for gb in movers:
            services.org_move(actor=actor, org=Org.objects.get(pk=gb.pk), new_parent=right)

    def creator():
        barrier.wait()
        for j in range(6):
            services.org_create(actor=actor, parent=root, type=f.org_type("branch"),
                                short_name=f"新支部{j}", full_name=f"新支部{j}")

    threads = [_in_thread(mover, errors), _in_thread(creator, errors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Org.objects.filter(parent=right).count() == 4
    assert tree_problems() == []
