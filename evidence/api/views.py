"""The API's endpoints: push evidence, read it back, list my open tasks, complete a task.

Each view is short: the token's scope (HasScope), then the same reach and role rules as the web pages,
then a serializer and one service call. Writes go through `run_once`, which makes them idempotent under
an Idempotency-Key and all-or-nothing (no file without its row, no row without its file)."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotAuthenticated, NotFound, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from evidence.models import ApiToken, EvidenceItem
from evidence.services import (
    evidence_add_file,
    evidence_add_link,
    evidence_add_note,
    occurrence_complete_with_evidence,
)
from isms.foundation import reach
from isms.maintenance.models import Occurrence

from .authentication import HOW_TO, BearerTokenAuthentication
from .parsers import BoundedJSONParser, SafeMultiPartParser
from .permissions import HasScope, evidence_write_refusal
from .serializers import (
    CompletedTaskSerializer,
    ErrorSerializer,
    EvidenceRecordSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    TaskCompleteSerializer,
    TaskFilterSerializer,
    TaskSerializer,
)
from .services import KEY_HEADER, KEY_PATTERN, KeyReused, run_once

Scope = ApiToken.Scope


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _refused_request(exc: SuspiciousOperation) -> Response:
    """Django's refusals of a request's body (too large, too many fields or files), in the API's JSON and logged
    where Django logs them (django.security.*)."""
    logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc))
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        detail = f"The request's fields are larger than {limit // 1024:,} KB together; send a file as a file field."
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        detail = f"The request has too many fields (more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
    elif isinstance(exc, TooManyFilesSent):
        detail = f"The request has too many files (more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES})."
    else:
        detail = "The request could not be read."
    return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    """DRF's handler, plus: domain refusals (Django ValidationError) are 400s with their message, a body Django
    refuses (too large, too many fields) a 413 or 400, a reused Idempotency-Key is a 422, and a missing token says
    how to send one. Always JSON."""
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):
        return _refused_request(exc)
    if isinstance(exc, KeyReused):
        return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, NotAuthenticated):
        exc.detail = f"This API needs a token. {HOW_TO} Make one under API tokens (/api/tokens/)."
    return drf_exception_handler(exc, context)


class TokenAPIView(APIView):
    """A view scripts call with a bearer token; never a browser session, so no CSRF and no login redirect."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes: tuple[str, ...] = ()

    @classmethod
    def as_view(cls, **initkwargs):
        # The token is the credential: LoginRequiredMiddleware must not send scripts to the sign-in page.
        return login_not_required(super().as_view(**initkwargs))


ERROR = OpenApiResponse(ErrorSerializer, description="Refused; `detail` says why.")
FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Invalid input: `{field: [messages]}` naming each field at fault, or `detail`."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    KEY_HEADER,
    {"type": "string", "pattern": KEY_PATTERN, "maxLength": 255},
    OpenApiParameter.HEADER,
    description="Optional, recommended: 1–255 visible ASCII characters, no spaces. A retry with the same key and "
    "the same request gets the first answer again (header Idempotent-Replayed: true) and writes nothing; the same key "
    "with a different request is refused with 422.",
)
WRITE_ERRORS = {
    400: FIELD_ERRORS,
    401: ERROR,
    403: ERROR,
    422: OpenApiResponse(ErrorSerializer, description="The Idempotency-Key was used before for a different request."),
}


class EvidenceCreateView(TokenAPIView):
    required_scopes = (Scope.EVIDENCE_WRITE,)
    parser_classes = [SafeMultiPartParser, BoundedJSONParser]

    @extend_schema(
        operation_id="evidence_create",
        summary="Push evidence for a control, a task or a requirement",
        description="A file as multipart/form-data, or a link or a note as JSON. Control owners may push for the "
        "controls and tasks they own, the compliance team for anything. Needs the evidence:write scope.",
        request={"multipart/form-data": EvidenceUploadSerializer, "application/json": EvidenceRecordSerializer},
        parameters=[IDEMPOTENCY_KEY],
        responses={201: EvidenceSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        def push():
            multipart = request.content_type.startswith("multipart/")
            serializer_class = EvidenceUploadSerializer if multipart else EvidenceRecordSerializer
            serializer = serializer_class(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            targets = {k: data.get(k) for k in ("control", "occurrence", "requirement")}
            refusal = evidence_write_refusal(request.user, **targets)
            if refusal:
                raise PermissionDenied(refusal)
            fields = {
                "by": request.user,
                "source": EvidenceItem.Source.API,
                "title": data.get("title") or "",
                **targets,
                **{k: data.get(k) for k in ("effective_date", "period_start", "period_end", "expires_on")},
            }
            if multipart:
                item = evidence_add_file(upload=data["file"], **fields)
            elif data["type"] == EvidenceItem.Type.LINK:
                item = evidence_add_link(url=data["url"], **fields)
            else:
                item = evidence_add_note(note=data["note"], **fields)
            return status.HTTP_201_CREATED, EvidenceSerializer(item).data

        return run_once(request, push)


class EvidenceDetailView(TokenAPIView):
    required_scopes = (Scope.EVIDENCE_WRITE, Scope.TASKS_READ)

    @extend_schema(
        operation_id="evidence_retrieve",
        summary="Read one piece of evidence",
        description="Only evidence within your role's reach (as on the web); any other id answers 404. "
        "Needs the evidence:write or tasks:read scope.",
        responses={200: EvidenceSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def get(self, request, pk: int):
        item = reach.visible(request.user, EvidenceItem).select_related("submitted_by").filter(pk=pk).first()
        if item is None:
            raise NotFound("No evidence with this id that you may read.")
        return Response(EvidenceSerializer(item).data)


class TaskPages(PageNumberPagination):
    """50 tasks a page; a page past the last, or not a whole number from 1, is a 404 that says so."""

    invalid_page_message = (
        "There is no page “{page_number}” of tasks: pages are numbered from 1 to the last one (whose next is null)."
    )


class TaskListView(TokenAPIView, generics.ListAPIView):
    required_scopes = (Scope.TASKS_READ,)
    serializer_class = TaskSerializer
    pagination_class = TaskPages

    @extend_schema(
        operation_id="tasks_list",
        summary="My open tasks",
        description="Open and missed tasks owned by the token's user, soonest first, 50 a page. Needs tasks:read.",
        parameters=[TaskFilterSerializer],
        responses={
            200: TaskSerializer(many=True),
            400: FIELD_ERRORS,
            401: ERROR,
            403: ERROR,
            404: OpenApiResponse(ErrorSerializer, description="No such page: `page` is past the last page or below 1."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = TaskFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        today = timezone.localdate()
        qs = Occurrence.objects.filter(
            owner=self.request.user, state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED]
        ).select_related("schedule", "department", "owner", "completed_by")
        if filters.validated_data.get("status"):
            qs = qs.with_status(filters.validated_data["status"], today)
        if filters.validated_data.get("due_before"):
            qs = qs.filter(due_date__lte=filters.validated_data["due_before"])
        return qs.order_by("due_date", "pk")


class TaskCompleteView(TokenAPIView):
    required_scopes = (Scope.TASKS_WRITE,)
    parser_classes = [SafeMultiPartParser, BoundedJSONParser]

    @extend_schema(
        operation_id="task_complete",
        summary="Complete a task with a note and evidence",
        description="Marks the task done at server time (late if after its due date) with the files and links as "
        "its evidence. Only the task's owner or the compliance team. Needs tasks:write.",
        request={"multipart/form-data": TaskCompleteSerializer, "application/json": TaskCompleteSerializer},
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: CompletedTaskSerializer,
            **WRITE_ERRORS,
            404: ERROR,
            409: OpenApiResponse(ErrorSerializer, description="The task is already done or skipped."),
        },
    )
    def post(self, request, pk: int):
        def complete():
            user = request.user
            occ = reach.visible(user, Occurrence).filter(pk=pk).first()
            if occ is None:
                raise NotFound("No task with this id that you may see.")
            refusal = reach.refusal(user, "complete", occ)
            if refusal:
                raise PermissionDenied(refusal)
            if not occ.is_actionable:
                raise Conflict(f"This task is already {occ.get_state_display().lower()}.")
            serializer = TaskCompleteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            done = occurrence_complete_with_evidence(
                occurrence=occ, by=user, note=data["note"], via="api", files=data["files"], links=data["links"]
            )
            done = (
                Occurrence.objects.select_related("schedule", "department", "owner", "completed_by")
                .prefetch_related("evidence__submitted_by")
                .get(pk=done.pk)
            )
            return status.HTTP_200_OK, CompletedTaskSerializer(done).data

        return run_once(request, complete)
