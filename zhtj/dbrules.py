"""Invariants that span rows or tables, enforced by the database itself (triggers on PostgreSQL and SQLite).

Check constraints cannot look at another row, so these rules are triggers:
- containment: a branch is a leaf; a general branch holds only branches;
- a member belongs to an org whose type is a branch;
- the audit trail is append-only: UPDATE and DELETE are refused on both backends;
- every org's subtree member count (orgs_subtreecount) follows its members: each insert, status or branch
  change and delete of a member adjusts the counts of the member's branch and all its ancestors, in the same
  transaction. Ancestors are found through the parent links (a few primary-key lookups; a lft/rght range
  would scan every org to the left of the branch). On PostgreSQL the triggers run once per statement over the
  transition tables (an import's COPY of 100,000 members costs one update per ancestor, not per row) and
  lock the count rows top-down in tree order, so two writers never wait on each other in opposite orders.

Only wiping the whole database empties the audit table: `manage.py flush` (also every transactional test's
teardown). PostgreSQL flushes with TRUNCATE, which row triggers do not see; SQLite flushes with DELETE, so the
flush command (orgs/management/commands/flush.py) lifts the SQLite delete rule around its own statements.

SQLite rebuilds a table on most ALTERs and drops its triggers, so install() is idempotent and runs after
every migrate (see orgs.apps) as well as from the migrations.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

CONTAINMENT_MESSAGE = "zhtj: containment rule violated (a branch is a leaf; a general branch holds only branches)"
MEMBER_MESSAGE = "zhtj: a member must belong to a branch"
AUDIT_MESSAGE = "zhtj: audit entries are append-only"

_PARENT_CATEGORY = (
    "(SELECT t.category FROM orgs_org o JOIN orgs_orgtype t ON t.id = o.type_id WHERE o.id = NEW.parent_id)"
)
_NEW_CATEGORY = "(SELECT category FROM orgs_orgtype WHERE id = NEW.type_id)"



def _sqlite_shift(row: str, change: str, condition: str = "") -> str:
    return (f"UPDATE orgs_subtreecount SET active_members = active_members {change} WHERE {condition} org_id IN"
            f" (SELECT o.id FROM orgs_org o, orgs_org b WHERE b.id = {row}.branch_id AND o.tree_id = b.tree_id"
            f" AND o.lft <= b.lft AND o.rght >= b.rght)")


SQLITE = [
    "DROP TRIGGER IF EXISTS zhtj_org_containment_ins",
    "DROP TRIGGER IF EXISTS zhtj_org_containment_upd",
    "DROP TRIGGER IF EXISTS zhtj_org_type_children",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch_ins",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch_upd",
    "DROP TRIGGER IF EXISTS zhtj_audit_no_update",
    "DROP TRIGGER IF EXISTS zhtj_org_count_row",
    "DROP TRIGGER IF EXISTS zhtj_member_count_ins",
    "DROP TRIGGER IF EXISTS zhtj_member_count_del",
    "DROP TRIGGER IF EXISTS zhtj_member_count_upd",
    "DROP TRIGGER IF EXISTS zhtj_audit_no_delete",
    *[
        f"""CREATE TRIGGER zhtj_org_containment_{suffix} BEFORE {event} ON orgs_org
        WHEN NEW.parent_id IS NOT NULL AND ({_PARENT_CATEGORY} = 'branch'
             OR ({_PARENT_CATEGORY} = 'general_branch' AND {_NEW_CATEGORY} <> 'branch'))
        BEGIN SELECT RAISE(ABORT, '{CONTAINMENT_MESSAGE}'); END"""
        for suffix, event in (("ins", "INSERT"), ("upd", "UPDATE OF parent_id, type_id"))
    ],
    f"""CREATE TRIGGER zhtj_org_type_children BEFORE UPDATE OF type_id ON orgs_org
    WHEN ({_NEW_CATEGORY} = 'branch' AND EXISTS (SELECT 1 FROM orgs_org c WHERE c.parent_id = NEW.id))
      OR ({_NEW_CATEGORY} = 'general_branch' AND EXISTS (SELECT 1 FROM orgs_org c JOIN orgs_orgtype t
          ON t.id = c.type_id WHERE c.parent_id = NEW.id AND t.category <> 'branch'))
      OR ({_NEW_CATEGORY} <> 'branch' AND EXISTS (SELECT 1 FROM members_member m WHERE m.branch_id = NEW.id))
    BEGIN SELECT RAISE(ABORT, '{CONTAINMENT_MESSAGE}'); END""",
    *[
        f"""CREATE TRIGGER zhtj_member_in_branch_{suffix} BEFORE {event} ON members_member
        WHEN (SELECT t.category FROM orgs_org o JOIN orgs_orgtype t ON t.id = o.type_id
              WHERE o.id = NEW.branch_id) IS NOT 'branch'
        BEGIN SELECT RAISE(ABORT, '{MEMBER_MESSAGE}'); END"""
        for suffix, event in (("ins", "INSERT"), ("upd", "UPDATE OF branch_id"))
    ],
    f"""CREATE TRIGGER zhtj_audit_no_update BEFORE UPDATE ON approvals_auditentry
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""",
    """CREATE TRIGGER zhtj_org_count_row AFTER INSERT ON orgs_org
    BEGIN INSERT OR IGNORE INTO orgs_subtreecount (org_id, active_members) VALUES (NEW.id, 0); END""",
    # SQLite allows no WITH inside a trigger: the ancestors by lft/rght range (SQLite holds small trees).
    f"""CREATE TRIGGER zhtj_member_count_ins AFTER INSERT ON members_member WHEN NEW.status = 'active'
    BEGIN {_sqlite_shift("NEW", "+ 1")}; END""",
    f"""CREATE TRIGGER zhtj_member_count_del AFTER DELETE ON members_member WHEN OLD.status = 'active'
    BEGIN {_sqlite_shift("OLD", "- 1")}; END""",
    f"""CREATE TRIGGER zhtj_member_count_upd AFTER UPDATE OF status, branch_id ON members_member
    BEGIN {_sqlite_shift("OLD", "- 1", "OLD.status = 'active' AND")};
          {_sqlite_shift("NEW", "+ 1", "NEW.status = 'active' AND")}; END""",
    f"""CREATE TRIGGER zhtj_audit_no_delete BEFORE DELETE ON approvals_auditentry
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""",
]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION zhtj_org_containment() RETURNS trigger AS $$
    DECLARE pcat text; ncat text;
    BEGIN
      SELECT category INTO ncat FROM orgs_orgtype WHERE id = NEW.type_id;
      IF NEW.parent_id IS NOT NULL THEN
        SELECT t.category INTO pcat FROM orgs_org o JOIN orgs_orgtype t ON t.id = o.type_id WHERE o.id = NEW.parent_id;
        IF pcat = 'branch' OR (pcat = 'general_branch' AND ncat <> 'branch') THEN
          RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{CONTAINMENT_MESSAGE}';
        END IF;
      END IF;
      IF TG_OP = 'UPDATE' AND NEW.type_id IS DISTINCT FROM OLD.type_id THEN
        IF (ncat = 'branch' AND EXISTS (SELECT 1 FROM orgs_org c WHERE c.parent_id = NEW.id))
           OR (ncat = 'general_branch' AND EXISTS (SELECT 1 FROM orgs_org c JOIN orgs_orgtype t ON t.id = c.type_id
               WHERE c.parent_id = NEW.id AND t.category <> 'branch'))
           OR (ncat <> 'branch' AND EXISTS (SELECT 1 FROM members_member m WHERE m.branch_id = NEW.id)) THEN
          RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{CONTAINMENT_MESSAGE}';
        END IF;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS zhtj_org_containment ON orgs_org",
    """CREATE TRIGGER zhtj_org_containment BEFORE INSERT OR UPDATE OF parent_id, type_id ON orgs_org
    FOR EACH ROW EXECUTE FUNCTION zhtj_org_containment()""",
    f"""CREATE OR REPLACE FUNCTION zhtj_member_in_branch() RETURNS trigger AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM orgs_org o JOIN orgs_orgtype t ON t.id = o.type_id
                     WHERE o.id = NEW.branch_id AND t.category = 'branch') THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{MEMBER_MESSAGE}';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    # Inserts are checked once per statement over the transition table (an import COPYs 100,000 members in
    # one statement: a row-level trigger cost about 3 s there); PostgreSQL allows no transition table on an
    # UPDATE OF column trigger, so moves stay row-level (they come one at a time).
    # The branches are gathered into an array and looked up by primary key: written as NOT EXISTS over the
    # transition table, the planner (which has no statistics for it, nor for orgs loaded in the same
    # transaction) chose a nested loop over every branch org for each distinct branch — 21 s for 100,000
    # members into a 100,000-org tree, quadratic in the size of a load (docs/performance.md).
    f"""CREATE OR REPLACE FUNCTION zhtj_members_in_branch() RETURNS trigger AS $$
    DECLARE ids bigint[];
    BEGIN
      SELECT array_agg(DISTINCT branch_id) INTO ids FROM new_rows;
      IF ids IS NOT NULL AND cardinality(ids) <> (SELECT count(*) FROM orgs_org o JOIN orgs_orgtype t
                                                ON t.id = o.type_id WHERE o.id = ANY(ids) AND t.category = 'branch')
      THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{MEMBER_MESSAGE}';
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch ON members_member",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch_ins ON members_member",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch_upd ON members_member",
    """CREATE TRIGGER zhtj_member_in_branch_ins AFTER INSERT ON members_member
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zhtj_members_in_branch()""",
    """CREATE TRIGGER zhtj_member_in_branch_upd BEFORE UPDATE OF branch_id ON members_member
    FOR EACH ROW EXECUTE FUNCTION zhtj_member_in_branch()""",
    f"""CREATE OR REPLACE FUNCTION zhtj_audit_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{AUDIT_MESSAGE}';
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS zhtj_audit_append_only ON approvals_auditentry",
    """CREATE TRIGGER zhtj_audit_append_only BEFORE UPDATE OR DELETE ON approvals_auditentry
    FOR EACH ROW EXECUTE FUNCTION zhtj_audit_append_only()""",
    # Subtree member counts.
    """CREATE OR REPLACE FUNCTION zhtj_org_count_row() RETURNS trigger AS $$
    BEGIN
      INSERT INTO orgs_subtreecount (org_id, active_members) VALUES (NEW.id, 0) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS zhtj_org_count_row ON orgs_org",
    """CREATE TRIGGER zhtj_org_count_row AFTER INSERT ON orgs_org
    FOR EACH ROW EXECUTE FUNCTION zhtj_org_count_row()""",
    """CREATE OR REPLACE FUNCTION zhtj_shift_member_counts(branches bigint[], deltas bigint[]) RETURNS void AS $$
    DECLARE r record;
    BEGIN
      FOR r IN
        WITH RECURSIVE d(id, delta) AS (SELECT * FROM unnest(branches, deltas)),
        up(id, parent_id, delta) AS (
          SELECT o.id, o.parent_id, d.delta FROM d JOIN orgs_org o ON o.id = d.id
          UNION ALL
          SELECT p.id, p.parent_id, up.delta FROM up JOIN orgs_org p ON p.id = up.parent_id
        )
        SELECT up.id, SUM(up.delta) AS delta FROM up JOIN orgs_org o ON o.id = up.id
        GROUP BY up.id, o.tree_id, o.lft HAVING SUM(up.delta) <> 0 ORDER BY o.tree_id, o.lft
      LOOP
        UPDATE orgs_subtreecount SET active_members = active_members + r.delta WHERE org_id = r.id;
      END LOOP;
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION zhtj_member_counts() RETURNS trigger AS $$
    DECLARE b bigint[]; d bigint[];
    BEGIN
      IF TG_OP = 'INSERT' THEN
        SELECT array_agg(branch_id), array_agg(n) INTO b, d FROM
          (SELECT branch_id, COUNT(*) AS n FROM new_rows WHERE status = 'active' GROUP BY branch_id) s;
      ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(branch_id), array_agg(-n) INTO b, d FROM
          (SELECT branch_id, COUNT(*) AS n FROM old_rows WHERE status = 'active' GROUP BY branch_id) s;
      ELSE
        SELECT array_agg(branch_id), array_agg(n) INTO b, d FROM
          (SELECT branch_id, SUM(n) AS n FROM (
             SELECT branch_id, 1 AS n FROM new_rows WHERE status = 'active'
             UNION ALL SELECT branch_id, -1 FROM old_rows WHERE status = 'active') c
           GROUP BY branch_id HAVING SUM(n) <> 0) s;
      END IF;
      IF b IS NOT NULL THEN
        PERFORM zhtj_shift_member_counts(b, d);
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS zhtj_member_counts_ins ON members_member",
    "DROP TRIGGER IF EXISTS zhtj_member_counts_del ON members_member",
    "DROP TRIGGER IF EXISTS zhtj_member_counts_upd ON members_member",
    """CREATE TRIGGER zhtj_member_counts_ins AFTER INSERT ON members_member
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zhtj_member_counts()""",
    """CREATE TRIGGER zhtj_member_counts_del AFTER DELETE ON members_member
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zhtj_member_counts()""",
    """CREATE TRIGGER zhtj_member_counts_upd AFTER UPDATE ON members_member
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zhtj_member_counts()""",
]

SQLITE_AUDIT_DELETE_TRIGGER = "zhtj_audit_no_delete"

REQUIRED_TABLES = {"orgs_org", "orgs_orgtype", "members_member", "approvals_auditentry", "orgs_subtreecount"}


def install(connection: BaseDatabaseWrapper) -> bool:
    """Create or replace every trigger; returns False when the tables do not all exist yet."""
    if not set(connection.introspection.table_names()) >= REQUIRED_TABLES:
        return False
    statements = POSTGRES if connection.vendor == "postgresql" else SQLITE
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    return True


def lift_audit_delete_rule(connection: BaseDatabaseWrapper) -> None:
    """Drop SQLite's audit delete trigger for a whole-database flush; install() puts it back."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_AUDIT_DELETE_TRIGGER}")
