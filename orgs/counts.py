"""Subtree member counts (orgs.models.SubtreeCount): recount from the members, verify, and shift on a move.

The triggers in zhtj/dbrules.py keep the counts current on every member write; this module is for the rest:
a bulk load (generate_dataset) recounts once, check_org_tree verifies, an org move shifts its subtree's count
from the old ancestors to the new. Counts flow up the parent links (a recursive query), so a recount costs
branches × depth, whatever the tree's width.
"""

from django.db import connection

from .models import Org, SubtreeCount

# Raw table names: the members table sits in a higher layer, which this module must not import.
_EXPECTED = """
WITH RECURSIVE branch_counts(id, n) AS (
    SELECT branch_id, COUNT(*) FROM members_member WHERE status = 'active' GROUP BY branch_id
), up(id, n) AS (
    SELECT id, n FROM branch_counts
    UNION ALL
    SELECT o.parent_id, up.n FROM up JOIN orgs_org o ON o.id = up.id WHERE o.parent_id IS NOT NULL
), totals(id, n) AS (SELECT id, SUM(n) FROM up GROUP BY id)
"""


def recount() -> None:
    """Replace every org's count with one computed from the members (call inside a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM orgs_subtreecount")
        cursor.execute(_EXPECTED + " INSERT INTO orgs_subtreecount (org_id, active_members) "
                       "SELECT o.id, COALESCE(t.n, 0) FROM orgs_org o LEFT JOIN totals t ON t.id = o.id")


def count_problems() -> list[tuple[int, int | None, int]]:
    """(org id, stored count or None when the row is missing, expected count) for every org that is wrong."""
    with connection.cursor() as cursor:
        cursor.execute(_EXPECTED + " SELECT o.id, c.active_members, COALESCE(t.n, 0) FROM orgs_org o"
                       " LEFT JOIN totals t ON t.id = o.id LEFT JOIN orgs_subtreecount c ON c.org_id = o.id"
                       " WHERE c.active_members IS NULL OR c.active_members <> COALESCE(t.n, 0) ORDER BY o.id")
        return [(row[0], row[1], int(row[2])) for row in cursor.fetchall()]


def shift_subtree(*, org: Org, old_ancestor_ids: list[int], new_ancestor_ids: list[int]) -> None:
    """An org moved: its subtree's count leaves the ancestors it left and joins those it gained (the shared
    ones do not change). Call in the move's transaction, under the tree lock."""
    amount = SubtreeCount.objects.filter(org=org).values_list("active_members", flat=True).first() or 0
    left = [pk for pk in old_ancestor_ids if pk not in set(new_ancestor_ids)]
    gained = [pk for pk in new_ancestor_ids if pk not in set(old_ancestor_ids)]
    if not amount or not (left or gained):
        return
    with connection.cursor() as cursor:
        # One statement, rows in tree order: member triggers lock count rows top-down too.
        cursor.execute(
            "UPDATE orgs_subtreecount SET active_members = active_members + CASE WHEN org_id IN ({}) THEN %s"
            " ELSE %s END WHERE org_id IN ({})".format(
                ", ".join(["%s"] * len(gained)) or "NULL", ", ".join(["%s"] * len(left + gained))),
            [*gained, amount, -amount, *left, *gained],
        )
