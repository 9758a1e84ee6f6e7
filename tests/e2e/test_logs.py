"""Every log line written while handling a flow's messages names that flow."""

import re

import pytest

pytestmark = pytest.mark.e2e


def test_log_lines_of_a_checkout_carry_its_correlation_id(shop, new_product):
    product = new_product(stock=5)
    customer = shop.customer()
    customer.add_to_cart(product["id"], 1)
    response = customer.checkout(customer.card("4242424242424242"))
    assert response.status_code == 202, response.text
    order_id, checkout_id = response.json()["order_id"], response.json()["checkout_id"]
    customer.order_when(order_id, {"confirmed"})

    def lines_about_the_order() -> list[str]:
        return [line for name in ("orders", "payments", "notifications")
                for line in shop.log(name).splitlines() if order_id in line]

    from .shop import wait_for

    lines = wait_for(lambda: (found := lines_about_the_order()) and len(found) >= 4 and found,
                     what="the flow's log lines")
    assert all(re.match(r"ts=\S+ \S+ level=\w+ logger=\S+ correlation_id=\S+ msg=", line) for line in lines)
    assert all(f"correlation_id={checkout_id}" in line for line in lines), lines
    assert any("charged order" in line for line in lines)
    assert any("sent order_confirmed email" in line for line in lines)
