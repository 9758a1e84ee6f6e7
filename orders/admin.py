from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from shopsite.bus.admin import ReadOnlyAdmin, register_bus_models
from shopsite.errors import ApplicationError

from . import services
from .models import (
    CANCEL_PERMISSION, DELIVER_PERMISSION, SHIP_PERMISSION, InboxMessage, Order, OrderEvent, OrderLine, OutboxMessage,
)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["product_id", "sku", "name", "unit_price", "quantity"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "detail", "occurred_at"]

    def has_add_permission(self, request, obj=None):
        return False


def _run_on_each(modeladmin, request, queryset, service, done: str):
    changed = 0
    for order in queryset:
        try:
            service(order_id=order.pk)
            changed += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{order}: {exc.message}", messages.WARNING)
    if changed:
        modeladmin.message_user(request, f"{changed} order(s) {done}.", messages.SUCCESS)


@admin.action(description="Mark selected orders shipped", permissions=["ship"])
def mark_shipped(modeladmin, request, queryset):
    _run_on_each(modeladmin, request, queryset, services.order_ship, "marked shipped")


@admin.action(description="Mark selected orders delivered", permissions=["deliver"])
def mark_delivered(modeladmin, request, queryset):
    _run_on_each(modeladmin, request, queryset, services.order_deliver, "marked delivered")


@admin.action(description="Cancel selected orders (refunds paid ones)", permissions=["cancel"])
def cancel(modeladmin, request, queryset):
    def staff_cancel(*, order_id):
        services.order_cancel(order_id=order_id, reason=Order.CancelReason.STAFF_REQUEST)

    _run_on_each(modeladmin, request, queryset, staff_cancel, "cancelled")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders change only through the saga: the actions below, or the messages of the other services."""

    list_display = ["id", "user_id", "status", "cancel_reason", "total", "currency", "created_at", "updated_at"]
    list_filter = ["status", "cancel_reason", "created_at"]
    search_fields = ["id", "user_id", "checkout_id", "lines__sku", "lines__name", "shipping_name", "shipping_postal_code"]
    date_hierarchy = "created_at"
    # The address is shown as written on the parcel rather than as its columns.
    readonly_fields = fields = [
        *(f.name for f in Order._meta.fields if not f.name.startswith("shipping_")), "shipping_address",
    ]
    inlines = [OrderLineInline, OrderEventInline]
    actions = [mark_shipped, mark_delivered, cancel]

    @admin.display(description="shipping address")
    def shipping_address(self, order):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in order.shipping_address.lines()))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Other services hold stock, charges and mail for it: cancel instead.
        return False

    # The actions' permissions, the same ones the staff API checks.
    def has_ship_permission(self, request):
        return request.user.has_perm(SHIP_PERMISSION)

    def has_deliver_permission(self, request):
        return request.user.has_perm(DELIVER_PERMISSION)

    def has_cancel_permission(self, request):
        return request.user.has_perm(CANCEL_PERMISSION)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only, so a Save button would only pretend.
        quiet = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**quiet, **(extra_context or {})})


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ["order", "sku", "name", "unit_price", "quantity"]
    search_fields = ["order__id", "sku", "name", "product_id"]
    list_filter = ["order__status"]
    list_select_related = ["order"]
    readonly_fields = ["order", "product_id", "sku", "name", "unit_price", "quantity"]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "detail", "occurred_at"]
    search_fields = ["order__id", "detail"]
    list_filter = ["kind", "occurred_at"]
    date_hierarchy = "occurred_at"
    list_select_related = ["order"]
    readonly_fields = ["order", "kind", "detail", "occurred_at"]


register_bus_models(admin.site, OutboxMessage, InboxMessage)
