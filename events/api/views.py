"""The events API: read the four registers (token scope events:read), through the same reach rule as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from evidence.api.views import ERROR, TokenAPIView
from evidence.models import ApiToken

from .. import selectors
from .serializers import ChangeSerializer, IncidentSerializer, ObjectiveSerializer, SupplierSerializer

READ = (ApiToken.Scope.EVENTS_READ,)


READ_ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}


class Pages(PageNumberPagination):
    """50 a page; a page past the last, or not a whole number from 1, is a 404 that says so."""

    page_size = 50
    invalid_page_message = "There is no page “{page_number}”: pages are numbered from 1 to the last one."


def _register(name: str, serializer, rows, order: str, what: str):
    """A list view and a detail view of one register."""

    class ListView(TokenAPIView, generics.ListAPIView):
        required_scopes = READ
        serializer_class = serializer
        pagination_class = Pages

        @extend_schema(
            operation_id=f"{name}_list",
            summary=f"The {what} you may see (50 a page). Needs events:read.",
            responses={200: serializer(many=True), **READ_ERRORS},
        )
        def get(self, request, *args, **kwargs):
            return super().get(request, *args, **kwargs)

        def get_queryset(self):
            return rows(self.request.user).order_by(order)

    class DetailView(TokenAPIView):
        required_scopes = READ

        @extend_schema(
            operation_id=f"{name}_detail",
            summary=f"One of the {what}. Needs events:read.",
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


IncidentListView, IncidentDetailView = _register(
    "incidents", IncidentSerializer, selectors.incident_list, "-number", "incidents"
)
ChangeListView, ChangeDetailView = _register("changes", ChangeSerializer, selectors.change_list, "-number", "changes")
SupplierListView, SupplierDetailView = _register(
    "suppliers", SupplierSerializer, selectors.supplier_list, "name", "suppliers"
)
ObjectiveListView, ObjectiveDetailView = _register(
    "objectives", ObjectiveSerializer, selectors.objective_list, "due_on", "ISMS objectives"
)
