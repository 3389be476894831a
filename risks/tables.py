"""The columns of the risk register, on the page and in its downloads. The downloads carry every column the
import reads, in the same words, so a downloaded register imported again changes nothing."""

import django_tables2 as tables
from django.utils.html import format_html

from evidence.templatetags.evidence_tags import url_with_id
from isms.foundation.templatetags.rows import day

from .models import Risk, Treatment
from .templatetags.risk_tags import score_badge


def badge(risk: Risk, score: int | None) -> str:
    """A score as a badge in its band's colour (the colours come from the criteria's stylesheet)."""
    return score_badge(risk.matrix, score)


class RiskTable(tables.Table):
    reference = tables.Column(verbose_name="Reference", attrs={"td": {"class": "text-nowrap"}}, order_by=("number",))
    # (The page shows the reference, title, owner, scores, treatment, status, next review and action progress;
    # the other columns are in the downloads, which the import reads back.)
    title = tables.Column(verbose_name="Title")
    asset = tables.Column(verbose_name="Asset or process", visible=False)
    threat = tables.Column(verbose_name="Threat", visible=False)
    vulnerability = tables.Column(verbose_name="Vulnerability", visible=False)
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name"))
    department = tables.Column(verbose_name="Department", visible=False, default="")
    inherent_likelihood = tables.Column(verbose_name="Inherent likelihood", visible=False)
    inherent_impact = tables.Column(verbose_name="Inherent impact", visible=False)
    inherent_score = tables.Column(verbose_name="Inherent", attrs={"td": {"class": "text-nowrap"}})
    residual_likelihood = tables.Column(verbose_name="Residual likelihood", visible=False)
    residual_impact = tables.Column(verbose_name="Residual impact", visible=False)
    residual_score = tables.Column(verbose_name="Residual", attrs={"td": {"class": "text-nowrap"}})
    target_likelihood = tables.Column(verbose_name="Target likelihood", visible=False, default="")
    target_impact = tables.Column(verbose_name="Target impact", visible=False, default="")
    target_score = tables.Column(verbose_name="Target", default="—", attrs={"td": {"class": "text-nowrap"}})
    treatment = tables.Column(verbose_name="Treatment")
    treatment_plan = tables.Column(verbose_name="How it is treated", visible=False, default="")
    target_date = tables.DateColumn(verbose_name="Target date", visible=False, default="", format="Y-m-d")
    status = tables.Column(verbose_name="Status")
    review_months = tables.Column(verbose_name="Review every (months)", visible=False, default="")
    controls = tables.Column(verbose_name="Controls", visible=False, empty_values=(), orderable=False)
    requirements = tables.Column(verbose_name="Annex A controls", visible=False, empty_values=(), orderable=False)
    next_review_on = tables.Column(verbose_name="Next review", default="—", attrs={"td": {"class": "text-nowrap"}})
    actions = tables.Column(verbose_name="Actions", empty_values=(), orderable=False, accessor="actions_total")

    class Meta:
        model = Risk
        fields = []
        sequence = (
            "reference", "title", "asset", "threat", "vulnerability", "owner", "department",
            "inherent_likelihood", "inherent_impact", "inherent_score",
            "residual_likelihood", "residual_impact", "residual_score",
            "target_likelihood", "target_impact", "target_score",
            "treatment", "treatment_plan", "target_date", "status", "review_months",
            "controls", "requirements", "next_review_on", "actions",
        )  # fmt: skip

    def render_title(self, record: Risk, value) -> str:
        # The link by the id rather than reverse() and django-tables2's linkify for each of 50 rows.
        return format_html('<a href="{}">{}</a>', url_with_id(record.pk, "risks:detail"), value)

    def value_title(self, value) -> str:
        return value

    def render_next_review_on(self, value) -> str:
        return day(value)

    def render_owner(self, record: Risk, value) -> str:
        return f"{value} · {record.department}" if record.department_id else str(value)

    def value_owner(self, record: Risk) -> str:
        return record.owner.email or record.owner.username

    def render_inherent_score(self, record: Risk, value):
        return badge(record, value)

    def render_residual_score(self, record: Risk, value):
        return badge(record, value)

    def render_target_score(self, record: Risk, value):
        return badge(record, value)

    def value_inherent_score(self, value):
        return value

    def value_residual_score(self, value):
        return value

    def value_target_score(self, value):
        return value or ""

    def value_treatment(self, record: Risk) -> str:
        return Treatment(record.treatment).label

    def value_status(self, record: Risk) -> str:
        return record.get_status_display()

    def render_controls(self, record: Risk) -> str:
        return ", ".join(c.reference for c in record.controls.all())

    def value_controls(self, record: Risk) -> str:
        return self.render_controls(record)

    def render_requirements(self, record: Risk) -> str:
        return ", ".join(r.identifier for r in record.requirements.all())

    def value_requirements(self, record: Risk) -> str:
        return self.render_requirements(record)

    def render_actions(self, record: Risk) -> str:
        return f"{record.actions_done} of {record.actions_total}" if record.actions_total else "—"

    def value_actions(self, record: Risk) -> str:
        return self.render_actions(record)

    def value_next_review_on(self, value) -> str:
        return value.isoformat() if value else ""
