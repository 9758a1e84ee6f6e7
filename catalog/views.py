"""The shop window: the product list with its filters, and the product page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.views.generic import TemplateView

from shopsite.errors import ApplicationError, NotFound
from shopsite.limits import MAX_QUANTITY

from . import selectors
from .forms import ProductFilterForm

PAGE_SIZE = 12
#: At or below this many, the page says how many are left.
LOW_STOCK = 5


class ProductListView(TemplateView):
    template_name = "catalog/product_list.html"

    def get_context_data(self, **kwargs):
        categories = selectors.category_list()
        form = ProductFilterForm(self.request.GET, categories=categories)
        form.is_valid()
        filters = form.filters()
        try:
            products = selectors.product_list(**filters)
        except ApplicationError as error:
            form.add_error(None, error.message)
            products = selectors.product_list()
        page = Paginator(products, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            page=page,
            categories=categories,
            active_category=filters["category"],
            search_query=filters["search"] or "",
            filtered=any(value is not None for value in filters.values()),
            low_stock=LOW_STOCK,
            **kwargs,
        )


class ProductDetailView(TemplateView):
    template_name = "catalog/product_detail.html"

    def get_context_data(self, product_id: int, **kwargs):
        try:
            product = selectors.product_get(product_id=product_id, active_only=True)
        except NotFound as error:
            raise Http404(error.message) from None
        return super().get_context_data(
            product=product, low_stock=LOW_STOCK, max_quantity=min(product.available, MAX_QUANTITY), **kwargs
        )
