"""The shopper's filters on the catalog page."""

from django import forms

SORTS = [
    ("", "Name (A–Z)"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("-name", "Name (Z–A)"),
]


class ProductFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    category = forms.ChoiceField(label="Category", required=False)
    min_price = forms.DecimalField(label="Min price", required=False, min_value=0, max_digits=12, decimal_places=2)
    max_price = forms.DecimalField(label="Max price", required=False, min_value=0, max_digits=12, decimal_places=2)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)

    def __init__(self, *args, categories: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All categories")] + [(c, c.title()) for c in categories]
        for name in ("min_price", "max_price"):
            self.fields[name].widget.attrs.update({"placeholder": "Any", "inputmode": "decimal", "step": "0.01"})

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The max price must not be below the min price.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as the catalog's selector takes them; invalid ones are left out."""
        data = getattr(self, "cleaned_data", {})
        return {
            "search": (data.get("q") or "").strip() or None,
            "category": data.get("category") or None,
            "min_price": data.get("min_price"),
            "max_price": data.get("max_price"),
            "ordering": data.get("sort") or None,
        }

