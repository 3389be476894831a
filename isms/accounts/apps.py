from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, their role and department; login, lockout, two-step sign-in, single sign-on, password change; people
    and departments managed by administrators."""

    name = "isms.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import mfa, reach  # noqa: F401  (the reach rules; the two-step decision at sign-in)
