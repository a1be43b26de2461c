"""Fixed vocabularies of member and cadre records (values are stored; labels are translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The 56 ethnic groups, in the order of GB/T 3304. Stored as the Chinese name: it is the
# identifier every league form and import file uses.
ETHNICITIES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族"
    " 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族"
    " 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族"
    " 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族"
    " 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族"
    " 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()
ETHNICITY_CHOICES = [(e, e) for e in ETHNICITIES]


class PoliticalStatus(models.TextChoices):
    LEAGUE_MEMBER = "共青团员", _("Communist Youth League member")
    PROBATIONARY_PARTY = "中共预备党员", _("Probationary CPC member")
    PARTY_MEMBER = "中共党员", _("CPC member")


class Education(models.TextChoices):
    JUNIOR_HIGH = "初中", _("Junior high school")
    SENIOR_HIGH = "高中", _("Senior high school")
    VOCATIONAL = "中专", _("Secondary vocational school")
    JUNIOR_COLLEGE = "大专", _("Junior college")
    BACHELOR = "本科", _("Bachelor's degree")
    MASTER = "硕士研究生", _("Master's degree")
    DOCTOR = "博士研究生", _("Doctorate")
    OTHER = "其他", _("Other")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    AGED_OUT = "aged_out", _("Aged out")
    LEFT = "left", _("Left the league")
    EXPELLED = "expelled", _("Expelled")
    DECEASED = "deceased", _("Deceased")


class Position(models.TextChoices):
    SECRETARY = "书记", _("Secretary")
    DEPUTY_SECRETARY = "副书记", _("Deputy secretary")
    ORGANIZATION = "组织委员", _("Organization committee member")
    PUBLICITY = "宣传委员", _("Publicity committee member")
    CULTURE = "文体委员", _("Culture and sports committee member")
    COMMITTEE = "委员", _("Committee member")
    OTHER = "其他", _("Other")


class CadreNature(models.TextChoices):
    FULL_TIME = "专职", _("Full-time")
    PART_TIME = "兼职", _("Part-time")
    SECONDED = "挂职", _("Seconded")
