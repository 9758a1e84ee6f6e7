import uuid

import pytest

from shopsite.bus.names import Names

from .shop import Shop

STAFF_PASSWORD = "staff-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    shop = Shop(tmp_path_factory.mktemp("shop")).up()
    shop.manage("load_demo", "--password", STAFF_PASSWORD, "--products", "3")
    yield shop
    codes = shop.down()
    _delete_topology(shop.env["BUS_PREFIX"], [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")])
    assert codes == {name: 0 for name in codes}, f"a process did not exit cleanly on SIGTERM: {codes}"


def _delete_topology(prefix: str, retry_delays: list[float]) -> None:
    from tests.conftest import delete_topology

    delete_topology(Names(prefix), retry_delays)


@pytest.fixture(scope="session")
def staff_token(shop):
    response = shop.call("POST", "/api/accounts/token/", json={"email": "staff@shop.test", "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def new_product(shop, staff_token):
    """Create a product through the staff API (the demo's staff account is a superuser: no waiting on any replica)."""

    def create(stock: int, price: str = "12.50") -> dict:
        sku = f"E2E-{uuid.uuid4().hex[:8]}"
        body = {"sku": sku, "name": f"Test product {sku}", "price": price, "stock": stock}
        response = shop.call("POST", "/api/catalog/products/", token=staff_token, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return create
