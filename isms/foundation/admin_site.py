"""Django admin, open to users whose role is administrator and to nobody else."""

from django.contrib import admin


class ISMSAdminSite(admin.AdminSite):
    site_header = "ISMS administration"
    site_title = "ISMS admin"
    index_title = "Administration"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_admin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For models whose writes carry rules (a schedule's occurrences, a certificate's cycle, an approved SoA):
    the admin shows them; the application's pages and services change them, so no rule is bypassed."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
