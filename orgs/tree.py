"""Keeping the MPTT fields of the org tree correct: the tree lock, a verifier and a locked rebuild.

django-mptt renumbers lft/rght of many rows on every insert, move and delete, computing the new numbers
from values it has just read. Two such writes at once read the same numbers and corrupt the tree, so every
structural write takes one tree-wide lock inside its transaction:

- PostgreSQL: a transaction-scoped advisory lock (`pg_advisory_xact_lock`), released at commit/rollback;
- SQLite: the settings open every transaction with BEGIN IMMEDIATE, so the database's single writer lock
  already serialises writers and nothing more is needed.
See docs/orgs.md.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from .models import Org

# An arbitrary constant that names "the org tree" among the advisory locks of this database.
ORG_TREE_LOCK_KEY = 7_211_001


def lock_tree() -> None:
    """Take the tree lock for the rest of the current transaction (call inside transaction.atomic)."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_tree() must be called inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ORG_TREE_LOCK_KEY])


def ancestor_paths(
    orgs: Iterable[Org], *, within: Org | None = None, fields: Sequence[str] | None = None,
) -> dict[int, list[Org]]:
    """{org pk: its strict ancestors, root first} for every org, in one query (none for no orgs).

    within keeps only the ancestors inside that org's subtree (itself included), for paths shown from the
    viewer's org down; fields limits the columns loaded (the MPTT fields are always loaded).
    """
    orgs = list(orgs)
    if not orgs:
        return {}
    condition = Q()
    for org in orgs:
        condition |= Q(tree_id=org.tree_id, lft__lt=org.lft, rght__gt=org.rght)
    qs = Org.objects.filter(condition)
    if within is not None:
        qs = qs.filter(tree_id=within.tree_id, lft__gte=within.lft, rght__lte=within.rght)
    if fields is not None:
        qs = qs.only(*{"id", "tree_id", "lft", "rght", *fields})
    ancestors = list(qs.order_by("tree_id", "lft"))
    return {
        org.pk: [a for a in ancestors if a.tree_id == org.tree_id and a.lft < org.lft and a.rght > org.rght]
        for org in orgs
    }


@dataclass(frozen=True)
class TreeProblem:
    """One org whose stored MPTT fields differ from those its parent links imply."""

    org_id: int
    code: str
    stored: dict
    expected: dict

    def describe(self) -> str:
        diffs = ", ".join(
            f"{name} {self.stored[name]} (expected {self.expected[name]})"
            for name in ("tree_id", "lft", "rght", "level")
            if self.stored[name] != self.expected[name]
        )
        return f"{self.code} (id {self.org_id}): {diffs}"


def tree_problems() -> list[TreeProblem]:
    """Compare every org's lft/rght/level/tree_id with a fresh numbering computed from the parent links.

    Siblings keep their stored order (by lft, then code), so any valid nested-set numbering matches
    exactly; each tree must carry its root's tree_id and roots must have distinct tree_ids. Orgs that
    cannot be reached from a root (a parent cycle) are reported with expected values of None.
    """
    rows = list(
        Org.objects.order_by("lft", "code").values_list("id", "code", "parent_id", "tree_id", "lft", "rght", "level")
    )
    by_id = {row[0]: row for row in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for row in rows:
        children[row[2]].append(row[0])

    expected: dict[int, dict] = {}
    root_tree_ids: dict[int, int] = {}
    for root_id in children[None]:
        tree_id = by_id[root_id][3]
        if tree_id in root_tree_ids:
            # Two roots share a tree_id: the later one is wrong; give it a fresh, impossible id.
            tree_id = -root_id
        root_tree_ids[tree_id] = root_id
        counter = 1
        # Iterative depth-first walk: deep trees must not hit Python's recursion limit.
        stack: list[tuple[int, int, bool]] = [(root_id, 0, False)]
        while stack:
            node_id, level, done = stack.pop()
            if done:
                expected[node_id]["rght"] = counter
                counter += 1
                continue
            expected[node_id] = {"tree_id": tree_id, "lft": counter, "rght": None, "level": level}
            counter += 1
            stack.append((node_id, level, True))
            for child_id in reversed(children.get(node_id, [])):
                stack.append((child_id, level + 1, False))

    problems = []
    for org_id, code, _parent_id, tree_id, lft, rght, level in rows:
        stored = {"tree_id": tree_id, "lft": lft, "rght": rght, "level": level}
        want = expected.get(org_id, {"tree_id": None, "lft": None, "rght": None, "level": None})
        if stored != want:
            problems.append(TreeProblem(org_id=org_id, code=code, stored=stored, expected=want))
    return problems


@transaction.atomic
def rebuild_tree() -> None:
    """Renumber every org from its parent link, under the tree lock."""
    lock_tree()
    Org.objects.rebuild()
