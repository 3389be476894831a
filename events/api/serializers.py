"""What the events API reads."""

from rest_framework import serializers

from ..models import Change, Incident, Objective, Supplier


class _Person(serializers.CharField):
    def to_representation(self, value):
        return str(value) if value is not None else None


class IncidentSerializer(serializers.ModelSerializer):
    severity = serializers.CharField(source="severity.label", read_only=True)
    severity_level = serializers.IntegerField(source="severity.level", read_only=True)
    owner = _Person(read_only=True)
    reported_by = _Person(read_only=True)
    controls = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)
    risks = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id", "reference", "title", "description", "occurred_on", "detected_on", "severity", "severity_level",
            "category", "affected", "owner", "reported_by", "reported_at", "status", "controls", "risks",
            "containment", "resolution", "lessons_learned", "closed_at", "reveals_nonconformity",
            "nonconformity_note",
        ]  # fmt: skip


class ChangeReviewSerializer(serializers.Serializer):
    kind = serializers.CharField()
    owner = _Person()
    due_on = serializers.DateField()
    done = serializers.BooleanField(source="is_done")
    done_at = serializers.DateTimeField()


class ChangeSerializer(serializers.ModelSerializer):
    owner = _Person(read_only=True)
    requested_by = _Person(read_only=True)
    supplier = serializers.CharField(source="supplier.name", default=None, read_only=True)
    answers = serializers.SerializerMethodField()
    reviews = ChangeReviewSerializer(many=True, read_only=True)
    risks = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)
    approved = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = [
            "id", "reference", "title", "description", "planned_on", "owner", "requested_by", "created_at",
            "answers", "assets", "supplier", "risks", "reviews", "approved", "approved_at", "status", "closed_at",
        ]  # fmt: skip

    def get_answers(self, change: Change) -> dict:
        return {name: answer for name, _, answer in change.answers()}

    def get_approved(self, change: Change) -> bool | None:
        return bool(change.approved_at) if change.needs_approval else None


class CertificateSerializer(serializers.Serializer):
    name = serializers.CharField()
    issuer = serializers.CharField()
    number = serializers.CharField()
    expires_on = serializers.DateField()


class SupplierSerializer(serializers.ModelSerializer):
    owner = _Person(read_only=True)
    certificates = CertificateSerializer(many=True, read_only=True)
    controls = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)
    risks = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)

    class Meta:
        model = Supplier
        fields = [
            "id", "name", "service", "criticality", "data_handled", "owner", "contact_name", "contact_email",
            "contract_start", "contract_end", "notice_days", "rating", "last_reviewed_on", "next_review_on",
            "active", "certificates", "controls", "risks",
        ]  # fmt: skip


class ProgressSerializer(serializers.Serializer):
    recorded_on = serializers.DateField()
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    note = serializers.CharField()


class ObjectiveSerializer(serializers.ModelSerializer):
    owner = _Person(read_only=True)
    entries = ProgressSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Objective
        fields = [
            "id", "title", "description", "measure", "unit", "baseline", "target", "owner", "start_on", "due_on",
            "progress_every_months", "progress", "entries",
        ]  # fmt: skip

    def get_progress(self, objective: Objective) -> str:
        return objective.status(list(objective.entries.all()))
