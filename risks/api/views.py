"""The risk API: read risks, their assessments and the review queue; record an assessment (a review, or a change
with its reason). Token scopes risks:read and risks:write; the same reach rule as the pages."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from evidence.api.services import run_once
from evidence.api.views import ERROR, IDEMPOTENCY_KEY, WRITE_ERRORS, TokenAPIView
from evidence.models import ApiToken
from isms.foundation import reach

from .. import selectors, services
from ..models import Assessment, Risk
from .serializers import (
    AssessmentCreateSerializer,
    AssessmentSerializer,
    QueueItemSerializer,
    QueueSerializer,
    RiskSerializer,
)

READ = (ApiToken.Scope.RISKS_READ,)
WRITE = (ApiToken.Scope.RISKS_WRITE,)
READ_ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}


class Pages(PageNumberPagination):
    """50 risks a page; a page past the last, or not a whole number from 1, is a 404 that says so."""

    page_size = 50
    invalid_page_message = "There is no page “{page_number}” of risks: pages are numbered from 1 to the last one."


def _risks(user):
    return reach.visible(user, Risk.objects.select_related("owner", "department", "matrix")).prefetch_related(
        "controls", "requirements"
    )


def _risk(user, pk: int) -> Risk:
    risk = reach.visible(user, Risk).filter(pk=pk).first()
    if risk is None:
        raise NotFound("No risk with this id that you may see.")
    return risk


class RiskListView(TokenAPIView, generics.ListAPIView):
    required_scopes = READ
    serializer_class = RiskSerializer
    pagination_class = Pages

    @extend_schema(
        operation_id="risks_list",
        summary="The risk register",
        description="The risks within your reach (as on the web), 50 a page, by reference. Needs risks:read.",
        responses={200: RiskSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return _risks(self.request.user).order_by("number")


class RiskDetailView(TokenAPIView):
    required_scopes = READ

    @extend_schema(
        operation_id="risks_detail",
        summary="One risk",
        description="Its current scores, treatment, controls and review dates. Needs risks:read.",
        responses={200: RiskSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        risk = _risks(request.user).filter(pk=pk).first()
        if risk is None:
            raise NotFound("No risk with this id that you may see.")
        return Response(RiskSerializer(risk).data)


class AssessmentsView(TokenAPIView):
    @property
    def required_scopes(self):
        """Reading takes risks:read; recording takes risks:write."""
        return WRITE if self.request.method == "POST" else READ

    @extend_schema(
        operation_id="risks_assessments",
        summary="A risk's assessments",
        description="Every assessment of the risk, newest first (at most 500), each with its snapshot and the "
        "criteria version it was made under. Needs risks:read.",
        responses={200: AssessmentSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        risk = _risk(request.user, pk)
        items = Assessment.objects.filter(risk=risk).select_related("matrix").order_by("-number")[:500]
        return Response(AssessmentSerializer(items, many=True).data)

    @extend_schema(
        operation_id="risks_assess",
        summary="Record a review or a change of a risk",
        description="A review (kind review) is recorded even when nothing changes; a change (kind change) needs at "
        "least one new value. Levels must be on the risk criteria's scale. Only the risk's owner or the compliance "
        "team. Needs risks:write.",
        request=AssessmentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: AssessmentSerializer, **WRITE_ERRORS, 404: ERROR},
    )
    def post(self, request, pk: int):
        def record():
            risk = _risk(request.user, pk)
            data = AssessmentCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            action = "review" if data.validated_data["kind"] == "review" else "edit"
            refusal = reach.refusal(request.user, action, risk)
            if refusal:
                raise PermissionDenied(refusal)
            if action == "review":
                assessment = services.risk_review(
                    risk=risk,
                    by=request.user,
                    note=data.validated_data["note"],
                    reviewed_on=data.validated_data.get("reviewed_on"),
                    via="api",
                    **data.changes(),
                )
            else:
                _, assessment = services.risk_update(
                    risk=risk, by=request.user, reason=data.validated_data["note"], via="api", **data.changes()
                )
                if assessment is None:
                    raise ValidationError(
                        "Nothing changed: give the new values, or record a review (kind “review”) to say it was "
                        "checked."
                    )
            assessment = Assessment.objects.select_related("matrix").get(pk=assessment.pk)
            return status.HTTP_201_CREATED, AssessmentSerializer(assessment).data

        return run_once(request, record)


class QueueView(TokenAPIView):
    required_scopes = READ

    @extend_schema(
        operation_id="risks_queue",
        summary="Due for review",
        description="The risks within your reach whose review is overdue, due within 30 days, or asked for out of "
        "cycle. Needs risks:read.",
        responses={200: QueueSerializer, 401: ERROR, 403: ERROR},
    )
    def get(self, request):
        data = selectors.queue(request.user)
        return Response(
            {
                "overdue": QueueItemSerializer(data["overdue"], many=True).data,
                "due": QueueItemSerializer(data["due"], many=True).data,
                "requested": [
                    {**QueueItemSerializer(r.risk).data, "reason": r.reason, "source": r.source}
                    for r in data["requested"]
                ],
            }
        )
