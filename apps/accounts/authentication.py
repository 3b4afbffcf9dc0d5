"""DRF authentication by personal API token: ``Authorization: Bearer rx_<id>_<secret>``."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from apps.accounts.language import activate_user_language
from apps.accounts.services import api_token_authenticate
from rangex.core.http import client_ip


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode("latin-1") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: expected 'Bearer <token>'."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Malformed token.")) from None
        result = api_token_authenticate(raw=raw, ip=client_ip(request))
        if result is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid, has expired or was revoked."))
        # The token's owner is known only now, after the middleware: answer in their language.
        activate_user_language(request, result[0])
        return result

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
