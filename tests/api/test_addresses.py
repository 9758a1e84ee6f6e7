"""The address book API: /api/accounts/addresses/."""

import pytest

from accounts.models import Address, User
from accounts.services import address_create
from shopsite.limits import MAX_SAVED_ADDRESSES
from shopsite.testing import ADDRESS, an_address

from .conftest import ApiUser, assert_error, assert_unauthenticated, client_for

pytestmark = pytest.mark.django_db(databases=["default"])

ADDRESSES = "/api/accounts/addresses/"


def a_customer(email: str):
    user = User.objects.create_user(email=email, password="a-long-password", name=email.split("@")[0])
    return user, client_for(ApiUser(user.id))


@pytest.fixture
def ann():
    return a_customer("ann@example.com")


@pytest.fixture
def bob():
    return a_customer("bob@example.com")


def listed(client) -> list[tuple[str, bool]]:
    response = client.get(ADDRESSES)
    assert response.status_code == 200
    return [(address["line1"], address["is_default"]) for address in response.json()["results"]]


def test_an_added_address_is_answered_whole_and_listed(ann):
    _, client = ann

    response = client.post(ADDRESSES, {**ADDRESS, "line2": "Apt 4", "country": "us"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"], **ADDRESS, "line2": "Apt 4", "is_default": True,
        "lines": ["Casey Customer", "1 Main St", "Apt 4", "Springfield, IL 62701", "United States"],
    }
    assert client.get(f"{ADDRESSES}{body['id']}/").json() == body
    assert client.get(ADDRESSES).json()["count"] == 1


def test_the_default_is_listed_first_and_can_be_changed(ann):
    _, client = ann
    client.post(ADDRESSES, {**ADDRESS, "line1": "1 Home Rd"}, format="json")
    work = client.post(ADDRESSES, {**ADDRESS, "line1": "2 Work Ave"}, format="json").json()
    assert listed(client) == [("1 Home Rd", True), ("2 Work Ave", False)]

    response = client.post(f"{ADDRESSES}{work['id']}/default/")

    assert response.status_code == 200 and response.json()["is_default"] is True
    assert listed(client) == [("2 Work Ave", True), ("1 Home Rd", False)]


def test_a_new_address_can_be_made_the_default_at_once(ann):
    _, client = ann
    client.post(ADDRESSES, {**ADDRESS, "line1": "1 Home Rd"}, format="json")

    client.post(ADDRESSES, {**ADDRESS, "line1": "2 Work Ave", "is_default": True}, format="json")

    assert listed(client) == [("2 Work Ave", True), ("1 Home Rd", False)]


def test_put_replaces_an_address_and_patch_changes_some_fields(ann):
    _, client = ann
    saved = client.post(ADDRESSES, ADDRESS, format="json").json()
    url = f"{ADDRESSES}{saved['id']}/"

    replaced = client.put(url, {"name": "Dana", "line1": "5 Rue X", "city": "Paris", "postal_code": "75001",
                                "country": "FR"}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["lines"] == ["Dana", "5 Rue X", "75001 Paris", "France"]
    assert replaced.json()["region"] == "" and replaced.json()["is_default"] is True

    patched = client.patch(url, {"line2": "Bât. B"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["lines"] == ["Dana", "5 Rue X", "Bât. B", "75001 Paris", "France"]


def test_delete_removes_an_address_and_passes_the_default_on(ann):
    _, client = ann
    home = client.post(ADDRESSES, {**ADDRESS, "line1": "1 Home Rd"}, format="json").json()
    client.post(ADDRESSES, {**ADDRESS, "line1": "2 Work Ave"}, format="json")

    response = client.delete(f"{ADDRESSES}{home['id']}/")

    assert response.status_code == 204
    assert listed(client) == [("2 Work Ave", True)]
    assert_error(client.get(f"{ADDRESSES}{home['id']}/"), 404)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"country": "XX"}, "country", "Unknown country code “XX”: use an ISO 3166-1 alpha-2 code such as DE or US."),
        ({"country": " "}, "country", "This field may not be blank."),
        ({"country": ["DE"]}, "country", "Unknown country code “['DE']”: use an ISO 3166-1 alpha-2 code such as DE or US."),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"line1": "l" * 201}, "line1", "Ensure this field has no more than 200 characters."),
        ({"line2": "Flat 2\n"}, None, None),  # a line break at the end is trimmed away: accepted
        ({"city": "Spring\nfield"}, "city", "Must not contain control characters such as line breaks or tabs."),
        ({"region": "r" * 101}, "region", "Ensure this field has no more than 100 characters."),
        ({"postal_code": "1" * 21}, "postal_code", "Ensure this field has no more than 20 characters."),
        ({"postal_code": 62701}, None, None),  # a number is taken as its digits
        ({"is_default": "perhaps"}, "is_default", "Must be a valid boolean."),
    ],
)
def test_each_bad_field_is_a_400_naming_it(ann, changes, field, message):
    _, client = ann

    response = client.post(ADDRESSES, {**ADDRESS, **changes}, format="json")

    if field is None:
        assert response.status_code == 201, response.content
        return
    assert assert_error(response, 400)["extra"]["fields"] == {field: [message]}
    assert not Address.objects.exists()


def test_every_missing_field_is_named(ann):
    _, client = ann

    body = assert_error(client.post(ADDRESSES, {"line2": "Flat 2"}, format="json"), 400)

    assert set(body["extra"]["fields"]) == {"name", "line1", "city", "postal_code", "country"}


def test_a_bad_patch_is_a_400_and_changes_nothing(ann):
    _, client = ann
    saved = client.post(ADDRESSES, ADDRESS, format="json").json()

    body = assert_error(client.patch(f"{ADDRESSES}{saved['id']}/", {"country": "XX", "city": ""}, format="json"), 400)

    assert set(body["extra"]["fields"]) == {"country", "city"}
    assert client.get(f"{ADDRESSES}{saved['id']}/").json() == saved


def test_the_book_is_full_at_its_limit(ann):
    user, client = ann
    for n in range(MAX_SAVED_ADDRESSES):
        address_create(user_id=user.id, address=an_address(line1=f"{n} Main St"))

    body = assert_error(client.post(ADDRESSES, ADDRESS, format="json"), 400)

    assert body["extra"] == {"max_addresses": MAX_SAVED_ADDRESSES}
    assert client.get(ADDRESSES).json()["count"] == MAX_SAVED_ADDRESSES


def test_another_customers_address_is_a_404_for_every_operation(ann, bob):
    _, client = ann
    bob_user, bob_client = bob
    address_create(user_id=bob_user.id, address=an_address(line1="1 Bob St"))
    theirs = address_create(user_id=bob_user.id, address=an_address(line1="2 Bob St"))
    url = f"{ADDRESSES}{theirs.id}/"

    for response in (client.get(url), client.put(url, ADDRESS, format="json"),
                     client.patch(url, {"city": "X"}, format="json"), client.delete(url),
                     client.post(f"{url}default/")):
        assert assert_error(response, 404)["message"] == "Unknown address"

    assert listed(client) == []
    assert listed(bob_client) == [("1 Bob St", True), ("2 Bob St", False)]


def test_the_address_book_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(ADDRESSES))
    assert_unauthenticated(anonymous.post(ADDRESSES, ADDRESS, format="json"))
