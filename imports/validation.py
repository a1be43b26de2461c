"""Checking import rows: cleaning what Excel did to the cells, the member rules (members.rules, the same as the
single-member form), duplicates inside the file, and the database checks done once per batch of rows.

clean_row() is pure and cheap; RowChecker.check_batch() runs a fixed number of queries per batch, never per row.
See docs/import.md.
"""

import datetime as dt
import functools
import json
import operator
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from audit.services import record
from members import idnumber
from members import services as member_services
from members.choices import CadreNature, Education, PoliticalStatus, Position
from members.in_transfer import members_in_transfer_ids
from members.models import Cadre, Member, Person
from members.rules import (
    MemberInput,
    check_member,
    normalize_development_number,
    normalize_ethnicity,
    normalize_phone,
    parse_year_month,
)
from members.services import held_outside_message
from orgs.models import Org
from orgs.permissions import Actor, people_not_controlled

from .columns import BY_KEY
from .models import ImportKind

# Excel keeps 15 significant digits of a number: an 18-digit ID number stored as a number is already broken.
EXCEL_DIGITS = 15
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")

POLITICAL_ALIASES = {"团员": PoliticalStatus.LEAGUE_MEMBER, "共青团员": PoliticalStatus.LEAGUE_MEMBER,
                     "预备党员": PoliticalStatus.PROBATIONARY_PARTY, "党员": PoliticalStatus.PARTY_MEMBER,
                     "中国共产党党员": PoliticalStatus.PARTY_MEMBER,
                     "中国共产党预备党员": PoliticalStatus.PROBATIONARY_PARTY}
EDUCATION_ALIASES = {"硕士": Education.MASTER, "研究生": Education.MASTER, "博士": Education.DOCTOR,
                     "大学本科": Education.BACHELOR, "大学专科": Education.JUNIOR_COLLEGE,
                     "专科": Education.JUNIOR_COLLEGE,
                     "中等专科": Education.VOCATIONAL, "职高": Education.VOCATIONAL, "技校": Education.VOCATIONAL}
GENDERS = {"男": "M", "女": "F", "M": "M", "F": "F", "MALE": "M", "FEMALE": "F"}


@dataclass
class Row:
    """One data row: where it is, what was uploaded, what it means once cleaned, and what is wrong with it."""

    number: int  # the Excel row number
    cells: list[object]
    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # column key ("" for the row) -> message
    person_id: int | None = None  # an existing person this row attaches to

    def __reduce__(self):
        # Rows cross from the reading process to the writing one pickled (imports.services): the constructor with
        # a tuple unpickles in 2/3 of the time of the default (an object, then its __dict__), 0.3 s per 100,000.
        return (Row, (self.number, self.cells, self.values, self.errors, self.person_id))

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def reason(self) -> str:
        """All problems of the row in one line, each named by its column header."""
        parts = []
        for key, message in self.errors.items():
            header = BY_KEY[key].header if key in BY_KEY else ""
            parts.append(f"{header}：{message}" if header else message)
        return "；".join(parts)


def text(value: object) -> str:
    """A cell as clean text: full-width forms folded (NFKC), non-breaking and stray spaces trimmed, and a
    number Excel stored for typed digits given back as those digits (13800138000.0 → '13800138000')."""
    if type(value) is str:
        if value.isascii():  # NFKC changes nothing in ASCII
            return " ".join(value.split())
        return " ".join(unicodedata.normalize("NFKC", value).split())
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def clean_name(value: object) -> str:
    name = text(value)
    # Chinese names never contain spaces; "张 三" is a typing slip. Other scripts keep one space.
    return name.replace(" ", "") if _CJK.search(name) else name


def clean_id_number(value: object) -> tuple[str, str | None]:
    """(normalised number, an error if Excel destroyed it)."""
    if isinstance(value, bool):
        return "", None
    if isinstance(value, int | float):
        digits = str(int(value)) if float(value).is_integer() or isinstance(value, int) else str(value)
        if len(digits) > EXCEL_DIGITS:
            return digits, _(
                "This ID number was stored as a number, so Excel kept only its first 15 digits and lost the last"
                " ones. Format the column as text, type the full number again, and upload the file."
            )
        return digits, None
    raw = text(value)
    if _SCIENTIFIC.match(raw.replace(" ", "")):
        return raw, _(
            "This ID number was stored as a number (shown as %(raw)s), so Excel kept only its first 15 digits and"
            " lost the last ones. Format the column as text, type the full number again, and upload the file."
        ) % {"raw": raw}
    return idnumber.normalize(raw), None


# Columns with few distinct values (a few dozen in 100,000 rows) are cleaned once per distinct cell value.
# typed=True: True, 1 and 1.0 are equal keys but different cells.
_memo = functools.lru_cache(maxsize=1024, typed=True)


def _choice(value: object, aliases: dict[str, str]) -> str:
    raw = text(value).replace(" ", "")
    return str(aliases.get(raw, raw))


@_memo
def _political_status(value: object) -> str:
    return _choice(value, POLITICAL_ALIASES)


@_memo
def _education(value: object) -> str:
    return _choice(value, EDUCATION_ALIASES)


@_memo
def _ethnicity(value: object) -> str:
    return normalize_ethnicity(text(value).replace(" ", ""))


@_memo
def _compact(value: object) -> str:
    """Text without any space: posts and cadre types."""
    return text(value).replace(" ", "")


def _year_month(row: Row, key: str, value: object) -> dt.date | None:
    try:
        return parse_year_month(value)
    except ValidationError as exc:
        row.fail(key, " ".join(exc.messages))
        return None


# Every column clean_row() reads, in one order: a row's cells are picked in one C-level call.
CELL_KEYS = ("name", "id_number", "phone", "email", "position", "nature", "since", "ethnicity",
             "political_status", "joined_on", "development_number", "education", "occupation", "gender")
_IS_MEMBER = str(ImportKind.MEMBER)


def cell_picker(positions: dict[str, int]):
    """A function cells → the CELL_KEYS values (None for a column the sheet lacks or a short row)."""
    present = [positions[k] for k in CELL_KEYS if k in positions]
    width = max(present, default=-1) + 1
    # A missing column reads index -1: the None appended to every row.
    getter = operator.itemgetter(*[positions.get(k, -1) for k in CELL_KEYS])

    def pick(cells: list[object]) -> tuple:
        short = width - len(cells)
        return getter([*cells, *([None] * short), None] if short > 0 else [*cells, None])

    return pick


def clean_row(number: int, cells: list[object], positions: dict[str, int], kind: str, *,
              today: dt.date, pick=None) -> Row:
    """Clean one row and check it against the rules that need no database.

    `pick` is cell_picker(positions), made once per sheet by the caller that cleans many rows.
    """
    row = Row(number=number, cells=cells)
    (name, id_cell, phone, email, position, nature, since, ethnicity, political_status, joined_on,
     devno, education, occupation, gender) = (pick or cell_picker(positions))(cells)

    values = row.values
    values["name"] = clean_name(name)
    id_number, id_error = clean_id_number(id_cell)
    values["id_number"] = id_number
    if id_error:
        row.fail("id_number", id_error)
    values["phone"] = normalize_phone(phone)
    values["email"] = text(email).replace(" ", "") if email is not None else ""
    position = values["position"] = _compact(position) if position is not None else ""
    nature = _compact(nature) if nature is not None else ""
    values["nature"] = nature or (CadreNature.PART_TIME.value if position else "")
    values["since"] = _year_month(row, "since", since) if since is not None else None

    if kind == _IS_MEMBER:
        values["ethnicity"] = _ethnicity(ethnicity)
        values["political_status"] = _political_status(political_status)
        values["joined_on"] = _year_month(row, "joined_on", joined_on)
        values["development_number"] = normalize_development_number(devno)
        values["education"] = _education(education)
        values["occupation"] = text(occupation)
        data = MemberInput(
            values["name"], id_number, values["ethnicity"], values["political_status"], values["joined_on"],
            values["development_number"], values["phone"], values["email"], values["education"],
            values["occupation"],
        )
        errors = check_member(data, today=today, has_cadre_post=bool(position))
        if "joined_on" in row.errors:
            errors.pop("joined_on", None)  # the parse error already says more
        if id_error:
            errors.pop("id_number", None)
    else:
        # A cadre of a committee need not be a member: only the person's own fields are checked, with the
        # same rules as the member form (the member-only fields get neutral values and their errors dropped).
        data = MemberInput(
            name=values["name"], id_number=id_number, ethnicity="汉族",
            political_status=PoliticalStatus.LEAGUE_MEMBER, joined_on=None, development_number=None,
            phone=values["phone"], email=values["email"], education="", occupation="",
        )
        errors = {k: v for k, v in check_member(data, today=today, has_cadre_post=True).items()
                  if k in ("name", "id_number", "phone", "email") and not (k == "id_number" and id_error)}
    for key, message in errors.items():
        row.fail(key, message)

    if position or kind != _IS_MEMBER or values["since"] is not None or nature:
        _check_post(row, kind, today)
    if gender is not None:
        _check_gender(row, gender)
    return row


def _check_post(row: Row, kind: str, today: dt.date) -> None:
    values = row.values
    position, since, nature = values["position"], values["since"], values["nature"]
    if not position:
        if kind == ImportKind.CADRE:
            row.fail("position", _("Choose the post (团内现任职务) from the list."))
        elif since is not None or nature:
            row.fail("position", _("A post date was given without a post."))
        return
    if position not in Position.values:
        row.fail("position", _("%(value)s is not a league post; choose one of: %(choices)s.")
                 % {"value": position, "choices": "、".join(Position.values)})
    if since is None and "since" not in row.errors:
        row.fail("since", _("Enter the year and month the post was taken up (e.g. 2022-09)."))
    elif since is not None and since > today:
        row.fail("since", _("The post date %(month)s is in the future.") % {"month": f"{since:%Y-%m}"})
    if nature not in CadreNature.values:
        row.fail("nature", _("%(value)s is not a cadre type; choose one of: %(choices)s.")
                 % {"value": nature, "choices": "、".join(CadreNature.values)})


def _check_gender(row: Row, value: object) -> None:
    given = text(value).replace(" ", "").upper()
    if not given or "id_number" in row.errors:
        return
    gender = GENDERS.get(given)
    if gender is None:
        row.fail("gender", _("Gender must be 男 or 女."))
        return
    try:
        info = idnumber.parse(row.values["id_number"])
    except ValidationError:
        return
    if info.gender != gender:
        row.fail("gender", _("The gender %(given)s does not agree with the ID number, which says %(id)s.")
                 % {"given": text(value), "id": "男" if info.gender == "M" else "女"})


def select_in(sql: str, values: list, params: tuple = ()) -> list[tuple]:
    """Run `sql` (ending in a column) with "IN values" appended, one parameter whatever the count.

    `params` fill the placeholders of `sql` itself, before the appended one.

    The ORM's __in builds a placeholder and resolves a parameter per value: at 2,000 values a batch that cost
    more than the query itself.
    """
    if connection.vendor == "postgresql":
        sql, args = f"{sql} = ANY(%s)", [*params, values]
    else:
        sql, args = f"{sql} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(values)]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


class FirstSeen:
    """The row where each ID number and development number first appears in the file ("already in row N").

    Kept in a private temporary SQLite database (stdlib sqlite3; the file is unlinked when opened) rather than in
    dicts, which held ~230 bytes a row (23 MB at 100,000 rows): SQLite keeps a small page cache and leaves the
    rest to the file, so memory does not grow with the number of rows. Two statements a batch, not a row.
    The database is opened on first use, in the process that uses it: an SQLite connection must not cross a fork.
    """

    ID_NUMBER, DEVELOPMENT_NUMBER = 0, 1

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def first_rows(self, kind: int, keys: list[tuple[str, int]]) -> dict[str, int]:
        """{key: the first row holding it} for (key, row) pairs in file order; remembers the keys new here."""
        if self._db is None:
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")  # a scratch index, never needed after a crash
            self._db.execute("CREATE TABLE seen (kind INTEGER, key TEXT, row INTEGER, PRIMARY KEY (kind, key))"
                             " WITHOUT ROWID")
            self._db.execute("BEGIN")  # one transaction: no commit per batch
        firsts: dict[str, int] = {}
        for key, row in keys:
            firsts.setdefault(key, row)
        earlier = dict(self._db.execute(
            "SELECT key, row FROM seen WHERE kind = ? AND key IN (SELECT value FROM json_each(?))",
            (kind, json.dumps(list(firsts)))))
        self._db.executemany("INSERT INTO seen VALUES (?, ?, ?)",
                             [(kind, key, row) for key, row in firsts.items() if key not in earlier])
        firsts.update(earlier)
        return firsts


class RowChecker:
    """The checks that depend on other rows and on the database, for one import into one org.

    Rows are fed in file order, one batch at a time; within the file the first occurrence of an ID number or
    development number wins and later ones fail, naming the first row.
    """

    def __init__(self, org, kind: str, *, today: dt.date, actor: Actor | None = None) -> None:
        self.org = org
        # An import runs for its org's own admin (actor None: an operator at the command line); the rule for
        # attaching existing people is the single form's, orgs.permissions.controls_person, as that admin.
        self.actor = Actor(person=getattr(actor, "person", None), org=org, ip=getattr(actor, "ip", None))
        self.kind = kind
        self.today = today
        self.first_seen = FirstSeen()
        self.secretary_row: int | None = None
        self.org_has_secretary = Cadre.objects.filter(org=org, position=Position.SECRETARY).exists()

    def check_in_file(self, rows: list[Row]) -> None:
        """Duplicates inside the file and the one secretary (pure; batches in file order)."""
        for kind, key, message in (
            (FirstSeen.ID_NUMBER, "id_number", _("The same ID number is already in row %(row)d of this file.")),
            (FirstSeen.DEVELOPMENT_NUMBER, "development_number",
             _("The same development number is already in row %(row)d of this file.")),
        ):
            keyed = [(row, row.values.get(key)) for row in rows if row.values.get(key) and key not in row.errors]
            firsts = self.first_seen.first_rows(kind, [(value, row.number) for row, value in keyed])
            for row, value in keyed:
                if firsts[value] != row.number:
                    row.fail(key, message % {"row": firsts[value]})
        for row in rows:
            if row.values.get("position") == Position.SECRETARY and row.ok:
                if self.org_has_secretary:
                    row.fail("position", _("%(org)s already has a secretary (书记); record this person with another"
                                           " post or change the current secretary first.") % {"org": self.org})
                elif self.secretary_row is not None:
                    row.fail("position", _("Only one secretary (书记) per organization: row %(row)d already names"
                                           " one.") % {"row": self.secretary_row})
                else:
                    self.secretary_row = row.number

    def _refuse_held_elsewhere(self, candidates: list[Row], people: list[tuple]) -> None:
        """Rows naming a known person the importing admin does not control get the single form's one answer
        (no org, nothing about the name), audited and counted towards the admin's lookup throttle (one query).
        Once the admin is locked, every remaining row fails alike, new people too, so the lock tells nothing."""
        known = {number: (pid, name) for pid, number, name, *_rest in people}
        outside = people_not_controlled(self.actor, [pid for pid, _name in known.values()])
        outside.discard(getattr(self.actor.person, "pk", None))  # the admin themselves (see may_grant_to)
        if not outside and self.actor.person is None:
            return
        lock_message = member_services.lookup_lock_message(self.actor)
        locked_rows = 0
        for row in candidates:
            if lock_message is not None:
                row.fail("id_number", lock_message)
                locked_rows += 1
                continue
            pid, name = known.get(row.values["id_number"], (None, None))
            if pid in outside:
                row.fail("id_number", held_outside_message())
                person = Person(pk=pid, id_number=row.values["id_number"], name=name)
                if member_services.record_refused_lookups(actor=self.actor, org=self.org, action="import.add_refused",
                                                          people=[(person, row.number)]):
                    lock_message = member_services.lookup_lock_message(self.actor)
        if locked_rows:
            record(action="import.add_refused", actor=self.actor, org=self.org,
                         after={"reason": "locked", "rows": locked_rows})

    def check_batch(self, rows: list[Row]) -> None:
        """The database checks for a batch of rows that passed everything else: five queries at most."""
        candidates = [r for r in rows if r.ok]
        if not candidates:
            return
        by_id = {r.values["id_number"]: r for r in candidates}
        people = select_in(
            f"SELECT p.id, p.id_number, p.name, m.id, m.branch_id, o.short_name FROM {Person._meta.db_table} p"
            f" LEFT JOIN {Member._meta.db_table} m ON m.person_id = p.id"
            f" LEFT JOIN {Org._meta.db_table} o ON o.id = m.branch_id WHERE p.id_number",
            list(by_id))
        self._refuse_held_elsewhere(candidates, people)
        member_ids: dict[int, Row] = {}
        for pid, number, name, member_id, branch_id, branch_name in people:
            row = by_id[number]
            if not row.ok:
                continue
            if name != row.values["name"]:
                row.fail("name", _("This ID number is already registered under a different name. Check the name"
                                   " and the ID number."))
                continue
            row.person_id = pid
            if self.kind == ImportKind.MEMBER and member_id is not None:
                if branch_id == self.org.pk:
                    row.fail("id_number", _("Already a member here."))
                else:
                    row.fail("id_number", _("Already a member of %(org)s; to move them here, use a relationship"
                                            " transfer (组织关系转接).") % {"org": branch_name})
                member_ids[member_id] = row
        if member_ids:
            for member_id in members_in_transfer_ids(list(member_ids)):
                row = member_ids[member_id]
                row.errors["id_number"] = _("This member is in a relationship transfer; wait until it is finished.")
        if self.kind == ImportKind.MEMBER:
            devnos = {r.values["development_number"]: r for r in candidates if r.ok and r.values["development_number"]}
            if devnos:
                for (devno,) in select_in(f"SELECT development_number FROM {Member._meta.db_table}"
                                           " WHERE development_number", list(devnos)):
                    devnos[devno].fail("development_number", _("This development number already belongs to another"
                                                               " member."))
        with_person = {r.person_id: r for r in candidates if r.ok and r.person_id and r.values["position"]}
        if with_person:
            for pid, position in Cadre.objects.filter(org=self.org, person_id__in=list(with_person)).values_list(
                    "person_id", "position"):
                row = with_person[pid]
                if position == row.values["position"]:
                    row.fail("position", _("Already holds this post here."))
