"""Subtree member counts kept by triggers (zhtj/dbrules.py installs them after migrate); existing data counted once."""

import django.db.models.deletion
from django.db import migrations, models


def count_existing(apps, schema_editor):
    from orgs.counts import _EXPECTED

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_EXPECTED + " INSERT INTO orgs_subtreecount (org_id, active_members) "
                       "SELECT o.id, COALESCE(t.n, 0) FROM orgs_org o LEFT JOIN totals t ON t.id = o.id")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0004_org_tree_range_index"),
        ("members", "0004_member_branch_no_single_index"),  # the count reads the members table
    ]

    operations = [
        migrations.CreateModel(
            name="SubtreeCount",
            fields=[
                ("org", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                             related_name="subtree_count", serialize=False, to="orgs.org")),
                ("active_members", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("active_members__gte", 0)),
                                                       name="subtree_count_not_negative")],
            },
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
    ]
