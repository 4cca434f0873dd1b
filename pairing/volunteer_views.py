"""The volunteers' own pages, phone first: sign-in, 我的结对, 记录活动, 我的记录.

Plain Django views over `pairing.volunteer_services`. Every object is looked up through the
signed-in volunteer's own pairings, teams and logs, so another volunteer's child or log
answers 404 whatever the id. Staff use the admin: a staff member without a volunteer record
is sent there.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from teams.audit import record_event
from teams.models import AuditAction, VolunteerStatus

from .models import ReviewStatus
from .services import update_activity, withdraw_activity
from .volunteer_forms import ActivityForm, VolunteerSignInForm
from .volunteer_services import (
    AlreadySubmitted,
    active_pairings_of,
    grouped_pairings,
    issue_form_token,
    logs_for_child,
    my_child,
    my_log,
    my_logs,
    my_pairings,
    record_my_activity,
    volunteer_of,
)

ADMIN_HOME = "/admin/"
# What she sees: a submitted log is "已提交" until someone reviews it.
STATUS_LABELS = {
    ReviewStatus.SUBMITTED: "已提交 · 待审核",
    ReviewStatus.APPROVED: "已通过",
    ReviewStatus.RETURNED: "已退回,请修改",
    ReviewStatus.WITHDRAWN: "已撤回",
}
CLEAR_DRAFT_KEY = "volunteer_clear_draft"


def with_status_labels(logs) -> list:
    rows = list(logs)
    for row in rows:
        row.status_label = STATUS_LABELS.get(row.status, row.get_status_display())
    return rows


def volunteer_required(view):
    """Signed in, with a volunteer record: sets `request.volunteer`. Staff without one go to the admin."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("volunteer:login"))
        volunteer = volunteer_of(request.user)
        if volunteer is None:
            if request.user.is_staff:
                return redirect(ADMIN_HOME)
            return render(request, "volunteer/no_profile.html", status=403)
        if request.user.must_change_password:
            messages.info(request, "请先设置您自己的密码(工作人员给您的是临时密码)。")
            return redirect("volunteer:password_change")
        if volunteer.status == VolunteerStatus.LEFT:
            return render(request, "volunteer/no_profile.html", {"left": True}, status=403)
        if volunteer.status == VolunteerStatus.SUSPENDED:
            # A suspended volunteer (e.g. a safeguarding concern) sees no child and logs nothing.
            return render(request, "volunteer/no_profile.html", {"suspended": True}, status=403)
        request.volunteer = volunteer
        return view(request, *args, **kwargs)

    return wrapper


# --- sign-in, sign-out, password -------------------------------------------------------------


class SignInView(auth_views.LoginView):
    template_name = "volunteer/login.html"
    authentication_form = VolunteerSignInForm
    redirect_authenticated_user = True

    def get_success_url(self):
        if self.request.user.is_staff:
            return ADMIN_HOME
        return super().get_success_url()

    def get_default_redirect_url(self):
        return reverse("volunteer:home")


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("volunteer:login")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "volunteer/password_change.html"
    success_url = reverse_lazy("volunteer:home")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("volunteer:login"))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        if self.request.user.must_change_password:
            self.request.user.must_change_password = False
            self.request.user.save(update_fields=["must_change_password"])
        messages.success(self.request, "密码已修改。")
        return response


def page_not_found(request, exception=None):
    # Staff in the admin get the admin's look; everyone else the volunteers' pages.
    if request.path.startswith(reverse("admin:index")):
        return render(request, "admin/404.html", {"site_title": "爱心妈妈"}, status=404)
    return render(request, "volunteer/404.html", status=404)


# --- 我的结对 -------------------------------------------------------------------------------


@volunteer_required
def home(request):
    volunteer = request.volunteer
    today = timezone.localdate()
    rows = my_pairings(volunteer, today=today)
    context = {
        "nav": "children",
        "volunteer": volunteer,
        "groups": grouped_pairings(volunteer, rows),
        "overdue_count": sum(1 for r in rows if r.is_overdue),
        "today": today,
    }
    return render(request, "volunteer/home.html", context)


@volunteer_required
def child_detail(request, child_id):
    child, rows = my_child(request.volunteer, child_id)
    if child is None:
        raise Http404("not one of her children")
    logs = with_status_labels(logs_for_child(request.volunteer, child)[:20])
    record_event(AuditAction.VIEW, request=request, obj=child, page="volunteer")
    return render(
        request, "volunteer/child_detail.html", {"nav": "children", "child": child, "rows": rows, "logs": logs}
    )


# --- 记录活动 -------------------------------------------------------------------------------


@volunteer_required
def log_new(request):
    volunteer = request.volunteer
    if request.method == "POST":
        form = ActivityForm(request.POST, volunteer=volunteer)
        token = request.POST.get("form_token", "")
        if form.is_valid():
            fields = form.activity_fields()
            team = form.cleaned_data["team"] if form.cleaned_data["target"] == ActivityForm.TARGET_TEAM else None
            try:
                record_my_activity(
                    volunteer=volunteer, by=request.user, session=request.session, token=token, team=team, **fields
                )
            except AlreadySubmitted:
                messages.info(request, "这份记录已经提交过,没有重复保存。")
                request.session[CLEAR_DRAFT_KEY] = draft_key(volunteer)
                return redirect("volunteer:logs")
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "帮扶记录已提交,等待妇联审核。")
                request.session[CLEAR_DRAFT_KEY] = draft_key(volunteer)
                return redirect("volunteer:logs")
    else:
        initial = {}
        child_id = request.GET.get("child", "")
        if child_id.isdigit():  # "记录活动" from a child's card: that child ticked
            initial["pairings"] = list(
                active_pairings_of(volunteer).filter(child_id=int(child_id)).values_list("pk", flat=True)
            )
        form = ActivityForm(volunteer=volunteer, initial=initial)
        token = issue_form_token(request.session)
    return render(
        request,
        "volunteer/log_form.html",
        {"nav": "log", "form": form, "form_token": token, "draft_key": draft_key(volunteer), "log": None},
    )


def draft_key(volunteer, log=None) -> str:
    return f"aixinmama-draft:{volunteer.pk}:{log.pk if log else 'new'}"


# --- 我的记录 -------------------------------------------------------------------------------


@volunteer_required
def logs(request):
    rows = with_status_labels(my_logs(request.volunteer)[:100])
    return render(
        request,
        "volunteer/logs.html",
        {"nav": "logs", "logs": rows, "clear_draft": request.session.pop(CLEAR_DRAFT_KEY, "")},
    )


@volunteer_required
def log_edit(request, log_id):
    volunteer = request.volunteer
    log = my_log(volunteer, log_id)
    if log is None:
        raise Http404("not her log")
    if not log.editable_by_doer:
        messages.warning(request, "已审核通过或已撤回的记录不能修改。")
        return redirect("volunteer:logs")
    initial = {
        "target": ActivityForm.TARGET_TEAM if log.team_id else ActivityForm.TARGET_CHILDREN,
        "team": log.team_id,
        "project": log.project_id,
        "pairings": [p.pk for p in log.pairings.all()],
        "kind": log.kind,
        "date": log.date,
        "mode": log.mode,
        "duration_minutes": log.duration_minutes,
        "children_reached": log.children_reached,
        "parents_reached": log.parents_reached,
        "place": log.place,
        "description": log.description,
    }
    if request.method == "POST":
        form = ActivityForm(request.POST, volunteer=volunteer, log=log, initial=initial)
        if form.is_valid():
            fields = form.activity_fields()
            if not log.team_id:
                fields.pop("project", None)
            try:
                update_activity(activity=log, by=request.user, **fields)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "记录已修改并重新提交审核。")
                request.session[CLEAR_DRAFT_KEY] = draft_key(volunteer, log)
                return redirect("volunteer:logs")
    else:
        form = ActivityForm(volunteer=volunteer, log=log, initial=initial)
    return render(
        request,
        "volunteer/log_form.html",
        {"nav": "logs", "form": form, "form_token": "", "draft_key": draft_key(volunteer, log), "log": log},
    )


@require_POST
@volunteer_required
def log_withdraw(request, log_id):
    log = my_log(request.volunteer, log_id)
    if log is None:
        raise Http404("not her log")
    try:
        withdraw_activity(activity=log, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "记录已撤回。")
    return redirect("volunteer:logs")
