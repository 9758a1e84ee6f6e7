from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db import transaction

from shopsite.bus.admin import ReadOnlyAdmin, register_bus_models
from shopsite.validators import no_control_characters

from .models import Address, ApiToken, CustomerOrder, InboxItem, InboxMessage, OutboxMessage, User, UserVersion
from .services import auth_token_revoke_all, user_delete, user_save_from_admin


class _EmailMixin:
    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean_name(self):
        no_control_characters(self.cleaned_data["name"])
        return self.cleaned_data["name"]


class UserCreateForm(_EmailMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserEditForm(_EmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class UserPasswordForm(AdminPasswordChangeForm):
    # A password set by staff (a suspected break-in, say) ends the user's API tokens as any new password does
    # (User.save); so does turning password login off, which sets no new password. Their sessions end with the
    # old password.
    def save(self, commit=True):
        with transaction.atomic():
            user = super().save(commit=commit)
            auth_token_revoke_all(user_id=user.pk)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    change_password_form = UserPasswordForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "role")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "role", "usable_password", "password1", "password2")}),
    )
    list_display = ("email", "name", "role", "is_staff", "is_active", "date_joined")
    list_filter = ("role", "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "name")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    readonly_fields = ("last_login", "date_joined")

    # Catalog and notifications keep replicas of users: every change made here
    # goes through the service that tells them.
    def save_model(self, request, obj, form, change):
        user_save_from_admin(user=obj, created=not change)

    def delete_model(self, request, obj):
        user_delete(user_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for user_id in queryset.values_list("pk", flat=True):
            user_delete(user_id=user_id)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see who holds API tokens and may revoke one (delete it); a token is only ever made by a login."""

    list_display = ("user", "created_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    date_hierarchy = "created_at"
    fields = readonly_fields = ("user", "created_at", "expires_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Address)
class AddressAdmin(ReadOnlyAdmin):
    """The customers' address books, to read: each customer keeps their own."""

    list_display = ("user", "name", "city", "postal_code", "country", "is_default", "updated_at")
    list_filter = ("country", "is_default")
    list_select_related = ("user",)
    search_fields = ("user__email", "name", "line1", "city", "postal_code")
    readonly_fields = ("user", "name", "line1", "line2", "city", "region", "postal_code", "country", "is_default",
                       "created_at", "updated_at")


@admin.register(CustomerOrder)
class CustomerOrderAdmin(ReadOnlyAdmin):
    """A replica of the orders service: only its messages change it."""

    list_display = ("order_id", "user_id", "status", "total", "updated_at")
    list_filter = ("status", "updated_at")
    search_fields = ("order_id", "user_id")
    date_hierarchy = "updated_at"
    readonly_fields = ("order_id", "user_id", "status", "version", "total", "updated_at")


@admin.register(UserVersion)
class UserVersionAdmin(ReadOnlyAdmin):
    """How many messages about each user accounts has published: only publishing one raises it."""

    list_display = ("user", "version")
    list_filter = ("user__is_active",)
    list_select_related = ("user",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "version")


@admin.register(InboxItem)
class InboxItemAdmin(ReadOnlyAdmin):
    list_display = ("subject", "user_id", "kind", "order_id", "sent_at", "read_at")
    list_filter = ("kind", "sent_at", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "user_id", "order_id", "notification_id")
    date_hierarchy = "sent_at"
    readonly_fields = ("notification_id", "user_id", "order_id", "kind", "subject", "body", "sent_at", "read_at")


register_bus_models(admin.site, OutboxMessage, InboxMessage)
