"""Presentation helpers shared by every page: money and the product placeholder tile."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}


@register.filter
def money(value, currency: str = "USD") -> str:
    """``1234.5`` -> ``$1,234.50``; the amount is never rounded by float."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = CURRENCY_SIGNS.get(currency)
    text = f"{abs(amount):,.2f}"
    text = f"{sign}{text}" if sign else f"{text} {currency}"
    return f"-{text}" if amount < 0 else text


def _hue(seed: str) -> int:
    # Stable across processes and restarts, unlike hash().
    return int(hashlib.sha1(seed.encode()).hexdigest()[:6], 16) % 360


def _initials(name: str) -> str:
    words = [word for word in name.replace("-", " ").split() if word[:1].isalnum()]
    # First and last word: "Oak Camping Mug" reads as OM, not OC like its neighbours.
    return "".join(word[0] for word in (words[:1] + words[1:][-1:])).upper() or "?"


@register.inclusion_tag("shop/partials/product_tile.html")
def product_tile(sku: str, name: str, size: str = "md"):
    """A coloured tile with the product's initials, standing in for a photo."""
    return {"hue": _hue(sku or name), "initials": _initials(name), "size": size, "name": name}
