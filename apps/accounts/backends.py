from django.contrib.auth.backends import ModelBackend

from apps.accounts.services import AuthenticationFailed, auth_check_credentials


class EmailBackend(ModelBackend):
    """Email and password, through the lockout-aware credential check."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if not email or password is None:
            return None
        try:
            return auth_check_credentials(email=email, password=password)
        except AuthenticationFailed:
            return None
