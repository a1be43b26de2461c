"""A member search by ID number or phone stays out of the browser's history (htmx would push the URL)."""

from .conftest import login_as


def test_htmx_search_by_id_digits_is_not_pushed_into_history(client, tree):
    client = login_as(client, tree.branch_admin, tree.branch)
    digits = tree.member.person.id_number[-6:]
    response = client.get(f"/orgs/{tree.branch.pk}/members/", {"q": digits}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "false"


def test_htmx_search_by_name_keeps_the_address_bar_in_step(client, tree):
    client = login_as(client, tree.branch_admin, tree.branch)
    response = client.get(f"/orgs/{tree.branch.pk}/members/", {"q": "张"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Push-Url" not in response
