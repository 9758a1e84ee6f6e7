"""The address book's rules (accounts services and selectors) and the address's own (contracts.Address)."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from pydantic import ValidationError

from accounts.models import Address, User
from accounts.selectors import address_default, address_get, address_list
from accounts.services import address_create, address_delete, address_make_default, address_update, user_delete
from shopsite import contracts
from shopsite.addresses import address_parse
from shopsite.errors import ApplicationError, NotFound
from shopsite.limits import MAX_SAVED_ADDRESSES
from shopsite.testing import ADDRESS, an_address

pytestmark = pytest.mark.django_db(databases=["default"])


@pytest.fixture
def ann():
    return User.objects.create_user(email="ann@example.com", password="a-long-password", name="Ann")


@pytest.fixture
def bob():
    return User.objects.create_user(email="bob@example.com", password="a-long-password", name="Bob")


def book(user) -> list[tuple[str, bool]]:
    return [(address.line1, address.is_default) for address in address_list(user_id=user.id)]


# --- the address itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 151}, "name"),
        ({"name": "Ann\r\nBcc: everyone@example.com"}, "name"),
        ({"line1": ""}, "line1"),
        ({"line1": "l" * 201}, "line1"),
        ({"line1": "1\tMain St"}, "line1"),
        ({"line2": "l" * 201}, "line2"),
        ({"line2": "Flat\u20282"}, "line2"),
        ({"city": ""}, "city"),
        ({"city": "c" * 101}, "city"),
        ({"region": "r" * 101}, "region"),
        ({"region": "IL\u202e"}, "region"),
        ({"postal_code": ""}, "postal_code"),
        ({"postal_code": "1" * 21}, "postal_code"),
        ({"postal_code": "627\x0001"}, "postal_code"),
        ({"country": ""}, "country"),
        ({"country": "XX"}, "country"),
        ({"country": "us"}, "country"),  # the contract takes codes as they are: the API and the forms upper-case
        ({"country": "USA"}, "country"),
        ({"country": "EU"}, "country"),  # reserved, not a country
    ],
)
def test_each_field_of_an_address_is_checked(changes, field):
    with pytest.raises(ValidationError) as refused:
        contracts.Address(**{**ADDRESS, **changes})

    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_line2_and_region_may_be_left_out_and_every_field_is_trimmed():
    address = contracts.Address(name=" Ann ", line1=" Hauptstr. 1 ", city="Berlin", postal_code="10115", country="DE")

    assert (address.name, address.line1, address.line2, address.region) == ("Ann", "Hauptstr. 1", "", "")


def test_every_iso_3166_country_is_known_and_only_those():
    assert contracts.Address(**{**ADDRESS, "country": "AX"}).country == "AX"  # Åland Islands
    with pytest.raises(ValidationError, match="unknown country code 'ZZ'"):
        contracts.Address(**{**ADDRESS, "country": "ZZ"})


@pytest.mark.parametrize(
    ("changes", "lines"),
    [
        ({}, ["Casey Customer", "1 Main St", "Springfield, IL 62701", "United States"]),
        ({"country": "DE", "region": "", "postal_code": "10115", "city": "Berlin", "line2": "3. OG"},
         ["Casey Customer", "1 Main St", "3. OG", "10115 Berlin", "Germany"]),
        ({"country": "GB", "region": "", "postal_code": "SW1A 1AA", "city": "London"},
         ["Casey Customer", "1 Main St", "London", "SW1A 1AA", "United Kingdom"]),
        ({"country": "IT", "region": "RM", "postal_code": "00184", "city": "Roma"},
         ["Casey Customer", "1 Main St", "00184 Roma", "RM", "Italy"]),
    ],
)
def test_an_address_is_written_as_on_a_parcel(changes, lines):
    assert an_address(**changes).lines() == lines


def test_a_service_given_a_bad_address_names_each_field():
    with pytest.raises(ApplicationError) as refused:
        address_parse({**ADDRESS, "country": "XX", "city": ""})

    assert set(refused.value.extra["fields"]) == {"country", "city"}
    assert refused.value.extra["fields"]["country"] == [
        "Unknown country code 'XX': use an ISO 3166-1 alpha-2 code such as DE or US."
    ]


# --- the book ----------------------------------------------------------------------------------


def test_the_first_address_becomes_the_default_and_the_next_do_not(ann):
    address_create(user_id=ann.id, address=an_address(line1="1 Home Rd"))
    address_create(user_id=ann.id, address=an_address(line1="2 Work Ave"))

    assert book(ann) == [("1 Home Rd", True), ("2 Work Ave", False)]
    assert address_default(user_id=ann.id).line1 == "1 Home Rd"


def test_choosing_a_default_leaves_exactly_one(ann):
    home = address_create(user_id=ann.id, address=an_address(line1="1 Home Rd"))
    work = address_create(user_id=ann.id, address=an_address(line1="2 Work Ave"))

    address_make_default(user_id=ann.id, address_id=work.id)
    assert book(ann) == [("2 Work Ave", True), ("1 Home Rd", False)]

    address_make_default(user_id=ann.id, address_id=work.id)  # again: nothing changes
    address_create(user_id=ann.id, address=an_address(line1="3 New St"), is_default=True)
    assert book(ann) == [("3 New St", True), ("1 Home Rd", False), ("2 Work Ave", False)]
    assert home.id != work.id


def test_deleting_the_default_hands_it_to_the_oldest_address_left(ann):
    home = address_create(user_id=ann.id, address=an_address(line1="1 Home Rd"))
    address_create(user_id=ann.id, address=an_address(line1="2 Work Ave"))
    address_create(user_id=ann.id, address=an_address(line1="3 Gym Ln"))

    address_delete(user_id=ann.id, address_id=home.id)

    assert book(ann) == [("2 Work Ave", True), ("3 Gym Ln", False)]


def test_deleting_the_last_address_leaves_no_default(ann):
    only = address_create(user_id=ann.id, address=an_address())

    address_delete(user_id=ann.id, address_id=only.id)

    assert book(ann) == [] and address_default(user_id=ann.id) is None


def test_the_database_refuses_a_second_default_whatever_the_code_does(ann):
    address_create(user_id=ann.id, address=an_address())

    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        Address.objects.create(user=ann, is_default=True, **an_address(line1="2 Rogue St").model_dump())


def test_each_customer_has_a_default_of_their_own(ann, bob):
    address_create(user_id=ann.id, address=an_address(line1="1 Ann St"))
    address_create(user_id=bob.id, address=an_address(line1="1 Bob St"))

    assert book(ann) == [("1 Ann St", True)] and book(bob) == [("1 Bob St", True)]


def test_an_update_replaces_the_fields_and_keeps_the_default(ann):
    home = address_create(user_id=ann.id, address=an_address(line1="1 Home Rd"))

    address_update(user_id=ann.id, address_id=home.id, address=an_address(line1="1 New Home Rd", country="CA"))

    saved = address_get(user_id=ann.id, address_id=home.id)
    assert (saved.line1, saved.country, saved.is_default) == ("1 New Home Rd", "CA", True)


def test_the_book_holds_a_limited_number_of_addresses(ann):
    for n in range(MAX_SAVED_ADDRESSES):
        address_create(user_id=ann.id, address=an_address(line1=f"{n} Main St"))

    with pytest.raises(ApplicationError) as refused:
        address_create(user_id=ann.id, address=an_address(line1="One Too Many St"))

    assert refused.value.extra == {"max_addresses": MAX_SAVED_ADDRESSES}
    assert str(MAX_SAVED_ADDRESSES) in refused.value.message
    assert Address.objects.filter(user=ann).count() == MAX_SAVED_ADDRESSES
    # A deleted address frees its place.
    address_delete(user_id=ann.id, address_id=address_list(user_id=ann.id).last().id)
    address_create(user_id=ann.id, address=an_address(line1="Now It Fits St"))


@pytest.mark.parametrize(
    "operation",
    [
        lambda user, address_id: address_get(user_id=user.id, address_id=address_id),
        lambda user, address_id: address_update(user_id=user.id, address_id=address_id, address=an_address()),
        lambda user, address_id: address_delete(user_id=user.id, address_id=address_id),
        lambda user, address_id: address_make_default(user_id=user.id, address_id=address_id),
    ],
    ids=["get", "update", "delete", "make default"],
)
def test_another_customers_address_is_not_found_and_stays_as_it_was(ann, bob, operation):
    address_create(user_id=bob.id, address=an_address(line1="1 Bob St"))
    theirs = address_create(user_id=bob.id, address=an_address(line1="2 Bob St"))

    with pytest.raises(NotFound):
        operation(ann, theirs.id)
    with pytest.raises(NotFound):
        operation(ann, uuid.uuid4())

    assert book(bob) == [("1 Bob St", True), ("2 Bob St", False)]
    assert book(ann) == []


def test_a_bad_address_is_refused_before_anything_is_saved(ann):
    with pytest.raises(ApplicationError) as refused:
        address_create(user_id=ann.id, address={**ADDRESS, "postal_code": ""})

    assert list(refused.value.extra["fields"]) == ["postal_code"]
    assert not Address.objects.exists()


def test_a_deleted_user_takes_their_address_book_along(ann):
    address_create(user_id=ann.id, address=an_address())

    user_delete(user_id=ann.id)

    assert not Address.objects.exists()
