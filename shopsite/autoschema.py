"""How the OpenAPI schema describes an operation, beyond what drf-spectacular reads by itself.

Apart from shopsite.openapi because DRF imports that one (for OPTIONS) while
rest_framework.views is still loading, before drf-spectacular's AutoSchema can.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from shopsite.countries import COUNTRIES
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


class CountryFieldExtension(OpenApiSerializerFieldExtension):
    """A country code is one ``Country`` component, its codes listed once.

    drf-spectacular would list the codes in every field that takes one, each
    field's description repeating all 249.
    """

    target_class = "shopsite.addresses.CountryField"

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="Country", type=ResolvedComponent.SCHEMA, object="Country",
            schema={
                "type": "string", "enum": sorted(COUNTRIES), "example": "DE",
                "description": "An ISO 3166-1 alpha-2 country code, upper case (lower case is accepted in input).",
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
