import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(databases="__all__")


def names(response) -> list[str]:
    return [product.name for product in response.context["page"].object_list]


@pytest.fixture
def shelf(make_product):
    return {
        "mug": make_product(name="Blue Mug", price="9.50", stock=3, category="kitchen"),
        "pot": make_product(name="Teapot", price="30.00", stock=20, category="kitchen"),
        "tee": make_product(name="Cotton Tee", price="20.00", stock=0, category="apparel"),
        "old": make_product(name="Retired Mug", price="5.00", is_active=False),
    }


def test_the_home_page_lists_what_is_on_sale(client, shelf):
    response = client.get(reverse("catalog-home"))

    assert response.status_code == 200
    assert names(response) == ["Blue Mug", "Cotton Tee", "Teapot"]
    assert "$9.50" in response.text
    assert 'id="search"' in response.text and 'name="q"' in response.text


def test_search_category_price_and_sort(client, shelf):
    assert names(client.get("/", {"q": "mug"})) == ["Blue Mug"]
    assert names(client.get("/", {"category": "kitchen", "sort": "-price"})) == ["Teapot", "Blue Mug"]
    assert names(client.get("/", {"min_price": "10", "max_price": "25"})) == ["Cotton Tee"]
    assert names(client.get("/", {"sort": "price"})) == ["Blue Mug", "Cotton Tee", "Teapot"]


def test_the_search_box_keeps_what_was_searched(client, shelf):
    response = client.get("/", {"q": "mug"})

    assert 'value="mug"' in response.text


@pytest.mark.parametrize(
    "query, message",
    [
        ({"min_price": "cheap"}, "Enter a number."),
        ({"min_price": "-1"}, "greater than or equal to 0"),
        ({"min_price": "5", "max_price": "1"}, "must not be below the min price"),
        ({"category": "weapons"}, "Select a valid choice."),
        ({"sort": "stock"}, "Select a valid choice."),
    ],
)
def test_invalid_filters_show_a_message_and_the_rest_still_applies(client, shelf, query, message):
    response = client.get("/", {"q": "mug", **query})

    assert response.status_code == 200
    assert "Some filters were ignored" in response.text
    assert message in response.text
    assert names(response) == ["Blue Mug"]


def test_pagination_keeps_the_filters(client, make_product):
    for n in range(15):
        make_product(name=f"Mug {n:02d}", category="kitchen")

    first = client.get("/", {"category": "kitchen"})
    assert len(names(first)) == 12
    assert 'href="?category=kitchen&amp;page=2"' in first.text

    second = client.get("/", {"category": "kitchen", "page": "2"})
    assert names(second) == ["Mug 12", "Mug 13", "Mug 14"]
    assert client.get("/", {"page": "nonsense"}).status_code == 200


def test_cards_have_a_placeholder_from_the_sku_and_an_add_to_cart_form(client, shelf):
    response = client.get("/")

    assert 'class="tile tile--lg" style="--hue:' in response.text
    assert ">BM</span>" in response.text
    assert response.text.count(">Add to cart</button>") == 3
    assert f'action="{reverse("cart-add")}"' in response.text


@pytest.mark.parametrize("product, availability", [("mug", "3 left"), ("pot", "In stock"), ("tee", "Out of stock")])
def test_the_product_page_shows_price_and_availability(client, shelf, product, availability):
    response = client.get(reverse("catalog-product-detail", args=[shelf[product].id]))

    assert response.status_code == 200
    assert availability in response.text
    assert f'id="product-price">${shelf[product].price}<' in response.text


def test_an_out_of_stock_product_cannot_be_added(client, shelf):
    response = client.get(reverse("catalog-product-detail", args=[shelf["tee"].id]))

    assert 'disabled>Add to cart</button>' in response.text


def test_retired_and_unknown_products_are_404(client, shelf):
    assert client.get(reverse("catalog-product-detail", args=[shelf["old"].id])).status_code == 404
    assert client.get(reverse("catalog-product-detail", args=[99999])).status_code == 404
