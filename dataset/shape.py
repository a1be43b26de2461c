"""The shape of a generated province: which orgs exist, their codes, names and nested-set numbers, and how many
members each branch holds. Pure Python, no database: the loader writes what this plans.

province → cities → counties → committees and work committees → general branches → branches. Each county has
its own 机关团支部, each committee or work committee one branch of its own, every general branch at least one
branch; the remaining branches fall on the general branches at random (seeded). Branches hold 3–50 members and
the sizes add up to exactly the number asked for.
"""

import random
from dataclasses import dataclass, field

MIN_BRANCH, MAX_BRANCH = 3, 50
PROVINCE_REGION = "44"

CITY_NAMES = ("东阳 西江 南川 北岭 临海 青山 白沙 金城 云台 长宁 安平 永和 泰丰 龙泉 凤翔 清远 和平 兴华 "
              "宁远 广信 嘉禾 春城 海门 松原").split()
COUNTY_NAMES = "城关 新华 河东 河西 桥头 湖滨 高新 开发 东湖 西山 南湖 北城 中山 解放 人民 建设".split()
COMMITTEE_UNITS = ("第一中学 第二中学 实验中学 职业技术学院 师范学院 人民医院 供电公司 电信公司 建工集团 交通集团 "
                   "农商银行 机关事务局 外国语学校 理工学院 卫生学校").split()
WORK_UNITS = "城东街道 城西街道 滨江街道 新城街道 石桥镇 白马镇 青龙乡 柳树镇 双河镇 太平乡 金沙镇 花园街道".split()
GB_UNITS = ("高一年级 高二年级 高三年级 机电系 信息系 经管系 外语系 护理部 生产车间 营销中心 社区 第一党支部 "
            "教学部 后勤部").split()


@dataclass
class PlannedOrg:
    id: int
    kind: str  # province, city, county, committee, work_committee, general_branch, branch
    parent: "PlannedOrg | None"
    region: str  # the GB/T 2260-style code its people's ID numbers start with
    code: str = ""
    short_name: str = ""
    full_name: str = ""
    lft: int = 0
    rght: int = 0
    level: int = 0
    children: list["PlannedOrg"] = field(default_factory=list)
    members: int = 0  # branches only

    @property
    def type_code(self) -> str:
        return "committee" if self.kind in ("province", "city", "county") else self.kind


@dataclass
class Plan:
    orgs: list[PlannedOrg]  # by id: parents before children
    branches: list[PlannedOrg]  # in tree (lft) order
    members: int

    @property
    def root(self) -> PlannedOrg:
        return self.orgs[0]


class ShapeError(ValueError):
    """The numbers asked for cannot make a valid tree."""


def level_counts(n_orgs: int) -> dict[str, int]:
    """How many orgs of each level a tree of n_orgs has (about 95% branches, as in a real province)."""
    cities = max(1, round(n_orgs / 7000))
    counties = max(cities, round(n_orgs / 700))
    units = max(counties, round(n_orgs / 120), 2 if n_orgs >= 12 else 1)  # a committee and a work committee
    gbs = max(units, round(n_orgs / 25))
    branches = n_orgs - (1 + cities + counties + units + gbs)
    if branches < 1:
        raise ShapeError(f"--orgs must be at least 6 (a province, city, county, committee, general branch and "
                         f"a branch); got {n_orgs}")
    return {"cities": cities, "counties": counties, "units": units, "gbs": gbs, "branches": branches}


def _spread(rng: random.Random, parents: list[PlannedOrg], count: int) -> list[PlannedOrg]:
    """count parent picks: each parent once while there are enough, the rest at random with uneven weights."""
    picks = parents[:count]
    rest = count - len(picks)
    if rest > 0:
        weights = [rng.uniform(0.2, 1.8) for _ in parents]
        picks += rng.choices(parents, weights=weights, k=rest)
    return picks


def plan(n_orgs: int, n_members: int, seed: int = 1) -> Plan:
    counts = level_counts(n_orgs)
    n_branches = counts["branches"]
    if not MIN_BRANCH * n_branches <= n_members <= MAX_BRANCH * n_branches:
        raise ShapeError(
            f"--members must lie between {MIN_BRANCH * n_branches:,} and {MAX_BRANCH * n_branches:,} for "
            f"{n_orgs:,} orgs ({n_branches:,} branches of {MIN_BRANCH}–{MAX_BRANCH} members); got {n_members:,}")
    rng = random.Random(seed)
    orgs: list[PlannedOrg] = []

    def add(kind: str, parent: PlannedOrg | None, region: str = "") -> PlannedOrg:
        org = PlannedOrg(id=len(orgs) + 1, kind=kind, parent=parent, region=region or (parent.region if parent else ""))
        orgs.append(org)
        if parent is not None:
            parent.children.append(org)
        return org

    province = add("province", None, PROVINCE_REGION + "0000")
    cities = [add("city", province, f"{PROVINCE_REGION}{i + 1:02d}00") for i in range(counts["cities"])]
    if len(cities) > 99:
        raise ShapeError("more than 99 cities: ID number region codes would not fit")
    counties = []
    for city in _spread(rng, cities, counts["counties"]):
        county_no = sum(1 for c in city.children) + 1
        if county_no > 99:
            raise ShapeError("more than 99 counties in a city: ID number region codes would not fit")
        counties.append(add("county", city, city.region[:4] + f"{county_no:02d}"))
    units = [add(("committee", "work_committee")[i] if i < 2 else
                 "committee" if rng.random() < 0.4 else "work_committee", county)
             for i, county in enumerate(_spread(rng, counties, counts["units"]))]
    gbs = [add("general_branch", unit) for unit in _spread(rng, units, counts["gbs"])]

    # Branches: one per general branch first, then one of their own for counties and units, then at random.
    left = n_branches
    for parents in (gbs, counties, units):
        for parent in parents[:left]:
            add("branch", parent)
        left -= min(left, len(parents))
    for parent in _spread(rng, gbs, left) if left > 0 else []:
        add("branch", parent)

    _name_and_number(province)
    branches = [o for o in sorted(orgs, key=lambda o: o.lft) if o.kind == "branch"]
    _size_branches(rng, branches, n_members)
    return Plan(orgs=orgs, branches=branches, members=n_members)


def _unit_name(kind: str, index: int) -> str:
    names = {"committee": COMMITTEE_UNITS, "work_committee": WORK_UNITS, "general_branch": GB_UNITS}[kind]
    stem = names[index % len(names)]
    return stem if index < len(names) else f"{stem}{index // len(names) + 1}"


def _name_and_number(root: PlannedOrg) -> None:
    """Codes (parent's code + a fixed-width sequence per level), names unique among siblings, and the nested-set
    numbers of a depth-first walk with siblings in code order (django-mptt's order_insertion_by)."""
    by_level: dict[int, list[PlannedOrg]] = {}
    stack = [(root, 0)]
    while stack:
        org, level = stack.pop()
        org.level = level
        by_level.setdefault(level, []).append(org)
        stack.extend((c, level + 1) for c in org.children)
    root.code, root.short_name, root.full_name = f"{PROVINCE_REGION}0000", "示范省团委", "共青团示范省委员会"
    for level in sorted(by_level):
        parents = by_level[level]
        width = max(2, len(str(max((len(p.children) for p in parents), default=0))))
        for parent in parents:
            # Within a parent: committees before work committees before general branches before branches.
            order = {"city": 0, "county": 0, "committee": 1, "work_committee": 2, "general_branch": 3, "branch": 4}
            parent.children.sort(key=lambda c: (order[c.kind], c.id))
            per_kind: dict[str, int] = {}
            for seq, child in enumerate(parent.children, start=1):
                child.code = f"{parent.code}{seq:0{width}d}"
                i = per_kind.get(child.kind, 0)
                per_kind[child.kind] = i + 1
                child.short_name = _short_name(child, i)
                child.full_name = (parent.short_name.removesuffix("团委") + child.short_name)[:128]
    counter = 1
    stack2: list[tuple[PlannedOrg, bool]] = [(root, False)]
    while stack2:
        org, done = stack2.pop()
        if done:
            org.rght = counter
            counter += 1
            continue
        org.lft = counter
        counter += 1
        stack2.append((org, True))
        stack2.extend((c, False) for c in reversed(org.children))


def _short_name(org: PlannedOrg, i: int) -> str:
    if org.kind == "city":
        stem = CITY_NAMES[i % len(CITY_NAMES)]
        return f"{stem}{'' if i < len(CITY_NAMES) else i // len(CITY_NAMES) + 1}市团委"
    if org.kind == "county":
        stem = COUNTY_NAMES[i % len(COUNTY_NAMES)]
        return f"{stem}{'' if i < len(COUNTY_NAMES) else i // len(COUNTY_NAMES) + 1}区团委"
    if org.kind == "committee":
        return f"{_unit_name('committee', i)}团委"
    if org.kind == "work_committee":
        return f"{_unit_name('work_committee', i)}团工委"
    if org.kind == "general_branch":
        return f"{_unit_name('general_branch', i)}团总支"
    if org.parent is not None and org.parent.kind in ("county", "committee", "work_committee"):
        return "机关团支部"  # the one branch of its own a county or unit has
    return f"{i + 1}班团支部"


def _size_branches(rng: random.Random, branches: list[PlannedOrg], total: int) -> None:
    """Sizes of MIN_BRANCH..MAX_BRANCH adding up to exactly total: exponentially distributed, so most branches
    are small and a few reach the maximum."""
    room = MAX_BRANCH - MIN_BRANCH
    extra_total = total - MIN_BRANCH * len(branches)
    weights = [rng.expovariate(1.0) + 0.01 for _ in branches]
    scale = extra_total / sum(weights)
    extras = [min(room, int(w * scale)) for w in weights]
    left = extra_total - sum(extras)
    order = list(range(len(branches)))
    while left > 0:
        rng.shuffle(order)
        for i in order:
            if left == 0:
                break
            if extras[i] < room:
                extras[i] += 1
                left -= 1
    for branch, extra in zip(branches, extras, strict=True):
        branch.members = MIN_BRANCH + extra
