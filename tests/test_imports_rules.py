"""Row rules of the import: the member form's rules (members.rules), Excel's mangled cells, duplicates inside
the file, people already here or elsewhere, templates, gender, cadre posts."""

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.utils import timezone

from audit.models import AuditEntry
from imports.models import ImportStatus
from members import idnumber
from members.models import Cadre, Member, Person
from members.rules import MemberInput, check_member

from . import factories as f
from .import_helpers import (  # noqa: F401
    CADRE_HEADERS,
    cadre_row,
    db_counts,
    media,
    member_row,
    new_id,
    run_import,
    xls,
    xlsx,
)

pytestmark = pytest.mark.usefixtures("media", "english")

MANGLED = ("This ID number was stored as a number, so Excel kept only its first 15 digits and lost the last ones."
           " Format the column as text, type the full number again, and upload the file.")


def _reasons(result) -> dict[int, str]:
    return {f["row"]: f["reason"] for f in result.failures}


def test_valid_rows_become_members_with_derived_gender_and_birth_date(tree):
    number = idnumber.make("110101", dt.date(2004, 3, 15), 123)  # 123: odd sequence → male
    job, result = run_import(tree.branch, xlsx([member_row("吴一", number, 电子邮箱="wu@example.org")]))
    assert job.status == ImportStatus.SUCCEEDED
    member = Member.objects.select_related("person").get(person__id_number=number)
    assert member.branch == tree.branch
    assert member.person.gender == "M" and member.person.birth_date == dt.date(2004, 3, 15)
    assert member.joined_on == dt.date(2019, 5, 1)
    assert member.person.email == "wu@example.org"
    assert member.status == "active"


def test_imported_people_sign_in_with_the_last_eight_characters_and_no_password_was_hashed(tree):
    number = new_id()
    run_import(tree.branch, xlsx([member_row("郑一", number)]))
    person = Person.objects.get(id_number=number)
    assert person.password == "!" and person.needs_password
    assert authenticate(None, id_number=number, password=number[-8:]) == person


def test_each_imported_person_is_in_the_batch_audit_entry(tree):
    rows = [member_row("冯一"), member_row("冯二")]
    job, _ = run_import(tree.branch, xlsx(rows))
    entry = AuditEntry.objects.get(action="member.imported", org=tree.branch)
    people = {p.name: p for p in Person.objects.filter(name__in=["冯一", "冯二"])}
    assert (entry.target_type, entry.target_id) == ("imports.importjob", str(job.pk))
    assert entry.after["import_job"] == job.pk and entry.after["count"] == 2
    assert entry.after["people"] == [
        {"id": people[r["姓名"]].pk, "name": r["姓名"], "id_number": people[r["姓名"]].masked_id_number,
         "row": n, "position": None} for n, r in enumerate(rows, start=2)]
    assert AuditEntry.objects.filter(action="import.finished", target_id=str(job.pk)).count() == 1


def test_one_audit_entry_per_batch_records_every_imported_person(tree, monkeypatch):
    from imports import services

    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    rows = [member_row(f"冯{n}") for n in "三四五六七"]
    job, result = run_import(tree.branch, xlsx(rows))
    assert result.imported == 5
    entries = AuditEntry.objects.filter(action="member.imported", org=tree.branch).order_by("id")
    assert [e.after["count"] for e in entries] == [2, 2, 1]
    recorded = [p["id"] for e in entries for p in e.after["people"]]
    assert sorted(recorded) == sorted(Member.objects.filter(branch=tree.branch, person__name__startswith="冯")
                                      .values_list("person_id", flat=True))


def test_the_member_form_rules_apply_to_every_row(tree):
    bad = member_row("陈一", 民族="火星族", 政治面貌="群众", 手机号码="1234", 电子邮箱="not-an-email", 学历="幼儿园")
    job, result = run_import(tree.branch, xlsx([bad]))
    reason = result.failures[0]["reason"]
    expected = check_member(MemberInput(
        name="陈一", id_number=bad["身份证号码"], ethnicity="火星族", political_status="群众",
        joined_on=dt.date(2019, 5, 1), development_number=bad["发展团员编号"], phone="1234", email="not-an-email",
        education="幼儿园", occupation="学生"), today=timezone.localdate())
    assert set(expected) == {"ethnicity", "political_status", "phone", "email", "education"}
    for message in expected.values():
        assert message in reason
    assert result.imported == 0


def test_wrong_check_digit_gives_the_form_message(tree):
    number = new_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    job, result = run_import(tree.branch, xlsx([member_row("褚一", wrong)]))
    assert "check digit is wrong" in result.failures[0]["reason"]


def test_too_young_and_over_age_are_refused(tree):
    young = member_row("卫一", idnumber.make("110101", dt.date(2008, 6, 1), 11), 入团年月="2019-05")
    old = member_row("卫二", idnumber.make("110101", dt.date(1990, 6, 1), 13), 入团年月="2005-05")
    job, result = run_import(tree.branch, xlsx([young, old]))
    reasons = _reasons(result)
    assert "Too young on joining" in reasons[2]
    assert "Over age" in reasons[3]


def test_over_age_is_allowed_with_a_cadre_post(tree):
    row = member_row("蒋一", idnumber.make("110101", dt.date(1990, 6, 1), 15), 入团年月="2005-05")
    row.update({"团内现任职务": "书记", "任现职年月": "2022-09", "团干部性质": "兼职"})
    job, result = run_import(tree.branch, xlsx([row]))
    assert (result.imported, result.failed) == (1, 0), result.failures
    cadre = Cadre.objects.get(person__name="蒋一")
    assert (cadre.org, cadre.position, cadre.since) == (tree.branch, "书记", dt.date(2022, 9, 1))


# -- what Excel does to cells -------------------------------------------------------------------------------

def test_id_number_stored_as_a_number_is_refused_with_the_explanation(tree):
    number = new_id()
    while number.endswith("X"):
        number = new_id()
    row = member_row("沈一", int(number))
    before = db_counts()
    job, result = run_import(tree.branch, xlsx([row]))
    assert result.failures == [{"row": 2, "reason": f"身份证号码：{MANGLED}"}]
    assert db_counts()[:3] == before[:3]


def test_id_number_stored_as_a_number_in_xls_is_refused_too(tree):
    number = new_id()
    while number.endswith("X"):
        number = new_id()
    job, result = run_import(tree.branch, xls([member_row("沈二", float(number))]), "m.xls")
    assert MANGLED in result.failures[0]["reason"]


def test_scientific_notation_text_is_recognised_as_a_mangled_id(tree):
    job, result = run_import(tree.branch, xlsx([member_row("沈三", "1.10101E+17")]))
    assert "stored as a number (shown as 1.10101E+17)" in result.failures[0]["reason"]


def test_phone_and_development_number_stored_as_whole_numbers_are_accepted(tree):
    row = member_row("韩一", 手机号码=13800138000, 发展团员编号=201900001234)
    job, result = run_import(tree.branch, xls([row]), "m.xls")
    assert (result.imported, result.failed) == (1, 0), result.failures
    member = Member.objects.select_related("person").get(person__name="韩一")
    assert member.person.phone == "13800138000"
    assert member.development_number == "201900001234"


@pytest.mark.parametrize("cell", [
    dt.date(2015, 5, 1), dt.datetime(2015, 5, 20, 8, 30), 42125, 42125.0, "2015-05", "2015.05", "2015/5", "201505",
    201505, "2015年5月", "２０１５年５月", " 2015-05\u00a0",
])
def test_join_month_in_every_accepted_form(tree, cell):
    row = member_row("杨一", idnumber.make("110101", dt.date(2000, 1, 1), 17), 入团年月=cell, 发展团员编号="")
    job, result = run_import(tree.branch, xlsx([row]))
    assert (result.imported, result.failed) == (1, 0), result.failures
    assert Member.objects.get(person__name="杨一").joined_on == dt.date(2015, 5, 1)


def test_join_month_as_date_cell_in_xls(tree):
    row = member_row("杨二", idnumber.make("110101", dt.date(2000, 1, 1), 19), 入团年月=dt.date(2015, 5, 1),
                     发展团员编号="")
    job, result = run_import(tree.branch, xls([row]), "m.xls")
    assert (result.imported, result.failed) == (1, 0), result.failures


def test_unreadable_join_month_names_the_column(tree):
    job, result = run_import(tree.branch, xlsx([member_row("朱一", 入团年月="去年春天")]))
    assert result.failures[0]["reason"].startswith("入团年月：")


def test_full_width_digits_spaces_nbsp_and_lowercase_x_are_normalised(tree):
    number = next(n for n in (new_id() for _ in range(200)) if n.endswith("X"))
    messy_id = " " + number[:6].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "\u00a0" + \
        number[6:17] + "x "
    row = member_row("秦 一", messy_id, 手机号码="１３８\u00a00013 8000", 民族=" 汉族 ", 政治面貌="\u00a0共青团员")
    job, result = run_import(tree.branch, xlsx([row]))
    assert (result.imported, result.failed) == (1, 0), result.failures
    person = Person.objects.get(id_number=number)
    assert person.name == "秦一" and person.phone == "13800138000"


def test_common_spellings_of_choices_are_understood(tree):
    row = member_row("许一", 民族="回", 政治面貌="团员", 学历="硕士")
    job, result = run_import(tree.branch, xlsx([row]))
    assert (result.imported, result.failed) == (1, 0), result.failures
    member = Member.objects.get(person__name="许一")
    assert (member.ethnicity, member.political_status, member.education) == ("回族", "共青团员", "硕士研究生")


# -- duplicates and people already known ----------------------------------------------------------------------

def test_duplicate_id_number_inside_the_file_fails_the_later_row(tree):
    first = member_row("何一")
    second = member_row("何一", first["身份证号码"])
    job, result = run_import(tree.branch, xlsx([first, second]))
    assert result.imported == 1
    assert "The same ID number is already in row 2 of this file." in _reasons(result)[3]


def test_duplicate_development_number_inside_the_file_fails_the_later_row(tree):
    first = member_row("吕一")
    second = member_row("吕二", 发展团员编号=first["发展团员编号"])
    job, result = run_import(tree.branch, xlsx([first, second]))
    assert "The same development number is already in row 2 of this file." in _reasons(result)[3]
    assert result.imported == 1


def test_development_number_already_taken_fails(tree):
    f.make_member(tree.branch2, development_number="201900000001", joined_on=dt.date(2019, 5, 1))
    job, result = run_import(tree.branch, xlsx([member_row("施一", 发展团员编号="201900000001")]))
    assert "already belongs to another member" in result.failures[0]["reason"]


def test_already_a_member_here(tree):
    person = tree.member.person
    job, result = run_import(tree.branch, xlsx([member_row(person.name, person.id_number)]))
    assert result.failures[0]["reason"] == "身份证号码：Already a member here."


def test_member_of_another_org_is_told_to_use_a_transfer_without_naming_the_org(tree):
    other = f.make_member(tree.branch2, joined_on=dt.date(2019, 5, 1))
    job, result = run_import(tree.branch, xlsx([member_row(other.person.name, other.person.id_number)]))
    reason = result.failures[0]["reason"]
    assert "办理转入" in reason and "二班" not in reason
    assert Member.objects.get(pk=other.pk).branch == tree.branch2


def test_member_in_transfer_cannot_be_imported_elsewhere(tree):
    from transfers.models import Transfer

    # A member of the importing branch itself (anyone else's record is refused before this is told).
    other = f.make_member(tree.branch, joined_on=dt.date(2019, 5, 1))
    Transfer.objects.create(member=other, direction="out", source_branch=tree.branch, target_org=tree.sibling,
                            reason="就业", submitted_at=timezone.now(), submitted_by=tree.branch_admin,
                            submitted_for=tree.branch)
    job, result = run_import(tree.branch, xlsx([member_row(other.person.name, other.person.id_number)]))
    assert "in a relationship transfer" in result.failures[0]["reason"]


def test_existing_person_without_membership_becomes_a_member(tree):
    person = f.make_person(name="孔一", password=None)
    job, result = run_import(tree.branch, xlsx([member_row("孔一", person.id_number)]))
    assert result.imported == 1
    assert Person.objects.filter(id_number=person.id_number).count() == 1
    assert Member.objects.get(person=person).branch == tree.branch


def test_existing_person_under_another_name_fails(tree):
    person = f.make_person(name="曹一")
    job, result = run_import(tree.branch, xlsx([member_row("曹二", person.id_number)]))
    assert "registered under a different name" in result.failures[0]["reason"]
    assert not Member.objects.filter(person=person).exists()


def test_gender_column_must_agree_with_the_id_number(tree):
    male = idnumber.make("110101", dt.date(2004, 3, 15), 201)
    female = idnumber.make("110101", dt.date(2004, 3, 15), 202)
    rows = [member_row("严一", male, 性别="男"), member_row("严二", female, 性别="男")]
    job, result = run_import(tree.branch, xlsx(rows))
    assert result.imported == 1
    assert "does not agree with the ID number" in _reasons(result)[3]


# -- templates and cadres -------------------------------------------------------------------------------------

def test_member_template_in_a_committee_is_the_wrong_template(tree):
    before = db_counts()
    job, result = run_import(tree.wc, xlsx([member_row()]))
    assert job.status == ImportStatus.FAILED and "This is the member template" in job.error_message
    assert db_counts()[:3] == before[:3]


def test_cadre_template_in_a_branch_is_the_wrong_template(tree):
    job, result = run_import(tree.branch, xlsx([cadre_row()], headers=CADRE_HEADERS))
    assert job.status == ImportStatus.FAILED and "This is the cadre template" in job.error_message


def test_cadres_of_a_committee_are_imported_without_membership(tree):
    rows = [cadre_row("华一", 团内现任职务="副书记", 团干部性质="专职"), cadre_row("华二")]
    job, result = run_import(tree.wc, xlsx(rows, headers=CADRE_HEADERS))
    assert job.kind == "cadre" and (result.imported, result.failed) == (2, 0), result.failures
    cadre = Cadre.objects.get(person__name="华一")
    assert (cadre.org, cadre.position, cadre.nature, cadre.since) == (tree.wc, "副书记", "专职", dt.date(2022, 9, 1))
    assert not Member.objects.filter(person__name__in=["华一", "华二"]).exists()
    assert result.sentence == "Imported 2 cadre(s), 0 cadre(s) failed to import"


def test_an_existing_member_can_be_imported_as_a_cadre_of_a_committee(tree):
    person = tree.member.person
    job, result = run_import(tree.wc, xlsx([cadre_row(person.name, person.id_number)], headers=CADRE_HEADERS))
    assert result.imported == 1
    assert Cadre.objects.filter(person=person, org=tree.wc).exists()
    assert Member.objects.get(person=person).branch == tree.branch


def test_cadre_rules(tree):
    f.make_cadre(tree.wc, position="书记")
    holder = f.make_cadre(tree.wc, position="组织委员")
    rows = [
        cadre_row("金一", 团内现任职务="书记"),
        cadre_row(holder.person.name, holder.person.id_number, 团内现任职务="组织委员"),
        cadre_row("金三", 团内现任职务="校长"),
        cadre_row("金四", 任现职年月=""),
        cadre_row("金五", 团干部性质="临时"),
        cadre_row("金六", 任现职年月=f"{dt.date.today().year + 1}-01"),
    ]
    job, result = run_import(tree.wc, xlsx(rows, headers=CADRE_HEADERS))
    reasons = _reasons(result)
    assert result.imported == 0
    assert "already has a secretary" in reasons[2]
    assert "Already holds this post here." in reasons[3]
    assert "is not a league post" in reasons[4]
    assert reasons[5].startswith("任现职年月：")
    assert "is not a cadre type" in reasons[6]
    assert "in the future" in reasons[7]


def test_only_one_secretary_per_org_inside_the_file(tree):
    rows = [cadre_row("魏一", 团内现任职务="书记"), cadre_row("魏二", 团内现任职务="书记")]
    job, result = run_import(tree.wc, xlsx(rows, headers=CADRE_HEADERS))
    assert result.imported == 1
    assert "row 2 already names one" in _reasons(result)[3]


def test_first_seen_names_the_first_row_of_each_key_across_batches_and_keeps_kinds_apart():
    from imports.validation import FirstSeen

    seen = FirstSeen()
    a, b = "110105194912310021", "11010519491231002X"
    assert seen.first_rows(FirstSeen.ID_NUMBER, [(a, 3), (a, 5)]) == {a: 3}  # within a batch
    assert seen.first_rows(FirstSeen.DEVELOPMENT_NUMBER, [(a, 4)]) == {a: 4}  # another kind of key
    assert seen.first_rows(FirstSeen.ID_NUMBER, [(b, 8), (a, 9)]) == {a: 3, b: 8}  # across batches
    assert seen.first_rows(FirstSeen.ID_NUMBER, [(b, 10)]) == {b: 8}
    assert seen.first_rows(FirstSeen.ID_NUMBER, []) == {}


def test_a_row_survives_the_pickle_between_the_reading_and_the_writing_process():
    import datetime as dt
    import pickle

    from imports.validation import Row

    row = Row(number=7, cells=["张三", 1.0, dt.date(2015, 5, 1)],
              values={"name": "张三", "joined_on": dt.date(2015, 5, 1)}, errors={"phone": "bad"}, person_id=42)
    copy = pickle.loads(pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == row and copy.reason() == row.reason() and not copy.ok
