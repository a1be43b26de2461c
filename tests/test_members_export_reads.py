"""The member export is a plain read: no transaction is open while its rows are read and written out (on SQLite
every transaction takes the one writer lock, so an export inside one blocked every other write)."""

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEntry
from members import export

from .conftest import login_as


@pytest.mark.django_db(transaction=True)
def test_the_export_reads_its_rows_outside_any_transaction_and_is_still_audited(tree, client, monkeypatch):
    seen = []
    real = export.export_members

    def watching(**kwargs):
        seen.append(connection.in_atomic_block)
        return real(**kwargs)

    monkeypatch.setattr(export, "export_members", watching)
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("member_export", args=[tree.branch.pk]))
    assert response.status_code == 200
    assert seen == [False]
    entry = AuditEntry.objects.get(action="member.export")
    assert entry.after["rows"] == 1
