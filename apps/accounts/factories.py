"""Account factories. Users are created through the user_create service, as in production."""

import factory
from django.test import Client
from django_otp.oath import totp

from apps.accounts import otp
from apps.accounts.models import User
from apps.accounts.services import twofa_enable, user_create
from rangex.core.errors import ValidationFailed

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password = PASSWORD
    role_solver = True
    role_creator = False
    role_admin = False
    verified = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return user_create(**kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        kwargs.pop("verified", None)
        password = kwargs.pop("password")
        user = model_class(**kwargs)
        user.set_password(password)
        return user


class CreatorFactory(UserFactory):
    role_creator = True


class AdminFactory(UserFactory):
    role_admin = True


def totp_code(secret: str, *, steps_back: int = 0) -> str:
    """The code an authenticator app shows now, or ``steps_back`` time steps ago."""
    return f"{totp(otp._secret_bytes(secret), step=30, drift=-steps_back):06d}"


def enable_2fa(user: User) -> tuple[str, list[str]]:
    """Enrol TOTP for ``user`` the way the setup page does; return the secret and recovery codes.

    The enrolment uses the previous time step's code, so the current code stays free for a sign-in.
    """
    secret = otp.new_totp_secret()
    try:
        _, codes = twofa_enable(user=user, secret=secret, code=totp_code(secret, steps_back=1))
    except ValidationFailed:
        # The 30-second step turned over between reading the clock and checking the code (the
        # previous step's code is then two steps old): read the clock again, as a person would.
        _, codes = twofa_enable(user=user, secret=secret, code=totp_code(secret, steps_back=1))
    user.refresh_from_db()
    return secret, codes


def login_client(user, *, secret: str | None = None) -> Client:
    """Sign ``user`` in through the real login pages, with the TOTP step when 2FA is on."""
    client = Client()
    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    if user.twofa_enabled:
        response = client.post("/accounts/2fa/verify/", {"code": totp_code(secret)})
        assert response.status_code == 302, response.content[:500]
    return client
