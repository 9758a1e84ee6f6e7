from django import forms
from django.contrib import admin
from django.utils.html import format_html

from shopsite.bus.admin import ReadOnlyAdmin, register_bus_models
from shopsite.limits import MAX_STOCK

from . import images, services
from .models import STOCK_PERMISSION, InboxMessage, OutboxMessage, Product, Reservation, ReservationOutcome, UserRole


class ProductAdminForm(forms.ModelForm):
    # Not the model's field: an upload is checked and re-encoded here, and the
    # service stores what came out (see catalog/images.py).
    new_image = forms.FileField(
        required=False, widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
    )
    image_remove = forms.BooleanField(required=False, label="Remove the image")

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "category", "price", "is_active", "stock_on_hand"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_image"].help_text = images.rules()

    def clean_new_image(self) -> images.PreparedImage | None:
        upload = self.cleaned_data.get("new_image")
        if not upload:
            return None
        try:
            return images.image_prepare(upload)
        except images.InvalidImage as error:
            raise forms.ValidationError(error.message) from None


class ProductStockAdminForm(ProductAdminForm):
    """An existing product's form for staff who may also adjust its stock."""

    adjust_stock_by = forms.IntegerField(
        required=False, min_value=-MAX_STOCK, max_value=MAX_STOCK,
        help_text="Add (or, negative, remove) units available for sale.",
    )

    def clean_adjust_stock_by(self):
        delta = self.cleaned_data.get("adjust_stock_by") or 0
        if self.instance.pk and delta < 0 and -delta > self.instance.stock_on_hand:
            raise forms.ValidationError(f"Only {self.instance.stock_on_hand} on hand.")
        if self.instance.pk and self.instance.stock_on_hand + delta > MAX_STOCK:
            raise forms.ValidationError(
                f"At most {MAX_STOCK} may be on hand; {self.instance.stock_on_hand} are already."
            )
        return delta


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Every save goes through the services, so versions move and the cart hears of it."""

    form = ProductAdminForm
    list_display = ["sku", "name", "category", "price", "is_active", "stock_on_hand", "stock_reserved", "stock_sold", "version"]
    search_fields = ["sku", "name", "description"]
    list_filter = ["is_active", "category", "updated_at"]
    date_hierarchy = "created_at"
    readonly_fields = ["stock_reserved", "stock_sold", "version", "created_at", "updated_at"]
    # Its pages may be posted an image (shopsite.middleware lets the body be that big).
    accepts_uploads = True

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "current_image", "sku", "stock_on_hand"]

    def get_fields(self, request, obj=None):
        # The current image next to the field that replaces it; "remove" only when there is one.
        fields = [field for field in super().get_fields(request, obj) if field != "current_image"]
        if obj is None or not obj.image:
            fields.remove("image_remove")
        if obj is not None:
            fields.insert(fields.index("new_image"), "current_image")
        return fields

    @admin.display(description="Current image")
    def current_image(self, obj: Product) -> str:
        if not obj.image:
            return "None: the shop shows the product's initials."
        return format_html('<a href="{}"><img src="{}" alt="The current image" style="max-height: 160px"></a>',
                           obj.image_url, obj.thumbnail_url)

    def get_form(self, request, obj=None, **kwargs):
        # Adjusting stock is its own permission, as in the API; without it the
        # field is not in the form at all, so a posted value is never read.
        # A new product's first stock comes with adding it.
        if obj is not None and request.user.has_perm(STOCK_PERMISSION):
            kwargs["form"] = ProductStockAdminForm
        return super().get_form(request, obj, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Orders and carts refer to products by id: deactivate instead.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            product = services.product_create(
                sku=data["sku"], name=data["name"], price=data["price"], stock=data["stock_on_hand"],
                description=data["description"], category=data["category"], is_active=data["is_active"],
                image=data.get("new_image"),
            )
        else:
            editable = {"name", "description", "category", "price", "is_active"}
            changes = {field: data[field] for field in form.changed_data if field in editable}
            product = services.product_update(product_id=obj.pk, **changes) if changes else obj
            if data.get("adjust_stock_by"):
                product = services.stock_adjust(product_id=obj.pk, quantity_delta=data["adjust_stock_by"])
            if data.get("new_image"):
                product = services.product_image_set(product_id=obj.pk, image=data["new_image"])
            elif data.get("image_remove"):
                product = services.product_image_remove(product_id=obj.pk)
        obj.pk = product.pk
        obj.refresh_from_db()


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "product", "quantity", "status", "created_at", "updated_at"]
    search_fields = ["order_id", "product__sku", "product__name"]
    list_filter = ["status", "created_at"]
    date_hierarchy = "created_at"
    list_select_related = ["product"]
    readonly_fields = ["order_id", "product", "quantity", "status", "created_at", "updated_at"]


@admin.register(ReservationOutcome)
class ReservationOutcomeAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "outcome", "decided_at"]
    search_fields = ["order_id"]
    list_filter = ["outcome", "decided_at"]
    date_hierarchy = "decided_at"
    readonly_fields = ["order_id", "outcome", "decided_at"]


@admin.register(UserRole)
class UserRoleAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "email", "role", "is_staff", "is_active", "updated_at"]
    search_fields = ["email", "user_id"]
    list_filter = ["role", "is_staff", "is_active"]
    readonly_fields = ["user_id", "email", "is_staff", "role", "is_active", "version", "updated_at"]


register_bus_models(admin.site, OutboxMessage, InboxMessage)
