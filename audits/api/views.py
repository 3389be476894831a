"""The audit programme's API: read nonconformities, audits and management reviews (token scope audits:read),
through the same reach rule as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from evidence.api.views import ERROR, TokenAPIView
from evidence.models import ApiToken
from isms.foundation import reach

from ..models import Audit, ManagementReview, Nonconformity
from .serializers import AuditSerializer, NonconformitySerializer, ReviewSerializer

READ = (ApiToken.Scope.AUDITS_READ,)


READ_ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}


class Pages(PageNumberPagination):
    """50 a page; a page past the last, or not a whole number from 1, is a 404 that says so."""

    page_size = 50
    invalid_page_message = "There is no page “{page_number}”: pages are numbered from 1 to the last one."


def _ncs(user):
    return (
        reach.visible(user, Nonconformity)
        .select_related("owner")
        .prefetch_related("requirements", "actions__owner", "checks__checker")
    )


def _audits(user):
    return reach.visible(user, Audit).select_related("lead_auditor").prefetch_related("scope")


def _reviews(user):
    return reach.visible(user, ManagementReview).select_related("chair")


def _register(name: str, serializer, rows, order: str, what: str):
    """A list view and a detail view of one kind of record."""

    class ListView(TokenAPIView, generics.ListAPIView):
        required_scopes = READ
        serializer_class = serializer
        pagination_class = Pages

        @extend_schema(
            operation_id=f"audits_{name}_list",
            summary=f"The {what} you may see (50 a page). Needs audits:read.",
            responses={200: serializer(many=True), **READ_ERRORS},
        )
        def get(self, request, *args, **kwargs):
            return super().get(request, *args, **kwargs)

        def get_queryset(self):
            return rows(self.request.user).order_by(order)

    class DetailView(TokenAPIView):
        required_scopes = READ

        @extend_schema(
            operation_id=f"audits_{name}_detail",
            summary=f"One of the {what}. Needs audits:read.",
            responses={200: serializer, **READ_ERRORS},
        )
        def get(self, request, pk: int):
            obj = rows(request.user).filter(pk=pk).first()
            if obj is None:
                raise NotFound("Nothing with this id that you may see.")
            return Response(serializer(obj).data)

    ListView.__name__ = ListView.__qualname__ = f"{name.title()}ListView"
    DetailView.__name__ = DetailView.__qualname__ = f"{name.title()}DetailView"
    return ListView, DetailView


NonconformityListView, NonconformityDetailView = _register(
    "nonconformities", NonconformitySerializer, _ncs, "-number", "nonconformities"
)
AuditListView, AuditDetailView = _register("audits", AuditSerializer, _audits, "planned_on", "audits")
ReviewListView, ReviewDetailView = _register("reviews", ReviewSerializer, _reviews, "-planned_on", "management reviews")
