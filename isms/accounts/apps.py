from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, their role and department; login, lockout, two-step sign-in, single sign-on, password change; people
    and departments managed by administrators."""

    name = "isms.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import reach  # noqa: F401  (registers the reach rules)
