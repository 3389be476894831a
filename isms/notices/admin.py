from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import Notice


class DeliveryFilter(admin.SimpleListFilter):
    """Where notices stand; "in doubt" are those handed to the mail server with no answer recorded."""

    title = "delivery"
    parameter_name = "delivery"
    states = {
        "in_doubt": ("In doubt", lambda qs: qs.in_doubt()),
        "possibly_repeated": ("Sent, may have arrived twice", lambda qs: qs.possibly_repeated()),
        "retrying": ("Waiting to try again", lambda qs: qs.waiting_to_retry()),
        "queued": ("Waiting to be sent", lambda qs: qs.queued()),
        "sent": ("Sent", lambda qs: qs.filter(sent_at__isnull=False)),
        "cancelled": ("Not sent: no longer applied", lambda qs: qs.filter(cancelled_at__isnull=False)),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.states.items()]

    def queryset(self, request, queryset):
        if self.value() in self.states:
            return self.states[self.value()][1](queryset)
        return queryset


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Read-only: the record of what was sent is evidence of the reminder engine working."""

    list_display = [
        "key",
        "kind",
        "recipient",
        "created_at",
        "delivery",
        "handed_at",
        "sent_at",
        "attempts",
        "unconfirmed_sends",
    ]
    list_filter = [DeliveryFilter, "kind"]
    search_fields = ["key"]
    show_facets = admin.ShowFacets.ALWAYS

    @admin.display(description="Delivery")
    def delivery(self, obj: Notice) -> str:
        return obj.delivery()
