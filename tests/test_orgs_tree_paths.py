"""orgs.tree.ancestor_paths: the one place that builds "root / … / org" paths (search, transfers, choose org)."""

from orgs.tree import ancestor_paths


def test_paths_list_the_strict_ancestors_root_first_in_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        paths = ancestor_paths([tree.branch, tree.sibling, tree.root, tree.other_root])
    assert paths[tree.branch.pk] == [tree.root, tree.wc, tree.gb]
    assert paths[tree.sibling.pk] == [tree.root, tree.wc]
    assert paths[tree.root.pk] == [] and paths[tree.other_root.pk] == []


def test_paths_within_an_org_start_at_that_org(tree):
    paths = ancestor_paths([tree.branch, tree.branch2], within=tree.wc)
    assert paths[tree.branch.pk] == [tree.wc, tree.gb]
    assert paths[tree.branch2.pk] == [tree.wc, tree.gb]


def test_no_orgs_cost_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert ancestor_paths([]) == {}


def test_fields_limit_the_columns_loaded(tree):
    (gb,) = ancestor_paths([tree.branch], fields=("short_name",))[tree.branch.pk][2:]
    assert gb.short_name == tree.gb.short_name
    assert "full_name" in gb.get_deferred_fields()
