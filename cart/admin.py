from django.contrib import admin

from shopsite.bus.admin import ReadOnlyAdmin, register_bus_models

from .models import Cart, CartLine, Checkout, CheckoutLine, InboxMessage, OutboxMessage, ProductReplica


@admin.register(ProductReplica)
class ProductReplicaAdmin(ReadOnlyAdmin):
    """A copy of the catalog's data: it is changed in the catalog, never here."""

    list_display = ["product_id", "sku", "name", "price", "is_active", "available", "version", "updated_at"]
    search_fields = ["sku", "name", "product_id"]
    list_filter = ["is_active", "updated_at"]
    readonly_fields = [
        "product_id", "sku", "name", "price", "is_active", "available", "version", "stock_version", "updated_at",
    ]


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["product_id", "quantity", "notice", "added_at", "updated_at"]
    readonly_fields = fields


# A cart is the customer's: it changes only through the cart service, which
# checks quantities against what the catalog says is available.
@admin.register(Cart)
class CartAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "created_at", "updated_at"]
    search_fields = ["user_id"]
    list_filter = ["updated_at"]
    date_hierarchy = "updated_at"
    readonly_fields = ["user_id", "created_at", "updated_at"]
    inlines = [CartLineInline]


@admin.register(CartLine)
class CartLineAdmin(ReadOnlyAdmin):
    list_display = ["cart", "product_id", "quantity", "notice", "updated_at"]
    search_fields = ["cart__user_id", "product_id", "notice"]
    list_filter = ["updated_at"]
    list_select_related = ["cart"]
    readonly_fields = ["cart", "product_id", "quantity", "notice", "added_at", "updated_at"]


class CheckoutLineInline(admin.TabularInline):
    model = CheckoutLine
    extra = 0
    fields = ["product_id", "sku", "name", "unit_price", "quantity"]
    readonly_fields = fields


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "user_id", "order_id", "total", "created_at", "placed_at", "restored_at"]
    search_fields = ["id", "order_id", "user_id", "idempotency_key"]
    list_filter = ["created_at", "restored_at"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "user_id", "idempotency_key", "order_id", "total", "created_at", "placed_at",
                       "restored_at"]
    inlines = [CheckoutLineInline]



@admin.register(CheckoutLine)
class CheckoutLineAdmin(ReadOnlyAdmin):
    list_display = ["checkout", "product_id", "sku", "name", "unit_price", "quantity"]
    search_fields = ["checkout__id", "checkout__order_id", "checkout__user_id", "product_id", "sku", "name"]
    list_filter = ["checkout__created_at"]
    list_select_related = ["checkout"]
    readonly_fields = ["checkout", "product_id", "sku", "name", "unit_price", "quantity"]


register_bus_models(admin.site, OutboxMessage, InboxMessage)
