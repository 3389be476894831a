"""Django admin, open to users whose role is administrator and to nobody else."""

from django.contrib import admin


class ISMSAdminSite(admin.AdminSite):
    site_header = "ISMS administration"
    site_title = "ISMS admin"
    index_title = "Administration"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_admin)
