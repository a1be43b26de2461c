"""The member list at scale: keyset pages (no OFFSET past the first pages), totals from the kept count or capped,
and search and sort queries in the shapes the indexes are built for (PostgreSQL plans checked)."""

import re

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Reverse
from django.urls import reverse

from members import selectors
from members.models import Member, Person
from members.selectors import MemberQuery, member_page

from . import factories as f
from .conftest import login_as


def root_client(tree):
    from django.test import Client

    return login_as(Client(), tree.root_admin, tree.root)


@pytest.fixture
def crowd(tree):
    """12 more members spread over three branches, with clashing names (so the id breaks ties)."""
    for i in range(12):
        branch = (tree.branch, tree.branch2, tree.sibling)[i % 3]
        f.make_member(branch, person=f.make_person(name=("王芳", "李明", "张伟")[i % 3], password=None))
    return tree


def walk(org, sort: str, per_page: int = 5) -> tuple[list[int], list[list[int]]]:
    """Follow the next links from page 1 to the end; return every member seen and each page's members."""
    pages = []
    page = member_page(org, MemberQuery(sort=sort), per_page=per_page)
    pages.append([m.pk for m in page.object_list])
    while page.has_next():
        params = page.next_params()
        page = member_page(org, MemberQuery(sort=sort, page=params["page"], after=params["after"]), per_page=per_page)
        pages.append([m.pk for m in page.object_list])
    return [pk for p in pages for pk in p], pages


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_next_links_cover_the_subtree_once_in_the_sort_order(crowd, sort):
    seen, _pages = walk(crowd.root, sort)
    expected = list(selectors.member_queryset(crowd.root, MemberQuery(sort=sort)).values_list("pk", flat=True))
    assert seen == expected and len(expected) == 13


@pytest.mark.parametrize("sort", ["name", "-age", "-joined"])
def test_previous_links_lead_back_to_the_same_pages(crowd, sort):
    _seen, pages = walk(crowd.root, sort)
    page = member_page(crowd.root, MemberQuery(sort=sort, page=3, after=pages[1][-1]), per_page=5)
    back = []
    while page.has_previous():
        params = page.previous_params() or {"page": 1}
        page = member_page(crowd.root, MemberQuery(sort=sort, page=params["page"], before=params.get("before")),
                           per_page=5)
        back.append(([m.pk for m in page.object_list], page.number))
    assert back == [(pages[1], 2), (pages[0], 1)]


def test_page_links_carry_only_a_member_id_and_the_page_number(crowd, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    client = root_client(crowd)
    text = client.get(reverse("member_list", args=[crowd.root.pk])).content.decode()
    links = re.findall(r'href="\?([^"]*)" data-testid="next-page"', text)
    assert links, "the root's list of 13 members has a second page"
    assert re.fullmatch(r"(?:[a-z_]+=[\w%-]*&amp;)*page=2&amp;after=\d+&amp;", links[0]), links[0]
    assert "王芳" not in links[0] and "%E7%8E%8B" not in links[0]


def test_unfiltered_total_is_the_kept_count_and_exact(crowd, django_assert_num_queries):
    crowd.root.type  # noqa: B018 - loaded, as the views load it
    with django_assert_num_queries(3):  # kept total, rows, open transfers
        page = member_page(crowd.root, MemberQuery(), per_page=5)
    assert (page.paginator.count, page.paginator.exact, page.paginator.num_pages) == (13, True, 3)


def test_a_filtered_total_stops_at_the_cap_and_says_so(crowd, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    page = member_page(crowd.root, MemberQuery(q="王芳"), per_page=2)
    assert (page.paginator.count, page.paginator.exact, str(page.paginator)) == (3, False, "3+")
    assert page.has_next()
    client = root_client(crowd)
    text = client.get(reverse("member_list", args=[crowd.root.pk]), {"q": "王芳"}).content.decode()
    assert 'data-testid="member-total">3+</span>' in text
    assert "超过 3 名团员" in text


def test_a_filtered_total_under_the_cap_is_exact(crowd):
    page = member_page(crowd.root, MemberQuery(q="王芳"), per_page=2)
    assert (page.paginator.count, page.paginator.exact) == (4, True)


def test_a_bare_page_number_reaches_only_as_far_as_the_offset_limit(crowd, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_OFFSET_ROWS", 4)
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)  # an inexact total: the last page is unknown
    page = member_page(crowd.root, MemberQuery(status="", page=50), per_page=2)
    assert page.number == 3  # offset 4 at most
    assert len(page.object_list) == 2


def test_a_cursor_whose_member_is_gone_falls_back_to_the_page_number(crowd):
    gone = f.make_member(crowd.branch)
    Member.objects.filter(pk=gone.pk).delete()
    page = member_page(crowd.root, MemberQuery(page=2, after=gone.pk), per_page=5)
    by_number = member_page(crowd.root, MemberQuery(page=2), per_page=5)
    assert page.number == 2 and page.object_list == by_number.object_list


@pytest.mark.parametrize("value", ["abc", "-3", "0", ""])
def test_bad_cursor_values_are_ignored(crowd, value, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    client = root_client(crowd)
    response = client.get(reverse("member_list", args=[crowd.root.pk]), {"after": value, "page": "2"})
    assert response.status_code == 200
    assert response.context["page"].number == 2  # an ordinary page number, through OFFSET


def test_a_deep_page_by_cursor_costs_the_same_queries_as_the_first(crowd, django_assert_max_num_queries):
    client = root_client(crowd)
    url = reverse("member_list", args=[crowd.root.pk])
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get(url)
    last = Member.objects.order_by("-pk").first()
    with django_assert_max_num_queries(len(first.captured_queries) + 1):  # + the cursor's row
        response = client.get(url, {"page": "9", "after": str(last.pk)})
    assert response.status_code == 200


# --- PostgreSQL: the queries use the indexes built for them ----------------------------------------------


def _plan(qs, *off: str) -> str:
    """The plan with sequential scans (and whatever else is named) priced out: on tiny test tables this asks
    whether an index CAN serve the query, which is what its shape decides."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", *off):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _on_person(q: Q) -> Q:
    """The search condition as a condition on people alone (person__name → name)."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    out.children = [_on_person(c) if isinstance(c, Q) else (c[0].removeprefix("person__"), c[1]) for c in q.children]
    return out


@pytest.fixture
def many_people(crowd):
    """20,000 people and fresh statistics: enough rows for the planner to prefer a fitting index."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram and expression indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO members_person (password, is_superuser, id_number, name, gender, birth_date,
                          phone, email, is_active, is_staff, created_at, updated_at)
                          SELECT '!', false, '8' || lpad(i::text, 17, '0'), md5(i::text), 'M', DATE '2000-01-01',
                                 '137' || lpad(i::text, 8, '0'), '', true, false, now(), now()
                          FROM generate_series(1, 20000) AS i""")
        # What VACUUM does in production: the GIN indexes take in their pending lists, which the planner prices.
        cursor.execute("SELECT gin_clean_pending_list('person_name_trgm'), gin_clean_pending_list('person_phone_trgm')")
        cursor.execute("ANALYZE members_person")
    return crowd


@pytest.mark.parametrize("q, index", [("王芳丽", "person_name_trgm"), ("abcd", "person_name_trgm"),
                                      ("1234", "person_id_tail"), ("13912", "person_phone_trgm"),
                                      ("13912345678", "person_phone")])
def test_search_uses_its_index_on_postgresql(many_people, q, index):
    if connection.vendor != "postgresql":
        pytest.skip("trigram and expression indexes are PostgreSQL's")
    qs = Person.objects.alias(id_tail=Reverse("id_number")).filter(_on_person(selectors.search_filter(q)))
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan and "Seq Scan" not in plan, plan


@pytest.mark.parametrize("sort, index", [("name", "person_name_sort"), ("-name", "person_name_sort"),
                                         ("-age", "person_birth_sort"), ("joined", "member_joined_sort")])
def test_subtree_sorts_walk_their_index_on_postgresql(crowd, sort, index):
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    plan = _plan(selectors.member_queryset(crowd.root, MemberQuery(sort=sort))[:51], "enable_sort")
    assert index in plan and "Sort" not in plan, plan


def test_a_search_whose_matches_fit_one_page_needs_no_count_query(crowd, django_assert_num_queries):
    crowd.root.type  # noqa: B018 - loaded, as the views load it
    with django_assert_num_queries(2):  # the rows, open transfers
        page = member_page(crowd.root, MemberQuery(q="王芳"), per_page=5)
    assert (page.paginator.count, page.paginator.exact, page.has_next()) == (4, True, False)


def test_a_small_subtree_is_sorted_after_finding_its_rows(crowd):
    """Below INDEX_WALK_MIN_ROWS the page comes out in the same order as walking the sort's index would give."""
    for sort in selectors.SORTS:
        page = member_page(crowd.gb, MemberQuery(sort=sort), per_page=50)
        walked = list(selectors.member_queryset(crowd.gb, MemberQuery(sort=sort)).values_list("pk", flat=True))
        assert [m.pk for m in page.object_list] == walked, sort
