from django.contrib import admin

from shopsite.bus.admin import ReadOnlyAdmin, register_bus_models

from .models import Charge, InboxMessage, OutboxMessage, PaymentMethod, Refund


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = ("id", "user_id", "brand", "last4", "exp_month", "exp_year", "created_at")
    list_filter = ("brand", "created_at")
    search_fields = ("id", "user_id", "last4")
    date_hierarchy = "created_at"
    readonly_fields = ("id", "user_id", "token", "brand", "last4", "exp_month", "exp_year", "created_at")

    # A card only comes from the gateway's tokenization (the API); staff may
    # remove one but never make or alter one.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ("id", "amount", "gateway_reference", "reason", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    """Money moved at the gateway: the record of it is never edited."""

    list_display = ("order_id", "user_id", "amount", "currency", "status", "failure_code", "refunded_amount", "created_at")
    list_filter = ("status", "failure_code", "currency", "created_at")
    search_fields = ("id", "order_id", "user_id", "gateway_reference")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Charge._meta.fields]
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "charge", "amount", "reason", "created_at")
    list_filter = ("reason", "created_at")
    search_fields = ("id", "gateway_reference", "charge__order_id")
    date_hierarchy = "created_at"
    list_select_related = ("charge",)
    readonly_fields = [field.name for field in Refund._meta.fields]


register_bus_models(admin.site, OutboxMessage, InboxMessage)
