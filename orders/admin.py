from django.contrib import admin, messages

from shopsite.bus.admin import register_bus_models
from shopsite.errors import ApplicationError

from . import services
from .models import InboxMessage, Order, OrderEvent, OrderLine, OutboxMessage


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["product_id", "sku", "name", "unit_price", "quantity"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "detail", "occurred_at"]


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


@admin.action(description="Mark selected orders shipped")
def mark_shipped(modeladmin, request, queryset):
    _run_on_each(modeladmin, request, queryset, services.order_ship, "marked shipped")


@admin.action(description="Mark selected orders delivered")
def mark_delivered(modeladmin, request, queryset):
    _run_on_each(modeladmin, request, queryset, services.order_deliver, "marked delivered")


@admin.action(description="Cancel selected orders (refunds paid ones)")
def cancel(modeladmin, request, queryset):
    def staff_cancel(*, order_id):
        services.order_cancel(order_id=order_id, reason=Order.CancelReason.STAFF_REQUEST)

    _run_on_each(modeladmin, request, queryset, staff_cancel, "cancelled")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "status", "cancel_reason", "total", "created_at"]
    list_filter = ["status", "cancel_reason", "created_at"]
    search_fields = ["id", "user_id", "checkout_id"]
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [OrderLineInline, OrderEventInline]
    actions = [mark_shipped, mark_delivered, cancel]

    def has_add_permission(self, request):
        return False


register_bus_models(admin.site, OutboxMessage, InboxMessage)
