"""Invariants that span rows or tables, enforced by the database itself (triggers on PostgreSQL and SQLite).

Check constraints cannot look at another row, so these rules are triggers:
- containment: a branch is a leaf; a general branch holds only branches;
- a member belongs to an org whose type is a branch;
- the audit trail is append-only: UPDATE and DELETE are refused on both backends.

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

SQLITE = [
    "DROP TRIGGER IF EXISTS zhtj_org_containment_ins",
    "DROP TRIGGER IF EXISTS zhtj_org_containment_upd",
    "DROP TRIGGER IF EXISTS zhtj_org_type_children",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch_ins",
    "DROP TRIGGER IF EXISTS zhtj_member_in_branch_upd",
    "DROP TRIGGER IF EXISTS zhtj_audit_no_update",
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
    f"""CREATE OR REPLACE FUNCTION zhtj_members_in_branch() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM (SELECT DISTINCT branch_id FROM new_rows) n
                 WHERE NOT EXISTS (SELECT 1 FROM orgs_org o JOIN orgs_orgtype t ON t.id = o.type_id
                                   WHERE o.id = n.branch_id AND t.category = 'branch')) THEN
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
]

SQLITE_AUDIT_DELETE_TRIGGER = "zhtj_audit_no_delete"

REQUIRED_TABLES = {"orgs_org", "orgs_orgtype", "members_member", "approvals_auditentry"}


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
