"""Django admin, open to users whose role is administrator and to nobody else."""

from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied


class ISMSAdminSite(admin.AdminSite):
    site_header = "ISMS administration"
    site_title = "ISMS admin"
    index_title = "Administration"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_admin)

    def admin_view(self, view, cacheable=False):
        """Signed in without the administrator role: the 403 page. Django's admin sends anyone it refuses to
        the login page, and our login page sends a signed-in person back: "too many redirects"."""
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)  # keeps what Django's wrapper marks on the view (admin_site, csrf)
        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("Only administrators can open the administration pages.")
            return guarded(request, *args, **kwargs)

        return inner


class ReadOnlyAdmin(admin.ModelAdmin):
    """For models whose writes carry rules (a schedule's occurrences, a certificate's cycle, an approved SoA):
    the admin shows them; the application's pages and services change them, so no rule is bypassed."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """The inline rows of a read-only admin page: shown, never added, changed or deleted there."""

    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
