"""Searching a person: a contact's name finds the customer from the list's search box,
for everyone (names are shown to everyone), while the contact's hidden details (phone,
e-mail, WeChat) find it only for those who may see them."""

import pytest

from salesdesk.extensions import db
from salesdesk.ledger.models import Contact
from tests.fixtures.ledger import contact_form, make_customer


def html_of(response):
    return response.get_data(as_text=True)


@pytest.fixture
def hengda(client_as, world):
    """rep_a's customer, with 郭子豪 (phone and e-mail) beside the fixture's 王总."""
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司", phone="13812345678")
    response = client_as(world.rep_a).post(
        f"/customers/{customer.id}/contacts/new",
        data=contact_form(name="郭子豪", title="采购", phone="139 2222 7949", email="guo.zh@hengda.example"),
    )
    assert response.status_code == 303
    return customer


def found(client, query, htmx=False):
    response = client.get("/customers", query_string={"view": "all", "q": query}, htmx=htmx)
    assert response.status_code == 200
    return "苏州恒达精密机械有限公司" in html_of(response)


@pytest.mark.parametrize("query", ["郭子豪", "子豪", "王总", "郭子豪 "])
def test_a_contact_s_name_finds_the_customer_from_the_list_search(client_as, world, hengda, query):
    for user in (world.rep_a, world.rep_b, world.manager_b, world.support_a):
        client = client_as(user)
        assert found(client, query) and found(client, query, htmx=True), user.email


def test_a_hidden_contact_does_not_make_its_customer_findable(client_as, world, hengda):
    """rep_b sees 郭子豪's number and e-mail masked: they find nothing with them, while
    the owner and the owner's manager do. The name is no secret: rep_b's page shows it."""
    for query in ("27949", "139-2222-7949", "guo.zh@hengda", "hengda.example"):
        assert not found(client_as(world.rep_b), query), query
        assert not found(client_as(world.manager_b), query), query
        assert found(client_as(world.rep_a), query), query
        assert found(client_as(world.manager_a), query), query
    assert "郭子豪" in html_of(client_as(world.rep_b).get(f"/customers/{hengda.id}"))


def test_a_renamed_or_deleted_contact_finds_the_customer_by_its_new_name_only(client_as, world, hengda):
    rep = client_as(world.rep_a)
    contact = db.session.scalars(db.select(Contact).where(Contact.name == "郭子豪")).one()
    renamed = rep.post(
        f"/customers/{hengda.id}/contacts/{contact.id}/edit",
        data=contact_form(name="郭晓明", phone="13922227949", version=str(contact.version)),
    )
    assert renamed.status_code == 303
    assert not found(rep, "郭子豪") and found(rep, "郭晓明")
    assert rep.post(f"/customers/{hengda.id}/contacts/{contact.id}/delete").status_code == 303
    assert not found(rep, "郭晓明") and not found(rep, "7949")
    assert found(rep, "王总")  # the other contact still finds it


def test_a_deleted_customer_is_not_found_by_its_contacts(client_as, world):
    make_customer(world.admin, "已删除机械有限公司", phone="13700007777", owner=world.rep_a, deleted=True)
    for query in ("王总", "13700007777"):
        response = client_as(world.admin).get("/customers", query_string={"view": "all", "q": query})
        assert "已删除机械有限公司" not in html_of(response)


def test_the_row_shows_the_contact_the_name_search_found_masked_as_ever(client_as, world, hengda):
    """The customer's first contact is 王总: found by 郭子豪, its row shows 郭子豪 instead,
    with the number masked for rep_b, as everywhere."""
    row = html_of(client_as(world.rep_b).get("/customers", query_string={"view": "all", "q": "郭子豪"}))
    assert "郭子豪" in row and "139****7949" in row and "13922227949" not in row
    assert "王总" not in row
    everyone = {"view": "all", "q": "郭子豪"}
    owner_row = html_of(client_as(world.rep_a).get("/customers", query_string=everyone, htmx=True))
    assert "郭子豪" in owner_row and "139 2222 7949" in owner_row
    by_company = client_as(world.rep_b).get("/customers", query_string={"view": "all", "q": "恒达"})
    assert "王总" in html_of(by_company)
