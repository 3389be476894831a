"""What the risk API reads and writes."""

from rest_framework import serializers

from ..models import MAX_SIZE, Assessment, Risk, Treatment
from ..services import LEVELS


class RiskSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.__str__", read_only=True)
    department = serializers.CharField(source="department.name", default=None, read_only=True)
    matrix_version = serializers.IntegerField(source="matrix.number", read_only=True)
    residual_level = serializers.SerializerMethodField()
    controls = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)
    annex_a = serializers.SlugRelatedField(source="requirements", slug_field="identifier", many=True, read_only=True)

    class Meta:
        model = Risk
        fields = [
            "id", "reference", "title", "asset", "threat", "vulnerability", "owner", "department", "matrix_version",
            "inherent_likelihood", "inherent_impact", "inherent_score",
            "residual_likelihood", "residual_impact", "residual_score", "residual_level",
            "target_likelihood", "target_impact", "target_score", "target_date",
            "treatment", "treatment_plan", "status", "last_reviewed_on", "next_review_on", "controls", "annex_a",
        ]  # fmt: skip

    def get_residual_level(self, risk: Risk) -> str:
        band = risk.matrix.band(risk.residual_score)
        return band["label"] if band else ""


class AssessmentSerializer(serializers.ModelSerializer):
    matrix_version = serializers.IntegerField(source="matrix.number", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "number", "kind", "matrix_version", "inherent_score", "residual_score", "reason", "reviewed_on",
            "by_name", "at", "via", "changed", "snapshot",
        ]  # fmt: skip


class AssessmentCreateSerializer(serializers.Serializer):
    """A review (the default; recorded even with no change) or a change with its reason. Levels, treatment and
    target date are optional: what is not given stays as it is."""

    kind = serializers.ChoiceField(choices=["review", "change"], default="review")
    note = serializers.CharField(max_length=5000, help_text="What was reviewed, or why it changed.")
    reviewed_on = serializers.DateField(required=False)
    inherent_likelihood = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIZE)
    inherent_impact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIZE)
    residual_likelihood = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIZE)
    residual_impact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIZE)
    target_likelihood = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_SIZE)
    target_impact = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_SIZE)
    treatment = serializers.ChoiceField(choices=Treatment.choices, required=False)
    treatment_plan = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    target_date = serializers.DateField(required=False, allow_null=True)

    def changes(self) -> dict:
        names = (*LEVELS, "treatment", "treatment_plan", "target_date")
        return {name: self.validated_data[name] for name in names if name in self.validated_data}


class QueueItemSerializer(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField(source="owner.__str__")
    next_review_on = serializers.DateField()
    residual_score = serializers.IntegerField()
    id = serializers.IntegerField()


class QueueRequestSerializer(QueueItemSerializer):
    reason = serializers.CharField()
    source = serializers.CharField()


class QueueSerializer(serializers.Serializer):
    overdue = QueueItemSerializer(many=True)
    due = QueueItemSerializer(many=True)
    requested = QueueRequestSerializer(many=True)
