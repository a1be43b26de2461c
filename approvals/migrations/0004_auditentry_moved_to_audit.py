# The audit trail moved to the audit app (audit.0001_initial takes the model over in Django's state).
# The table stays where it is; only the state forgets the model here, and the content type follows it so
# admin permissions granted on audit entries keep working.

from django.db import migrations


def content_type_to_audit(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="audit", model="auditentry").exists():
        ContentType.objects.using(db).filter(app_label="approvals", model="auditentry").update(app_label="audit")


def content_type_to_approvals(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="approvals", model="auditentry").exists():
        ContentType.objects.using(db).filter(app_label="audit", model="auditentry").update(app_label="approvals")


class Migration(migrations.Migration):

    dependencies = [
        ("approvals", "0003_approvalrequest"),
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_audit, content_type_to_approvals),
    ]
