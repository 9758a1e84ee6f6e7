"""How the OpenAPI schema describes an operation, beyond what drf-spectacular reads by itself.

Apart from shopsite.openapi because DRF imports that one (for OPTIONS) while
rest_framework.views is still loading, before drf-spectacular's AutoSchema can.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from shopsite.permissions import StaffPermission


class ShopAutoSchema(AutoSchema):
    """Each staff operation's description names the permission it checks, read from the view itself.

    Written from the permission classes rather than by hand, so the documented
    permission cannot drift from the enforced one.
    """

    def get_description(self) -> str:
        needed = [p.permission for p in self.view.get_permissions() if isinstance(p, StaffPermission)]
        described = [super().get_description()]
        described += [f"Staff only: needs the permission `{permission}` (a superuser has every one)." for permission in needed]
        return "\n\n".join(text for text in described if text)
