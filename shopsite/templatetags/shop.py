"""Presentation helpers shared by every page: money, ids as people are shown them, and the product's image or its
placeholder tile."""

from __future__ import annotations

import colorsys
import hashlib
from decimal import Decimal, InvalidOperation

from django import template

from shopsite.ids import short

register = template.Library()

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}


@register.filter
def short_id(value) -> str:
    """An id as people are shown it (an order's number): ``shopsite.ids.short``."""
    return short(value)


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
def product_tile(sku: str, name: str, size: str = "md", image_url: str = "", alt: str = ""):
    """The product's image when it has one, else a coloured tile with its initials standing in for a photo.

    ``alt`` is empty where the product's name is written next to the image (it would be read twice).
    """
    return {"hue": _hue(sku or name), "initials": _initials(name), "size": size, "name": name,
            "image_url": image_url, "alt": alt}


@register.inclusion_tag("shop/partials/email_product_tile.html")
def email_product_tile(sku: str, name: str, image_url: str = ""):
    """``product_tile`` for an HTML email: inline styles and plain colours, which every mail program reads."""
    hue = _hue(sku or name) / 360
    return {"initials": _initials(name), "image_url": image_url,
            "background": _hex(colorsys.hls_to_rgb(hue, 0.88, 0.6)), "color": _hex(colorsys.hls_to_rgb(hue, 0.28, 0.45))}


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in rgb)
