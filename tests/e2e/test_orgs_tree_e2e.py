"""The org pages in a real browser: expand and fold the tree (htmx), search in place, import branches from an
Excel file with a bad row, and delete an empty org after the confirmation dialog."""

import io

import pytest
from openpyxl import Workbook

from orgs.models import Org
from tests.e2e.helpers import log_in


def sheet_bytes(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["简称", "类别", "全称"])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_tree_search_import_and_delete_in_the_browser(
    browser, live_server, e2e_settings, captcha_test_mode, org_types, tree
):
    base = live_server.url
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, base, tree.root_admin.id_number)

        # --- expand two levels on demand, then fold one away ------------------------------------------------
        page.goto(f"{base}/orgs/")
        box = page.get_by_test_id("org-tree")
        box.locator(f"li[data-org={tree.wc.code}] [data-tree-toggle]").first.click()
        gb = box.locator(f"li[data-org={tree.gb.code}]")
        gb.wait_for(state="visible")
        gb.locator("[data-tree-toggle]").first.click()
        branch = box.locator(f"li[data-org={tree.branch.code}]")
        branch.wait_for(state="visible")
        assert "1" in branch.inner_text()  # its member count
        gb.locator("[data-tree-toggle]").first.click()
        assert not branch.is_visible()
        gb.locator("[data-tree-toggle]").first.click()
        assert branch.is_visible()
        assert box.locator(f"li[data-org={tree.branch.code}]").count() == 1  # folded, not loaded twice

        # --- search in place: results arrive without leaving the page ---------------------------------------
        page.fill("input[name=q]", "二班")
        page.locator("form[role=search] button[type=submit]").click()
        results = page.get_by_test_id("search-results")
        results.wait_for(state="visible")
        assert tree.branch2.short_name in results.inner_text()
        assert tree.gb.short_name in results.inner_text()  # the path
        assert "q=" in page.url

        # --- import two branches under the general branch, one row bad -------------------------------------
        context.clear_cookies()  # log in afresh as the general branch's admin
        log_in(page, base, tree.gb_admin.id_number)
        page.goto(f"{base}/orgs/{tree.gb.pk}/children/import/")
        page.set_input_files("input[name=file]", files=[{
            "name": "orgs.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": sheet_bytes([("三班团支部", "团支部", "三班"), ("工委", "团工委", "工委")]),
        }])
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        errors = page.get_by_test_id("row-errors")
        assert "3" in errors.inner_text()
        new = Org.objects.get(short_name="三班团支部")
        assert new.parent_id == tree.gb.pk
        assert not Org.objects.filter(short_name="工委").exists()

        # --- delete the new, empty branch after confirming -------------------------------------------------
        page.goto(f"{base}/orgs/{new.pk}/")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_test_id("delete-org").click()
        page.wait_for_url(f"{base}/orgs/{tree.gb.pk}/")
        assert not Org.objects.filter(pk=new.pk).exists()
    finally:
        context.close()
