"""What the layout shows on every page: the cart count and the unread notifications."""

from functools import cache

from accounts import selectors as accounts_selectors
from cart import selectors as cart_selectors


def shop_navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    # Callables, so only pages that show the counts (not the admin's) query
    # the two services' databases, and each at most once per request.
    @cache
    def cart_count() -> int:
        return cart_selectors.cart_get(user_id=user.id).count

    @cache
    def unread_count() -> int:
        return accounts_selectors.inbox_unread_count(user_id=user.id)

    return {"cart_count": cart_count, "unread_count": unread_count}
