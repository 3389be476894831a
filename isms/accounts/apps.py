from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, their role and department; login, lockout, password change."""

    name = "isms.accounts"
    label = "accounts"
