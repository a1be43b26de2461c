"""The four built-in org types; more can be added as rows (e.g. a graduating-class branch)."""

from django.db import migrations

TYPES = [
    ("committee", "团委", "committee", 10),
    ("work_committee", "团工委", "work_committee", 20),
    ("general_branch", "团总支", "general_branch", 30),
    ("branch", "团支部", "branch", 40),
]


def create_types(apps, schema_editor):
    OrgType = apps.get_model("orgs", "OrgType")
    for code, name, category, order in TYPES:
        OrgType.objects.get_or_create(code=code, defaults={"name": name, "category": category, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
