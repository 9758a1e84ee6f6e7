"""How the API knows who is calling: `Authorization: Token <key>` with a key from /api/accounts/token/."""

from __future__ import annotations

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header, checked against accounts' expiring, revocable tokens.

    ``request.auth`` is the token, so that logout can revoke the very one used.
    """

    def authenticate_credentials(self, key):
        # Imported here: DRF loads this class while rest_framework.views is being
        # imported, and the selectors import shopsite.errors, which imports that module.
        from .selectors import api_token_find

        token = api_token_find(key=key)
        if token is None:
            raise AuthenticationFailed("Invalid or expired token: log in again for a new one.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return token.user, token
