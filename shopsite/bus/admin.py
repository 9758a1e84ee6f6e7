"""The admin of every service's outbox and inbox: the bus's own rows, for staff to read only."""

import json

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from shopsite.ids import short


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services and the bus: staff look, never touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SentFilter(admin.SimpleListFilter):
    title = "published"
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("no", "waiting to be sent"), ("yes", "sent")]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


def _trace_link(correlation_id, text: str | None = None) -> str:
    try:
        url = reverse("admin:bus-trace")
    except NoReverseMatch:  # a site without the bus console
        return str(correlation_id)
    return format_html('<a href="{}?correlation={}" title="{}">{}</a>', url, correlation_id, correlation_id,
                       text or correlation_id)


def _short(value) -> str:
    # Lists stay one line per row; the whole id is in the title and on the row's page.
    return format_html('<code title="{}">{}</code>', value, short(value))


def _moment(value) -> str:
    # To the millisecond: the order of messages is often a matter of milliseconds.
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class BusRowAdmin(ReadOnlyAdmin):
    @admin.display(description="flow")
    def flow_link(self, row):
        return _trace_link(row.correlation_id, short(row.correlation_id))

    @admin.display(description="flow (correlation id)")
    def flow(self, row):
        return _trace_link(row.correlation_id)


class OutboxAdmin(BusRowAdmin):
    list_display = ["type", "recorded", "sent", "attempts", "short_id", "flow_link"]
    list_filter = [SentFilter, "type"]
    search_fields = ["id", "correlation_id", "type", "body"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = ["id", "type", "flow", "created_at", "sent_at", "attempts", "last_error", "claimed_by", "claimed_until",
              "envelope"]
    readonly_fields = fields

    @admin.display(description="recorded", ordering="created_at")
    def recorded(self, row):
        return _moment(row.created_at)

    @admin.display(description="sent", ordering="sent_at")
    def sent(self, row):
        return _moment(row.sent_at) if row.sent_at else "waiting"

    @admin.display(description="id")
    def short_id(self, row):
        return _short(row.id)

    @admin.display(description="envelope")
    def envelope(self, row):
        try:
            text = json.dumps(json.loads(row.body), indent=2, sort_keys=True)
        except ValueError:
            text = row.body
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


class InboxAdmin(BusRowAdmin):
    list_display = ["type", "handler", "processed", "short_message_id", "flow_link"]
    list_filter = ["type", "handler"]
    search_fields = ["message_id", "correlation_id", "type", "handler"]
    date_hierarchy = "processed_at"
    ordering = ["-processed_at", "-id"]
    fields = ["message_id", "type", "handler", "flow", "processed_at"]
    readonly_fields = fields

    @admin.display(description="processed", ordering="processed_at")
    def processed(self, row):
        return _moment(row.processed_at)

    @admin.display(description="message id")
    def short_message_id(self, row):
        return _short(row.message_id)


def register_bus_models(site: admin.AdminSite, outbox, inbox) -> None:
    site.register(outbox, OutboxAdmin)
    site.register(inbox, InboxAdmin)
