from django.contrib import admin

from .models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Read-only: the record of what was sent is evidence of the reminder engine working."""

    list_display = ["key", "kind", "recipient", "created_at", "sent_at", "cancelled_at", "attempts"]
    list_filter = ["kind"]
    search_fields = ["key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
