"""Who may run a staff operation of the API: the same Django permissions the admin checks."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class StaffPermission(BasePermission):
    """An active staff member holding ``permission`` (a superuser holds them all).

    Exactly the admin's rule (``is_active`` and ``is_staff`` to enter, then
    ``has_perm`` per model or action), so that a staff user the admin refuses
    is refused here too. The user comes from the accounts database, where
    users, groups and permissions live.
    """

    permission: str = ""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_active and user.is_staff and user.has_perm(self.permission))


def staff_permission(permission: str) -> type[StaffPermission]:
    """The DRF permission class for ``permission``, written ``"<app_label>.<codename>"``."""
    return type(
        f"StaffPermission[{permission}]",
        (StaffPermission,),
        {"permission": permission, "message": f"Only staff with the permission {permission} may do this."},
    )
