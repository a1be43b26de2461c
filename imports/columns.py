"""The import columns, defined once: the template's headers, help row, drop-downs and text formats, and the
importer's header matching all come from COLUMNS below.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from members.choices import ETHNICITIES, CadreNature, Education, PoliticalStatus, Position

from .models import ImportKind

REQUIRED = "required"  # the column must be in the file (a missing one is a file-level error)
OPTIONAL = "optional"  # in the template, but a file without it is still read


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header, as league workbooks have always used it
    help: object  # translated help text shown in the template's help row
    presence: dict[str, str]  # kind -> REQUIRED / OPTIONAL; kinds not listed do not use the column
    aliases: tuple[str, ...] = ()
    choices: Callable[[], list[str]] | None = None  # drop-down list in the template
    text: bool = False  # formatted as text so Excel cannot turn it into a number
    width: int = 14
    in_template: bool = True
    extra: dict = field(default_factory=dict)

    def used_by(self, kind: str) -> bool:
        return kind in self.presence

    def required_for(self, kind: str) -> bool:
        return self.presence.get(kind) == REQUIRED


M, C = ImportKind.MEMBER.value, ImportKind.CADRE.value

COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", _("Required."), {M: REQUIRED, C: REQUIRED}, aliases=("团员姓名", "名字"), width=10),
    Column("id_number", "身份证号码", _("Required. 18 characters; enter as text."), {M: REQUIRED, C: REQUIRED},
           aliases=("身份证号", "身份证", "公民身份号码", "证件号码"), text=True, width=22),
    Column("gender", "性别", _("Optional; must agree with the ID number."), {M: OPTIONAL, C: OPTIONAL},
           in_template=False, choices=lambda: ["男", "女"], width=6),
    Column("ethnicity", "民族", _("Required. Choose from the list."), {M: REQUIRED}, choices=lambda: list(ETHNICITIES),
           width=10),
    Column("political_status", "政治面貌", _("Required. Choose from the list."), {M: REQUIRED},
           choices=lambda: list(PoliticalStatus.values), width=14),
    Column("joined_on", "入团年月", _("Required. e.g. 2015-05"), {M: REQUIRED}, aliases=("入团时间", "入团日期"),
           text=True, width=12),
    Column("development_number", "发展团员编号", _("12 digits; required for members who joined in 2017 or later."),
           {M: OPTIONAL}, aliases=("团员编号",), text=True, width=16),
    Column("phone", "手机号码", _("Required. 11 digits."), {M: REQUIRED, C: REQUIRED},
           aliases=("手机号", "手机", "联系电话", "联系方式"), text=True, width=14),
    Column("email", "电子邮箱", _("Optional."), {M: OPTIONAL, C: OPTIONAL}, aliases=("邮箱", "电子邮件"), width=20),
    Column("education", "学历", _("Choose from the list."), {M: OPTIONAL}, aliases=("全日制学历", "最高学历"),
           choices=lambda: list(Education.values), width=12),
    Column("occupation", "职业", _("Optional."), {M: OPTIONAL}, width=14),
    Column("position", "团内现任职务", _("Only for cadres. Choose from the list."), {M: OPTIONAL, C: REQUIRED},
           aliases=("团内职务", "现任职务"), choices=lambda: list(Position.values), width=14),
    Column("since", "任现职年月", _("Required with a post. e.g. 2022-09"), {M: OPTIONAL, C: REQUIRED},
           aliases=("任职年月", "任现职时间"), text=True, width=12),
    Column("nature", "团干部性质", _("Full-time, part-time or seconded; part-time when empty."),
           {M: OPTIONAL, C: REQUIRED}, aliases=("干部性质",), choices=lambda: list(CadreNature.values), width=12),
)

BY_KEY = {c.key: c for c in COLUMNS}


def normalize_header(value: object) -> str:
    """'＊ 身份证号码 ' → '身份证号码': full-width forms, spaces and required-markers are ignored."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(ch for ch in text if not ch.isspace() and ch not in "*※()（）").strip()


# Header text -> column key, for every name and alias.
HEADER_LOOKUP: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.header, *_col.aliases):
        HEADER_LOOKUP[normalize_header(_name)] = _col.key
# Same text with the parentheses' content dropped keeps e.g. "身份证号码(18位)" matching.
_PAREN_SPLIT = ("(", "（")


def match_header(value: object) -> str | None:
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    for mark in _PAREN_SPLIT:
        if mark in text and not text.startswith(mark):
            text = text.split(mark, 1)[0]
    return HEADER_LOOKUP.get(normalize_header(text))


def columns_for(kind: str) -> list[Column]:
    """The columns of the template for this kind, in template order."""
    return [c for c in COLUMNS if c.used_by(kind) and c.in_template]


def accepted_columns(kind: str) -> list[Column]:
    return [c for c in COLUMNS if c.used_by(kind)]


def required_columns(kind: str) -> list[Column]:
    return [c for c in COLUMNS if c.required_for(kind)]


def help_texts() -> set[str]:
    """The help row's texts in the active language and in Chinese (a help row left in the file is skipped)."""
    from django.utils import translation

    texts = {str(c.help) for c in COLUMNS}
    with translation.override("zh-hans"):
        texts |= {str(c.help) for c in COLUMNS}
    return {t.strip() for t in texts}


def kind_for_org(org) -> str:
    """A branch imports its members; a higher org imports its own cadres."""
    return ImportKind.MEMBER if org.is_branch else ImportKind.CADRE
