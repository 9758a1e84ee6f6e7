"""The compatibility rules, on small pydantic models: each test changes one thing about a message."""

import uuid
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from shopsite.bus.compatibility import breaking_changes


def changes(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return breaking_changes(old.model_json_schema(), new.model_json_schema())


class Line(BaseModel):
    product_id: int
    quantity: int = Field(gt=0, le=100)


class Order(BaseModel):
    order_id: uuid.UUID
    lines: list[Line]
    note: str | None = None


def test_the_same_schema_changes_nothing():
    assert changes(Order, Order) == []


def test_a_new_optional_field_is_compatible():
    class Order2(Order):
        gift_wrap: bool = False

    assert changes(Order, Order2) == []


def test_words_for_people_are_not_changes():
    class Described(BaseModel):
        """Now with a description."""

        order_id: uuid.UUID = Field(title="Which order", description="the order", examples=[str(uuid.uuid4())])
        lines: list[Line]
        note: str | None = Field(default="none given")

    assert changes(Order, Described) == []


def test_reading_unknown_fields_tolerantly_or_not_is_not_a_change_of_the_message():
    class Strict(Order):
        model_config = ConfigDict(extra="forbid")

    assert changes(Strict, Order) == []
    assert changes(Order, Strict) == []


def test_a_removed_field_breaks():
    class Order2(BaseModel):
        order_id: uuid.UUID
        lines: list[Line]

    assert changes(Order, Order2) == ["field note removed"]


def test_a_retyped_field_breaks():
    class Order2(BaseModel):
        order_id: str
        lines: list[Line]
        note: str | None = None

    assert changes(Order, Order2) == ["field order_id changed type string (uuid) -> string"]


def test_a_new_required_field_breaks():
    class Order2(Order):
        currency: str

    assert changes(Order, Order2) == ["new required field currency"]


def test_an_optional_field_become_required_breaks_and_so_does_the_reverse():
    class Order2(BaseModel):
        order_id: uuid.UUID
        lines: list[Line]
        note: str | None

    assert changes(Order, Order2) == [
        "field note became required (messages valid before are refused without it)"]
    assert changes(Order2, Order) == [
        "field note became optional (consumers on the old schema would refuse the new messages without it)"]


def test_a_field_retyped_inside_a_list_of_records_breaks_and_is_named_by_its_path():
    class Line2(BaseModel):
        product_id: int
        quantity: str

    class Order2(Order):
        lines: list[Line2]

    assert changes(Order, Order2) == ["field lines[].quantity changed type integer -> string"]


def test_a_record_renamed_in_defs_with_the_same_fields_is_the_same_record():
    class OrderLine(Line):
        pass

    class Order2(Order):
        lines: list[OrderLine]

    assert changes(Order, Order2) == []


class Home(BaseModel):
    street: str


class PickupPoint(BaseModel):
    code: str


class Parcel(BaseModel):
    to: Home | PickupPoint | None


def test_a_member_of_a_union_of_records_is_compared_field_by_field():
    class PickupPoint(BaseModel):
        code: int

    class Parcel2(BaseModel):
        to: Home | PickupPoint | None

    assert changes(Parcel, Parcel2) == ["field to<PickupPoint>.code changed type string -> integer"]


def test_a_union_narrowed_or_widened_breaks():
    class NotNull(BaseModel):
        to: Home | PickupPoint

    assert changes(Parcel, NotNull) == ["field to changed type Home | PickupPoint | null -> Home | PickupPoint"]
    assert changes(NotNull, Parcel) == ["field to changed type Home | PickupPoint -> Home | PickupPoint | null"]


def test_a_nullable_field_made_non_nullable_breaks():
    class Order2(BaseModel):
        order_id: uuid.UUID
        lines: list[Line]
        note: str = ""

    assert changes(Order, Order2) == ["field note changed type string | null -> string"]


def test_a_literal_losing_a_value_breaks_and_gaining_one_breaks_too():
    class Cancelled(BaseModel):
        reason: Literal["out_of_stock", "payment_declined"]

    class Fewer(BaseModel):
        reason: Literal["out_of_stock"]

    class More(BaseModel):
        reason: Literal["out_of_stock", "payment_declined", "staff_request"]

    assert changes(Cancelled, Fewer) == [
        "field reason no longer takes 'payment_declined' (messages valid before are refused)"]
    assert changes(Cancelled, More) == [
        "field reason now also takes 'staff_request' (consumers on the old schema would refuse the new messages)"]


def test_a_literal_made_a_plain_string_breaks():
    class Cancelled(BaseModel):
        reason: Literal["out_of_stock", "payment_declined"]

    class Free(BaseModel):
        reason: str

    assert changes(Cancelled, Free) == [
        "field reason now takes any value, not only 'out_of_stock', 'payment_declined' "
        "(consumers on the old schema would refuse the new messages)"]


def test_a_tightened_constraint_breaks_and_a_loosened_one_too():
    class Line2(BaseModel):
        product_id: int
        quantity: int = Field(gt=0, le=50)

    class Line3(BaseModel):
        product_id: int
        quantity: int = Field(ge=1, le=100)

    assert changes(Line, Line2) == [
        "field quantity: maximum lowered 100 -> 50 (messages valid before are refused)"]
    assert changes(Line2, Line) == [
        "field quantity: maximum raised 50 -> 100 (consumers on the old schema would refuse the new messages)"]
    assert changes(Line, Line3) == [
        "field quantity: exclusiveMinimum 0 removed (consumers on the old schema would refuse the new messages)",
        "field quantity: minimum 1 added (messages valid before are refused)",
    ]


def test_a_new_length_limit_or_pattern_breaks():
    class Named(BaseModel):
        name: str

    class Short(BaseModel):
        name: str = Field(max_length=10)

    class Shaped(BaseModel):
        name: str = Field(pattern=r"^[a-z]+$")

    assert changes(Named, Short) == ["field name: maxLength 10 added (messages valid before are refused)"]
    assert changes(Named, Shaped) == ["field name: pattern '^[a-z]+$' added (messages valid before are refused)"]


def test_a_mapping_whose_values_are_retyped_breaks():
    class Counts(BaseModel):
        per_product: dict[str, int]

    class Counts2(BaseModel):
        per_product: dict[str, str]

    assert changes(Counts, Counts2) == ["field per_product{} changed type integer -> string"]


class Category(BaseModel):
    name: str
    parent: Optional["Category"] = None


def test_a_record_that_contains_itself_is_compared_once():
    class Category2(BaseModel):
        name: int
        parent: Optional["Category2"] = None

    assert changes(Category, Category) == []
    assert changes(Category, Category2) == ["field name changed type string -> integer"]


def test_every_breaking_change_is_reported_not_only_the_first():
    class Line2(BaseModel):
        product_id: str
        quantity: int = Field(gt=0, le=100)

    class Order2(BaseModel):
        lines: list[Line2]
        note: str | None = None
        currency: str

    assert changes(Order, Order2) == [
        "new required field currency",
        "field lines[].product_id changed type integer -> string",
        "field order_id removed",
    ]
