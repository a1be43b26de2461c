"""Refusals render the product's own pages, not Django's bare ones."""


def test_forbidden_page_uses_the_base_layout(client, tree, settings):
    from tests.conftest import login_as

    login_as(client, tree.gb_admin, tree.gb)
    # The org's own admin may not delete it: only the direct superior may.
    response = client.post(f"/orgs/{tree.gb.pk}/delete/")
    assert response.status_code == 403
    assert b"bootstrap.min.css" in response.content


def test_not_found_page_uses_the_base_layout(client, tree):
    from tests.conftest import login_as

    login_as(client, tree.sibling_admin, tree.sibling)
    response = client.get(f"/orgs/{tree.gb.pk}/")
    assert response.status_code == 404
    assert b"bootstrap.min.css" in response.content


def test_csrf_failure_page_is_the_branded_card_in_chinese(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"id_number": "110101198804230017", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "bootstrap.min.css" in body and "表单安全校验未通过" in body
    assert "CSRF verification failed" not in body  # Django's plain default page
