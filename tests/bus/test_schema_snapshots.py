"""The committed schema snapshots (docs/schemas/) against the contracts, and manage.py message_schemas."""

import json
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pydantic import Field, create_model

from shopsite import contracts
from shopsite.bus.compatibility import breaking_changes
from shopsite.bus.schemas import SNAPSHOTS, Status, contract_verdict, message_schema, snapshot_path, stray_snapshots
from shopsite.bus.schemas import verdict as snapshot_verdict
from shopsite.limits import MAX_LINES


@pytest.mark.parametrize("message_type", sorted(contracts.MESSAGE_TYPES))
def test_each_message_type_matches_the_snapshot_of_its_version(message_type):
    contract = contracts.MESSAGE_TYPES[message_type]
    found = contract_verdict(contract)

    if found.status is Status.BREAKING:
        pytest.fail("\n".join([*found.changes, f"A breaking change needs {contract.__name__}.VERSION = "
                               f"{contract.VERSION + 1} and an upcaster from {contract.VERSION} (docs/schemas.md)"]))
    assert found.status is Status.SAME, (
        f"{found.path.name}: {found.status.value}; run `manage.py message_schemas` and commit the snapshot")


def test_every_snapshot_on_disk_is_of_a_message_type_and_version_that_exists():
    assert stray_snapshots() == []


def test_a_type_past_version_one_still_reads_the_previous_version():
    for contract in contracts.MESSAGE_TYPES.values():
        if contract.VERSION > 1:
            assert contract.VERSION - 1 in contract.UPCASTERS, contract.TYPE


def frozen(message_type: str, version: int) -> dict:
    return json.loads(snapshot_path(message_type, version).read_text())


def test_the_version_1_snapshots_differ_from_version_2_where_the_bump_was_needed():
    assert breaking_changes(frozen("cart.checked_out", 1), frozen("cart.checked_out", 2)) == [
        "field shipping_address changed type string -> Address | LegacyAddress"]
    assert breaking_changes(frozen("order.confirmed", 1), frozen("order.confirmed", 2)) == [
        "new required field shipping_address"]
    assert breaking_changes(frozen("order.shipped", 1), frozen("order.shipped", 2)) == [
        "new required field shipping_address"]


# --- a real contract, changed ---------------------------------------------


def check(variant, *, like=None, version=None):
    """How ``variant`` would stand against the committed snapshots, were it the contract it changes: its direct
    base class, or ``like`` when it is not a subclass (a field cannot be removed by subclassing)."""
    contract = like or variant.__bases__[0]
    return snapshot_verdict(contract.TYPE, version or contract.VERSION, message_schema(variant))


def without(contract, field: str):
    fields = {name: (info.annotation, info) for name, info in contract.model_fields.items() if name != field}
    return create_model(contract.__name__, __config__=contract.model_config, **fields)


def with_text_quantities():
    """cart.checked_out whose lines give their quantity as text."""
    class QuantityAsText(contracts.CheckoutLine):
        quantity: str

    class CheckedOutWithTextQuantities(contracts.CartCheckedOut):
        lines: list[QuantityAsText] = Field(min_length=1, max_length=MAX_LINES)

    return CheckedOutWithTextQuantities


def test_a_nested_field_retyped_in_a_real_contract_fails_the_check():
    found = check(with_text_quantities())

    assert found.status is Status.BREAKING
    assert found.changes == ["cart.checked_out v2: field lines[].quantity changed type integer -> string"]


def test_a_field_removed_from_a_real_contract_fails_the_check():
    found = check(without(contracts.PaymentSucceeded, "charge_id"), like=contracts.PaymentSucceeded)

    assert found.status is Status.BREAKING
    assert found.changes == ["payment.succeeded v1: field charge_id removed"]


def test_a_new_required_field_in_a_real_contract_fails_the_check():
    class ShippedWithCarrier(contracts.OrderShipped):
        carrier: str

    assert check(ShippedWithCarrier).changes == ["order.shipped v2: new required field carrier"]


def test_a_new_optional_field_in_a_real_contract_passes_the_check_and_asks_for_a_new_snapshot():
    class RegisteredWithLocale(contracts.UserRegistered):
        locale: str | None = None

    class ShippedWithCarrier(contracts.OrderShipped):
        carrier: str | None = Field(default=None, max_length=100)

    for variant in (RegisteredWithLocale, ShippedWithCarrier):
        found = check(variant)
        assert (found.status, found.changes) == (Status.COMPATIBLE, [])


def test_a_breaking_change_with_its_version_bumped_passes_the_check():
    found = check(with_text_quantities(), version=3)

    assert (found.status, found.path.name) == (Status.NEW, "cart.checked_out.v3.json")


# --- the command ----------------------------------------------------------


@pytest.fixture
def snapshots(tmp_path):
    """A copy of the committed snapshots, for the command to change."""
    directory = tmp_path / "schemas"
    shutil.copytree(SNAPSHOTS, directory)
    return directory


def run(directory, *arguments) -> str:
    out = StringIO()
    call_command("message_schemas", "--directory", str(directory), *arguments, stdout=out)
    return out.getvalue()


def edit(path, change) -> None:
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema))


def test_the_command_finds_the_committed_snapshots_up_to_date(snapshots):
    assert "up to date" in run(snapshots, "--check")


def test_the_command_writes_a_compatible_change_that_check_only_reports(snapshots):
    # as though the image fields had just been added to the checkout's lines
    edit(snapshots / "cart.checked_out.v2.json", lambda s: s["$defs"]["CheckoutLine"]["properties"].pop("image_url"))
    frozen_before = (snapshots / "cart.checked_out.v1.json").read_bytes()

    with pytest.raises(CommandError, match="run `manage.py message_schemas`"):
        run(snapshots, "--check")
    assert "cart.checked_out.v2.json: changed compatibly, written" in run(snapshots)

    assert (snapshots / "cart.checked_out.v2.json").read_bytes() == (SNAPSHOTS / "cart.checked_out.v2.json").read_bytes()
    assert (snapshots / "cart.checked_out.v1.json").read_bytes() == frozen_before
    assert "up to date" in run(snapshots, "--check")


def test_the_command_refuses_to_overwrite_a_snapshot_with_a_breaking_change(snapshots):
    # as though the contract had just lost its required carrier field
    def with_carrier(schema):
        schema["properties"]["carrier"] = {"type": "string"}
        schema["required"].append("carrier")

    path = snapshots / "order.shipped.v2.json"
    edit(path, with_carrier)
    before = path.read_bytes()

    with pytest.raises(CommandError) as refused:
        run(snapshots)

    assert "order.shipped v2: field carrier removed" in str(refused.value)
    assert "set OrderShipped.VERSION = 3" in str(refused.value)
    assert path.read_bytes() == before


def test_the_command_writes_a_new_type_or_version_and_names_a_snapshot_of_no_type(snapshots):
    (snapshots / "user.registered.v1.json").unlink()
    (snapshots / "order.teleported.v1.json").write_text("{}")

    with pytest.raises(CommandError, match="order.teleported.v1.json: no message type of that name"):
        run(snapshots)

    assert (snapshots / "user.registered.v1.json").read_bytes() == (SNAPSHOTS / "user.registered.v1.json").read_bytes()


def test_a_version_read_through_an_upcaster_needs_its_snapshot(snapshots):
    (snapshots / "order.confirmed.v1.json").unlink()

    assert stray_snapshots(snapshots) == ["order.confirmed v1 is read through an upcaster but has no snapshot"]
