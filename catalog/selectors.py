"""Reads of the catalog service."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, QuerySet

from shopsite.errors import ApplicationError, NotFound

from .models import Product

ORDERINGS = {"price": ("price", "id"), "-price": ("-price", "id"), "name": ("name", "id"), "-name": ("-name", "id")}


def product_list(
    *,
    search: str | None = None,
    category: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    ordering: str | None = None,
    active_only: bool = True,
) -> QuerySet[Product]:
    products = Product.objects.all()
    if active_only:
        products = products.filter(is_active=True)
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if category:
        products = products.filter(category=category)
    if min_price is not None:
        products = products.filter(price__gte=min_price)
    if max_price is not None:
        products = products.filter(price__lte=max_price)
    if ordering:
        if ordering not in ORDERINGS:
            raise ApplicationError(f"Cannot order by {ordering!r}.", {"allowed": sorted(ORDERINGS)})
        products = products.order_by(*ORDERINGS[ordering])
    return products


def product_get(*, product_id: int, active_only: bool = False) -> Product:
    products = Product.objects.filter(is_active=True) if active_only else Product.objects.all()
    product = products.filter(pk=product_id).first()
    if product is None:
        raise NotFound("Unknown product.", {"product_id": product_id})
    return product


def category_list() -> list[str]:
    """The categories that have something on sale, for a shopper's filter."""
    categories = Product.objects.filter(is_active=True).exclude(category="").values_list("category", flat=True)
    return sorted(set(categories))
