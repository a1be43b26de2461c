# The audit trail moved from the approvals app. Its table keeps its name (approvals_auditentry), so this
# migration only takes the model over in Django's state; the database is not touched and no data moves.

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("approvals", "0003_approvalrequest"),
        ("orgs", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="when")),
                        ("action", models.CharField(db_index=True, max_length=64, verbose_name="action")),
                        ("target_type", models.CharField(blank=True, max_length=64)),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("target_repr", models.CharField(blank=True, max_length=200, verbose_name="object")),
                        ("before", models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True, verbose_name="before")),
                        ("after", models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True, verbose_name="after")),
                        ("reason", models.TextField(blank=True, verbose_name="reason")),
                        ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="address")),
                        ("acting_org", models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="orgs.org", verbose_name="acting for")),
                        ("actor", models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="who")),
                        ("org", models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="orgs.org", verbose_name="organization")),
                    ],
                    options={
                        "verbose_name": "audit entry",
                        "verbose_name_plural": "audit entries",
                        "ordering": ["-at", "-id"],
                        "db_table": "approvals_auditentry",
                        "indexes": [
                            models.Index(fields=["org", "-at"], name="approvals_a_org_id_fed43a_idx"),
                            models.Index(fields=["target_type", "target_id"], name="approvals_a_target__5acb95_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
