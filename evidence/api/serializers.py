"""What the API reads and writes. Input serializers check fields and name the one at fault; output
serializers are what scripts can rely on (see docs/api.md)."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import URLValidator
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controls.models import Control, Requirement
from evidence.models import EvidenceItem
from isms.foundation import reach
from isms.foundation.forms import DATE_BOUNDS, DATE_OUT_OF_BOUNDS, date_in_bounds
from isms.maintenance.models import Occurrence

WEB_URL = URLValidator(schemes=["http", "https"], message="Enter a web address starting with http:// or https://.")
MAX_ITEMS = 20


class WebURLField(serializers.URLField):
    """An http(s) address, with one clear message when it is not one."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, URLValidator)] + [WEB_URL]


class BoundedDateField(serializers.DateField):
    """A date within 1 January 2000 – 31 December 2100 (as on the web forms); outside them, a 400 naming the field."""

    def __init__(self, **kwargs):
        help_text = kwargs.get("help_text")
        if help_text:
            kwargs["help_text"] = f"{help_text} A date {DATE_BOUNDS}."
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not date_in_bounds(day):
            raise serializers.ValidationError(DATE_OUT_OF_BOUNDS)
        return day


@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}],
        "description": "For a link: its address. Empty for files and notes.",
        "readOnly": True,
    }
)
class _LinkAddressField(serializers.CharField):
    """A link's address, or an empty string for evidence that is not a link."""


def _site_url(name: str, *args) -> str:
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


class _Target(serializers.PrimaryKeyRelatedField):
    """An id of something evidence can be for; a wrong one is named in the error, never a 500 or a 404."""

    def __init__(self, noun: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)
        self.noun = noun
        self.error_messages["does_not_exist"] = f"No {noun} with id {{pk_value}}."

    def to_internal_value(self, data):
        # Multipart sends every id as text: accept "42" and 42, and quote anything else back.
        text = str(data).strip()
        if isinstance(data, bool) or not (isinstance(data, int) or (text.isascii() and text.isdigit())):
            raise serializers.ValidationError(f"Give the {self.noun}'s id as a whole number, not “{text[:40]}”.")
        return super().to_internal_value(int(text))


class _EvidenceFields(serializers.Serializer):
    """What every piece of evidence says: what it is for, its title, and when it applies."""

    control = _Target("control", queryset=Control.objects.all(), help_text="Id of the control it is evidence for.")
    occurrence = _Target(
        "task", queryset=Occurrence.objects.none(), help_text="Id of the task (occurrence) it is evidence for."
    )
    requirement = _Target(
        "requirement", queryset=Requirement.objects.all(), help_text="Id of a framework requirement (managers only)."
    )
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text="Defaults to the file name, the URL or the note."
    )
    effective_date = BoundedDateField(
        required=False, allow_null=True, help_text="The date it takes effect, e.g. the scan's date. Default: today."
    )
    period_start = BoundedDateField(required=False, allow_null=True, help_text="Start of the period it covers.")
    period_end = BoundedDateField(required=False, allow_null=True, help_text="End of the period it covers.")
    expires_on = BoundedDateField(
        required=False, allow_null=True, help_text="A renewal task is put on the calendar for this date."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Tasks outside the user's reach are indistinguishable from tasks that do not exist.
            self.fields["occurrence"].queryset = reach.visible(request.user, Occurrence)

    def validate(self, data):
        if not any(data.get(k) for k in ("control", "occurrence", "requirement")):
            raise serializers.ValidationError(
                {"control": ["Say what this is evidence for: give a control, an occurrence or a requirement id."]}
            )
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise serializers.ValidationError({"period_end": ["The period ends before it starts."]})
        return data


class EvidenceUploadSerializer(_EvidenceFields):
    """multipart/form-data: a file and the fields saying what it is evidence for."""

    file = serializers.FileField(
        allow_empty_file=True,  # refused by the content check, with the file's name in the message
        use_url=False,
        help_text="The evidence file: PDF, images, office documents, archives or plain text (CSV, JSON, XML…); "
        "at most EVIDENCE_MAX_UPLOAD_MB megabytes (100 by default). Checked on its content, not its name.",
    )


class EvidenceRecordSerializer(_EvidenceFields):
    """application/json: a link or a note."""

    type = serializers.ChoiceField(
        choices=[(EvidenceItem.Type.LINK, "Link"), (EvidenceItem.Type.NOTE, "Note")],
        error_messages={
            "invalid_choice": "“{input}” is not link or note. Files are sent as multipart/form-data with a file field."
        },
    )
    url = WebURLField(required=False, max_length=1000, help_text="For a link: its address.")
    note = serializers.CharField(required=False, allow_blank=True, help_text="For a note: its text.")

    def validate(self, data):
        data = super().validate(data)
        if data["type"] == EvidenceItem.Type.LINK:
            if not data.get("url"):
                raise serializers.ValidationError({"url": ["A link needs its url."]})
            if data.get("note"):
                raise serializers.ValidationError({"note": ["A link has no note: send the note as its own evidence."]})
        else:
            if not (data.get("note") or "").strip():
                raise serializers.ValidationError({"note": ["A note needs its text."]})
            if data.get("url"):
                raise serializers.ValidationError({"url": ["A note has no url: send the link as its own evidence."]})
        return data


class EvidenceSerializer(serializers.ModelSerializer):
    """One piece of evidence as the API returns it."""

    submitted_by = serializers.CharField(
        source="submitted_by.username", read_only=True, allow_null=True, help_text="Username of who submitted it."
    )
    url = _LinkAddressField(read_only=True)
    api_url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceItem
        fields = [
            "id",
            "type",
            "title",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "url",
            "note",
            "source",
            "submitted_by",
            "submitted_at",
            "occurrence",
            "control",
            "requirement",
            "effective_date",
            "period_start",
            "period_end",
            "expires_on",
            "version",
            "supersedes",
            "deleted_at",
            "api_url",
            "web_url",
            "download_url",
        ]
        read_only_fields = fields

    def get_web_url(self, item: EvidenceItem) -> str:
        """The evidence's page in the web app (a signed-in browser)."""
        return _site_url("evidence:detail", item.pk)

    def get_api_url(self, item: EvidenceItem) -> str:
        return _site_url("api:evidence_detail", item.pk)

    def get_download_url(self, item: EvidenceItem) -> str | None:
        """For files: the download page in the web app (needs a signed-in browser, not a token)."""
        if item.type != EvidenceItem.Type.FILE or item.is_deleted:
            return None
        return _site_url("evidence:download", item.pk)


class TaskSerializer(serializers.ModelSerializer):
    """One task (occurrence) as the API returns it."""

    kind = serializers.CharField(source="schedule.kind", read_only=True)
    instructions = serializers.CharField(source="schedule.description", read_only=True)
    status = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username", read_only=True, help_text="Username of the task's owner.")
    completed_by = serializers.CharField(
        source="completed_by.username", read_only=True, allow_null=True, help_text="Username of who completed it."
    )
    department = serializers.CharField(source="department.name", read_only=True, allow_null=True)
    control = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()
    complete_url = serializers.SerializerMethodField()

    class Meta:
        model = Occurrence
        fields = [
            "id",
            "title",
            "kind",
            "instructions",
            "status",
            "status_label",
            "state",
            "due_date",
            "remind_from",
            "grace_until",
            "owner",
            "department",
            "control",
            "completed_at",
            "completed_by",
            "completion_note",
            "web_url",
            "complete_url",
        ]
        read_only_fields = fields

    def _today(self):
        return self.context.setdefault("today", timezone.localdate())

    def get_status(self, occ: Occurrence) -> str:
        """upcoming, due, overdue, missed, done_on_time, done_late or skipped."""
        return occ.status(self._today())

    def get_status_label(self, occ: Occurrence) -> str:
        return occ.status_label(self._today())

    def get_control(self, occ: Occurrence) -> int | None:
        """The id of the control the task's schedule belongs to, if any: evidence for the task counts for it."""
        schedule = occ.schedule
        if schedule.subject_type_id and schedule.subject_type_id == ContentType.objects.get_for_model(Control).pk:
            return schedule.subject_id
        return None

    def get_web_url(self, occ: Occurrence) -> str:
        return _site_url("maintenance:occurrence", occ.pk)

    def get_complete_url(self, occ: Occurrence) -> str:
        return _site_url("api:task_complete", occ.pk)


class CompletedTaskSerializer(TaskSerializer):
    """A task just completed, with the evidence it now carries."""

    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "evidence"]
        read_only_fields = fields


class TaskFilterSerializer(serializers.Serializer):
    """Query parameters of the task list."""

    status = serializers.ChoiceField(
        choices=[
            (Occurrence.Status.UPCOMING, "Upcoming"),
            (Occurrence.Status.DUE, "Due"),
            (Occurrence.Status.OVERDUE, "Overdue"),
            (Occurrence.Status.MISSED, "Missed"),
        ],
        required=False,
        help_text="Only tasks with this status.",
    )
    due_before = BoundedDateField(required=False, help_text="Only tasks due on or before this date.")


class TaskCompleteSerializer(serializers.Serializer):
    """Completing a task: a note and any evidence files (multipart) and links."""

    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="What was done, what was found."
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        required=False,
        default=list,
        max_length=MAX_ITEMS,
        help_text="Evidence files (multipart/form-data only; repeat the field for several).",
    )
    links = serializers.ListField(
        child=WebURLField(max_length=1000),
        required=False,
        default=list,
        max_length=MAX_ITEMS,
        help_text="Evidence links (http:// or https://).",
    )


class ErrorSerializer(serializers.Serializer):
    """A refusal: `detail` says why. Field errors come instead as {field: [messages]}."""

    detail = serializers.CharField()
