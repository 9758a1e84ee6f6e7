"""A customer and a member of staff in a real browser (Debian's Chromium), against the real processes."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from shopsite.ids import short

from .conftest import STAFF_PASSWORD
from .shop import wait_for

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, shop):
    context = browser.new_context(base_url=shop.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def snap(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def reload_until_inbox_shows(page: Page, pattern: str) -> None:
    """The inbox is filled by messages; reload it as a person would until the item arrives."""
    page.goto("/accounts/notifications/")

    def arrived() -> bool:
        if re.search(pattern, page.locator("#inbox").inner_text(), re.I):
            return True
        page.reload()
        return False

    wait_for(arrived, timeout=20, interval=0.3, what=f"{pattern!r} in the inbox")


def register(page: Page) -> str:
    email = f"b-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/accounts/register/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill("Robin Browser")
    page.get_by_label("Password").fill("a-long-browser-password")
    snap(page, "register")
    page.get_by_role("button", name=re.compile("register|create account", re.I)).click()
    # Registering says the same for a new and a taken address, and leads to the login page.
    expect(page.locator("body")).to_contain_text("log in with your email and password")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-long-browser-password")
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.locator("body")).to_contain_text("Robin")
    return email


def add_to_cart(page: Page, product_name: str) -> None:
    page.goto("/")
    page.locator("#search").fill(product_name)
    page.locator("#search").press("Enter")
    expect(page.get_by_text(product_name).first).to_be_visible()
    snap(page, "catalog-search")
    page.get_by_text(product_name).first.click()
    expect(page.locator("body")).to_contain_text(re.compile(r"left|in stock", re.I))
    snap(page, "product")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")


def fill_address(page: Page, *, name: str, line1: str, city: str, postal_code: str, country: str,
                 region: str = "") -> None:
    page.get_by_label("Full name", exact=True).fill(name)
    page.get_by_label("Address line 1", exact=True).fill(line1)
    page.get_by_label("City", exact=True).fill(city)
    if region:
        page.get_by_label("Region").fill(region)
    page.get_by_label("Postal code", exact=True).fill(postal_code)
    page.get_by_label("Country", exact=True).select_option(country)


def pay(page: Page, card: str, screenshot: str = "checkout") -> None:
    page.get_by_label(re.compile("card number", re.I)).fill(card)
    page.get_by_label(re.compile("month", re.I)).fill("12")
    page.get_by_label(re.compile("year", re.I)).fill("2031")
    page.get_by_label(re.compile("cvc", re.I)).fill("123")
    snap(page, screenshot)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}/$"))


def buy(page: Page, product_name: str, card: str) -> None:
    add_to_cart(page, product_name)
    page.goto("/cart/")
    snap(page, "cart")
    page.goto("/checkout/")
    fill_address(page, name="Robin Browser", line1="1 Browser Lane", city="Testville", postal_code="12345",
                 country="DE")
    pay(page, card)


def test_a_customer_buys_watches_the_order_confirm_and_reads_the_email(page, shop, new_product):
    product = new_product(stock=7, price="23.00")
    # The cart learns of new products from the bus; wait until it has.
    shop.customer().add_to_cart(product["id"], 1)
    register(page)

    buy(page, product["name"], "4242424242424242")

    expect(page.locator("#order-status")).to_have_text(re.compile("confirmed", re.I), timeout=20_000)
    expect(page.locator("#order-timeline")).to_contain_text(re.compile("notified", re.I), timeout=20_000)
    snap(page, "order-confirmed")
    reload_until_inbox_shows(page, "confirmed")
    snap(page, "inbox")
    page.goto("/orders/")
    snap(page, "order-history")
    order_url = page.url
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/")
    snap(page, "phone-catalog")
    page.go_back()
    page.goto("/cart/")
    snap(page, "phone-cart")
    page.goto(order_url)
    snap(page, "phone-orders")


def add_to_address_book(page: Page, **address) -> None:
    page.goto("/accounts/addresses/")
    page.locator("main").get_by_role("link", name="Add an address").first.click()
    fill_address(page, **address)
    snap(page, "address-form")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator("#address-book")).to_contain_text(address["line1"])


def test_a_customer_keeps_addresses_and_checks_out_with_the_default_one(page, shop, new_product):
    product = new_product(stock=5, price="15.00")
    shop.customer().add_to_cart(product["id"], 1)
    register(page)
    page.goto("/accounts/addresses/")
    expect(page.locator("main")).to_contain_text("No addresses yet")

    add_to_address_book(page, name="Robin Browser", line1="1 Home Road", city="Springfield", region="IL",
                        postal_code="62701", country="US")
    add_to_address_book(page, name="Robin at Work", line1="22 Office Park", city="Berlin", postal_code="10115",
                        country="DE")
    snap(page, "address-book")
    cards = page.locator("#address-book > li")
    expect(cards.first).to_contain_text("1 Home Road")
    expect(page.locator(".address-card--default")).to_contain_text("1 Home Road")  # the first one

    page.get_by_role("button", name="Make the address of Robin at Work, 22 Office Park your default").click()
    expect(page.locator(".address-card--default")).to_contain_text("22 Office Park")
    expect(cards.first).to_contain_text("22 Office Park")  # the default comes first
    expect(page.locator(".address-card--default")).to_contain_text("10115 Berlin")
    snap(page, "address-book-new-default")

    add_to_cart(page, product["name"])
    page.goto("/checkout/")
    chosen = page.locator("#ship-to input[type=radio]:checked")
    expect(chosen).to_have_count(1)
    expect(page.locator("#ship-to label").filter(has=page.locator("input:checked"))).to_contain_text("22 Office Park")
    expect(page.locator("#new-address")).to_be_hidden()  # a saved address is chosen: no fields to fill
    snap(page, "checkout-with-saved-address")
    page.locator("#ship-to").get_by_text("A new address").click()
    expect(page.locator("#new-address")).to_be_visible()
    page.locator("#ship-to label").filter(has_text="22 Office Park").click()
    expect(page.locator("#new-address")).to_be_hidden()
    pay(page, "4242424242424242", screenshot="checkout-with-saved-address-filled")

    address = page.locator("#order-address")
    expect(address).to_contain_text("Robin at Work")
    expect(address).to_contain_text("22 Office Park")
    expect(address).to_contain_text("10115 Berlin")
    expect(address).to_contain_text("Germany")
    expect(page.locator("#order-status")).to_have_text(re.compile("confirmed", re.I), timeout=20_000)
    snap(page, "order-with-saved-address")


def test_a_declined_card_shows_its_message(page, shop, new_product):
    product = new_product(stock=3)
    shop.customer().add_to_cart(product["id"], 1)
    register(page)

    buy(page, product["name"], "4000000000000002")

    expect(page.locator("#order-status")).to_have_text(re.compile("cancelled", re.I), timeout=20_000)
    expect(page.locator("body")).to_contain_text(re.compile("declined", re.I))
    snap(page, "order-declined")
    order_number = short(page.url.rstrip("/").rsplit("/", 1)[-1])

    # The cart gives the declined order's lines back, saying why (the message may still be on its way).
    def restored() -> bool:
        page.goto("/cart/")
        return page.locator("#cart-notices").count() > 0

    wait_for(restored, timeout=20, interval=0.3, what="the declined order's lines back in the cart")
    expect(page.locator("#cart-notices")).to_contain_text(
        f"{product['name']} is back in your cart: your order #{order_number} was cancelled because the payment "
        "was declined.")
    expect(page.locator("#cart-lines")).to_contain_text(product["name"])
    snap(page, "cart-restored")


def order_again(page: Page, product_id: int) -> str:
    """Put the product in the cart from its page and check out at once; the new order's number."""
    page.goto(f"/products/{product_id}/")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")
    page.goto("/checkout/")
    fill_address(page, name="Robin Browser", line1="1 Browser Lane", city="Testville", postal_code="12345",
                 country="DE")
    pay(page, "4242424242424242", screenshot="checkout-again")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_two_quick_orders_in_a_row(page, shop, new_product):
    product = new_product(stock=5, price="7.00")
    shop.customer().add_to_cart(product["id"], 1)
    register(page)

    first = order_again(page, product["id"])
    # Straight back to the cart, without waiting for the order: it is already empty.
    page.goto("/cart/")
    expect(page.locator("main")).to_contain_text("Your cart is empty")
    expect(page.locator("#cart-count")).to_have_text("0")
    snap(page, "cart-after-checkout")
    second = order_again(page, product["id"])

    assert first != second

    def both_confirmed() -> bool:
        page.goto("/orders/")
        return page.locator("#orders .order-row").filter(has_text=re.compile("confirmed", re.I)).count() == 2

    wait_for(both_confirmed, timeout=30, interval=0.3, what="both orders confirmed on the order list")
    rows = page.locator("#orders .order-row")
    expect(rows).to_have_count(2)
    for number in (first, second):
        expect(page.locator("#orders")).to_contain_text(f"Order #{short(number)}")
    expect(rows.nth(0)).to_contain_text(f"1 × {product['name']}")
    expect(rows.nth(1)).to_contain_text(f"1 × {product['name']}")
    snap(page, "orders-two-in-a-row")
    page.goto("/cart/")
    expect(page.locator("main")).to_contain_text("Your cart is empty")


def test_staff_ships_in_the_admin_and_the_customer_sees_it(browser, page, shop, new_product):
    product = new_product(stock=4)
    shop.customer().add_to_cart(product["id"], 1)
    register(page)
    buy(page, product["name"], "4242424242424242")
    expect(page.locator("#order-status")).to_have_text(re.compile("confirmed", re.I), timeout=20_000)
    order_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    staff = browser.new_context(base_url=shop.base_url, viewport={"width": 1400, "height": 1000}).new_page()
    staff.goto("/admin/login/")
    staff.locator("#id_username").fill("staff@shop.test")
    staff.locator("#id_password").fill(STAFF_PASSWORD)
    staff.locator("input[type=submit]").click()
    staff.goto("/admin/orders/order/")
    staff.locator(f"input[name=_selected_action][value='{order_id}']").check()
    staff.locator("select[name=action]").select_option("mark_shipped")
    staff.locator("button[name=index]").click()
    expect(staff.locator(".messagelist")).to_contain_text("marked shipped")
    snap(staff, "admin-orders")
    staff.context.close()

    page.reload()
    expect(page.locator("#order-status")).to_have_text(re.compile("shipped", re.I))
    reload_until_inbox_shows(page, "shipped")


def test_the_content_security_policy_blocks_nothing_the_shop_itself_uses(browser, shop, new_product):
    """The pages, the admin and the API browser each work under the policy, and it reports no refusal."""
    product = new_product(stock=2)
    context = browser.new_context(base_url=shop.base_url)
    page = context.new_page()
    refusals = []
    page.on("console", lambda message: refusals.append(message.text) if "Content Security Policy" in message.text
            else None)

    page.goto("/")
    assert "script-src 'self'" in page.evaluate("async () => (await fetch('/')).headers.get('content-security-policy')")
    page.goto(f"/products/{product['id']}/")
    expect(page.get_by_text(product["name"]).first).to_be_visible()
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Shop API")
    snap(page, "api-docs")
    page.goto("/admin/login/")
    page.locator("#id_username").fill("staff@shop.test")
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(f"/admin/catalog/product/{product['id']}/change/")
    expect(page.locator("#id_name")).to_have_value(product["name"])
    page.goto("/admin/bus/trace/")
    context.close()

    assert refusals == []


def test_an_injected_inline_script_does_not_run(page):
    page.goto("/")
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
    }""")

    assert page.evaluate("() => window.injected === undefined")
