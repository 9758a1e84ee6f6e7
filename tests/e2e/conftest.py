import uuid

import pytest

from shopsite.bus.names import Names

from .shop import Shop, wait_for

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
    """Create a product through the staff API once the catalog knows the staff role."""

    def create(stock: int, price: str = "12.50") -> dict:
        sku = f"E2E-{uuid.uuid4().hex[:8]}"
        body = {"sku": sku, "name": f"Test product {sku}", "price": price, "stock": stock}

        def created():
            response = shop.call("POST", "/api/catalog/products/", token=staff_token, json=body)
            assert response.status_code in (201, 403), response.text
            return response.json() if response.status_code == 201 else None

        return wait_for(created, what="the catalog to know the staff role")

    return create
