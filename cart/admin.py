from django.contrib import admin

from .models import Cart, CartLine, Checkout, InboxMessage, OutboxMessage, ProductReplica


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services and the bus: staff look, never touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProductReplica)
class ProductReplicaAdmin(ReadOnlyAdmin):
    """A copy of the catalog's data: it is changed in the catalog, never here."""

    list_display = ["product_id", "sku", "name", "price", "is_active", "available", "version", "updated_at"]
    search_fields = ["sku", "name"]
    list_filter = ["is_active"]
    readonly_fields = ["product_id", "sku", "name", "price", "is_active", "available", "version", "updated_at"]


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["product_id", "quantity", "notice", "added_at", "updated_at"]
    readonly_fields = ["added_at", "updated_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["user_id", "created_at", "updated_at"]
    search_fields = ["user_id"]
    list_filter = ["updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [CartLineInline]


@admin.register(CartLine)
class CartLineAdmin(admin.ModelAdmin):
    list_display = ["cart", "product_id", "quantity", "notice", "updated_at"]
    search_fields = ["cart__user_id", "product_id"]
    list_filter = ["updated_at"]
    readonly_fields = ["added_at", "updated_at"]


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "user_id", "order_id", "total", "created_at"]
    search_fields = ["id", "order_id", "user_id", "idempotency_key"]
    list_filter = ["created_at"]
    readonly_fields = ["id", "user_id", "idempotency_key", "order_id", "total", "created_at"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["type", "id", "correlation_id", "created_at", "sent_at", "attempts"]
    search_fields = ["id", "type", "correlation_id"]
    list_filter = ["type", "sent_at"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["type", "message_id", "handler", "correlation_id", "processed_at"]
    search_fields = ["message_id", "type", "correlation_id"]
    list_filter = ["type", "handler"]
    readonly_fields = [f.name for f in InboxMessage._meta.fields]
