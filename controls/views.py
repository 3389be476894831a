"""Controls, frameworks and requirements pages."""

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isms.foundation import reach
from isms.foundation.lists import ListPage
from isms.foundation.pagecache import cached_page
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, STAFF
from isms.maintenance.models import Schedule

from . import hooks, selectors, services
from .filtersets import ControlFilterSet
from .forms import AdoptActivityForm, ControlForm
from .models import Control, Framework, Requirement
from .tables import ControlTable

CONTROLS = ListPage(
    title="Controls",
    filterset=ControlFilterSet,
    table=ControlTable,
    empty_text="No controls yet. The compliance team adds them with “New control”, each with an owner.",
    template_name="controls/index.html",
)


@role_required(STAFF)
@cached_page
def index(request):
    """Every control, filtered, sorted and paged; downloadable as CSV or Excel."""
    return CONTROLS.render(request, selectors.control_list())


@role_required(STAFF)
def control_detail(request, pk: int):
    control = reach.get_or_404(request, Control.objects.select_related("owner", "department"), pk=pk)
    requirements = control.requirements.select_related("framework").order_by("framework__name", "position")
    schedules = Schedule.objects.filter(pk__in=control.schedules.values("pk")).select_related("owner")
    can_edit = reach.may(request.user, "edit", control)
    return render(
        request,
        "controls/detail.html",
        {
            "control": control,
            "requirements": requirements,
            "schedules": schedules,
            "can_edit": can_edit,
            "adopt_form": AdoptActivityForm(initial={"owner": control.owner_id, "start_date": timezone.localdate()}),
            "panels": hooks.control_panels(request.user, control),
        },
    )


@role_required(MANAGERS)
def control_create(request):
    form = ControlForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        control = form.save()
        messages.success(request, f"Control {control.reference} created.")
        return redirect("controls:detail", control.pk)
    return render(request, "controls/form.html", {"form": form, "title": "New control"})


@role_required(STAFF)
def control_edit(request, pk: int):
    control = reach.get_or_404(request, Control, "edit", pk=pk)
    form = ControlForm(request.POST or None, instance=control)
    if not reach.may(request.user, "assign_owner", control):
        form.fields["owner"].disabled = True  # an owner cannot hand their control to someone else
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Control {control.reference} saved.")
        return redirect("controls:detail", control.pk)
    return render(
        request, "controls/form.html", {"form": form, "title": f"Edit {control.reference}", "control": control}
    )


@role_required(MANAGERS)
def activity_adopt(request, pk: int):
    control = reach.get_or_404(request, Control, "adopt_activity", pk=pk)
    form = AdoptActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        schedule = services.activity_adopt(control=control, by=request.user, **form.cleaned_data)
        messages.success(request, f"“{schedule.title}” is on the calendar, owned by {schedule.owner}.")
        return redirect("controls:detail", control.pk)
    return render(
        request,
        "controls/form.html",
        {"form": form, "title": f"Add a periodic activity to {control.reference}", "control": control},
    )


@require_POST
@role_required(MANAGERS)
def catalogues_load(request):
    """Load or update the shipped catalogues (ISO/IEC 27001:2022 Annex A, clauses 4–10, GDPR…)."""
    results = services.catalogues_load_shipped(by=request.user)
    names = ", ".join(r.framework.name for r in results)
    added = sum(r.created for r in results)
    messages.success(request, f"Catalogues loaded: {names}. {added} new requirement{'s' if added != 1 else ''}.")
    return redirect("controls:soa" if request.POST.get("next") == "soa" else "controls:frameworks")


@role_required(STAFF)
def framework_list(request):
    frameworks = Framework.objects.annotate(
        requirement_count=Count("requirements", filter=Q(requirements__retired=False), distinct=True),
        mapped_count=Count("requirements", filter=Q(requirements__controls__isnull=False), distinct=True),
    )
    return render(request, "controls/frameworks.html", {"frameworks": frameworks})


@role_required(STAFF)
def framework_detail(request, code: str):
    framework = reach.get_or_404(request, Framework, code=code)
    requirements = (
        framework.requirements.filter(retired=False)
        .prefetch_related(Prefetch("controls", queryset=Control.objects.only("pk", "reference", "name")))
        .order_by("position")
    )
    return render(request, "controls/framework.html", {"framework": framework, "requirements": requirements})


@role_required(STAFF)
def requirement_detail(request, pk: int):
    requirement = reach.get_or_404(request, Requirement.objects.select_related("framework"), pk=pk)
    controls = requirement.controls.select_related("owner").order_by("reference")
    return render(request, "controls/requirement.html", {"requirement": requirement, "controls": controls})
