"""What the audit programme's API reads."""

from rest_framework import serializers

from ..models import Audit, CorrectiveAction, EffectivenessCheck, ManagementReview, Nonconformity


class _Person(serializers.CharField):
    def to_representation(self, value):
        return str(value) if value is not None else None


class ActionSerializer(serializers.ModelSerializer):
    owner = _Person(read_only=True)

    class Meta:
        model = CorrectiveAction
        fields = ["id", "round", "title", "owner", "due_on", "done_on"]


class CheckSerializer(serializers.ModelSerializer):
    checker = _Person(read_only=True)

    class Meta:
        model = EffectivenessCheck
        fields = ["round", "due_on", "checker", "outcome", "note", "checked_on"]


class NonconformitySerializer(serializers.ModelSerializer):
    owner = _Person(read_only=True)
    requirements = serializers.SlugRelatedField(slug_field="identifier", many=True, read_only=True)
    actions = ActionSerializer(many=True, read_only=True)
    checks = CheckSerializer(many=True, read_only=True)

    class Meta:
        model = Nonconformity
        fields = [
            "id", "reference", "title", "source", "state", "severity", "requirements", "description",
            "objective_evidence", "owner", "raised_on", "correction", "whys", "root_cause", "cause_category",
            "elsewhere", "places_checked", "round", "closed_on", "actions", "checks",
        ]  # fmt: skip


class AuditSerializer(serializers.ModelSerializer):
    lead_auditor = _Person(read_only=True)
    scope = serializers.SlugRelatedField(slug_field="identifier", many=True, read_only=True)

    class Meta:
        model = Audit
        fields = [
            "id", "reference", "kind", "title", "planned_on", "lead_auditor", "auditor_name", "criteria", "scope",
            "status", "summary", "conclusion", "signed_off_at",
        ]  # fmt: skip


class ReviewSerializer(serializers.ModelSerializer):
    chair = _Person(read_only=True)

    class Meta:
        model = ManagementReview
        fields = [
            "id", "reference", "planned_on", "meeting_on", "status", "period_start", "period_end", "chair",
            "suitability", "adequacy", "effectiveness", "approved_at",
        ]  # fmt: skip
