from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """Django's admin with the shop's site as ``admin.site``.

    Every ``admin.register`` in the services keeps working unchanged, and the
    console's pages are part of that one site (login, permissions, sidebar)
    rather than patched onto it.
    """

    default_site = "shopsite.console.site.ShopAdminSite"
