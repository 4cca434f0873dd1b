"""Forms of the volunteers' pages: sign-in and the activity log.

Every choice a volunteer can make is limited to what is hers: the children are her active
pairings (and her teams'), the teams those she leads, the projects those of her teams. A
crafted post naming anything else fails validation with a Chinese message and saves nothing.
"""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Project, Team

from .models import ActivityKind, ActivityMode, Pairing
from .volunteer_services import active_pairings_of, led_teams

SIGN_IN_FAILED = _("手机号码/用户名或密码不正确")


class VolunteerSignInForm(AuthenticationForm):
    """One message for every failure: an unknown account and a wrong password look alike."""

    username = forms.CharField(label=_("手机号码或用户名"), max_length=150)
    error_messages = {"invalid_login": SIGN_IN_FAILED, "inactive": SIGN_IN_FAILED}


class PairingChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, pairing):
        label = pairing.child.name
        if pairing.team_id:
            label += f"({pairing.team.name})"
        return label


class ActivityForm(forms.Form):
    TARGET_CHILDREN = "children"
    TARGET_TEAM = "team"

    target = forms.ChoiceField(
        label=_("活动对象"),
        choices=[(TARGET_CHILDREN, _("结对儿童")), (TARGET_TEAM, _("队伍集体活动"))],
        initial=TARGET_CHILDREN,
        widget=forms.RadioSelect,
    )
    pairings = PairingChoiceField(
        label=_("服务的儿童"),
        queryset=Pairing.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("所选儿童不在您的结对名单中。"), "invalid_pk_value": _("所选儿童无效。")},
    )
    team = forms.ModelChoiceField(
        label=_("队伍"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("请选择队伍"),
        error_messages={"invalid_choice": _("您不是所选队伍的队长。")},
    )
    project = forms.ModelChoiceField(
        label=_("所属项目(可不选)"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=_("不属于项目"),
        error_messages={"invalid_choice": _("所选项目不属于您带领的队伍。")},
    )
    kind = forms.ChoiceField(
        label=_("帮扶类型"),
        choices=[("", _("请选择")), *ActivityKind.choices],
        error_messages={"required": _("请选择帮扶类型。"), "invalid_choice": _("请选择有效的帮扶类型。")},
    )
    date = forms.DateField(
        label=_("活动日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("请填写活动日期。"), "invalid": _("请按“年-月-日”填写日期,如 2025-03-08。")},
    )
    mode = forms.ChoiceField(
        label=_("形式"),
        choices=ActivityMode.choices,
        initial=ActivityMode.OFFLINE,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择线上或线下。")},
    )
    duration_minutes = forms.IntegerField(
        label=_("时长(分钟)"),
        min_value=1,
        max_value=24 * 60,
        initial=60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("请填写活动时长。"),
            "invalid": _("请填写整数分钟。"),
            "min_value": _("时长至少 1 分钟。"),
            "max_value": _("时长不能超过 1440 分钟(一天)。"),
        },
    )
    children_reached = forms.IntegerField(
        label=_("服务儿童人次"),
        min_value=0,
        max_value=100_000,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("集体活动填写参加的儿童人次;不少于所选儿童人数。"),
        error_messages={
            "required": _("请填写服务儿童人次(没有填 0)。"),
            "invalid": _("请填写整数。"),
            "min_value": _("人次不能为负数。"),
            "max_value": _("人次过大,请核对。"),
        },
    )
    parents_reached = forms.IntegerField(
        label=_("服务家长人次"),
        min_value=0,
        max_value=100_000,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("请填写服务家长人次(没有填 0)。"),
            "invalid": _("请填写整数。"),
            "min_value": _("人次不能为负数。"),
            "max_value": _("人次过大,请核对。"),
        },
    )
    place = forms.CharField(label=_("地点"), max_length=200, required=False)
    description = forms.CharField(
        label=_("活动内容"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": _("活动内容请控制在 4000 字以内。")},
    )

    def __init__(self, *args, volunteer, log=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.volunteer = volunteer
        self.log = log
        pairings = active_pairings_of(volunteer)
        if log is not None:
            # A pairing that ended after the log was filed stays selectable on its edit page.
            pairings = (pairings | Pairing.objects.filter(pk__in=log.pairings.values("pk"))).distinct()
        self.fields["pairings"].queryset = pairings.select_related("child", "team").order_by("child__name", "pk")
        teams = led_teams(volunteer)
        self.fields["team"].queryset = teams
        self.fields["project"].queryset = Project.objects.filter(team__in=teams).order_by("team__name", "name")
        self.fields["project"].label_from_instance = lambda p: f"{p.team.name} · {p.name}"
        self.fields["project"].queryset = self.fields["project"].queryset.select_related("team")
        self.fields["date"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["date"].initial = timezone.localdate
        self.fields["description"].widget.attrs["placeholder"] = _("做了什么、孩子的情况、需要妇联跟进的事")
        if log is not None:
            # The kind of log (her own or her team's) is fixed once filed.
            self.fields["target"].disabled = True
            self.fields["team"].disabled = True
        self.is_leader = log.team_id is not None if log is not None else teams.exists()

    def full_clean(self):
        super().full_clean()
        self.mark_errors()

    def mark_errors(self):
        """Tie each error message to its input for screen readers."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise ValidationError(_("活动日期不能晚于今天。"))
        return date

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == self.TARGET_TEAM and not self.is_leader:
            self.add_error(None, _("只有队长可以填报队伍集体活动。"))
        elif target == self.TARGET_TEAM:
            team = data.get("team")
            if "team" not in self.errors and team is None:
                self.add_error("team", _("请选择开展集体活动的队伍。"))
            project = data.get("project")
            if team is not None and project is not None and project.team_id != team.pk:
                self.add_error("project", _("所选项目不属于该队伍。"))
            for p in data.get("pairings") or []:
                if team is not None and p.team_id != team.pk:
                    self.add_error("pairings", _("%(child)s不是该队伍的结对儿童。") % {"child": p.child.name})
        elif target == self.TARGET_CHILDREN:
            if "pairings" not in self.errors and not data.get("pairings"):
                self.add_error("pairings", _("请至少选择一名儿童。"))
            if data.get("project") is not None:
                self.add_error("project", _("项目只用于队伍集体活动。"))
        return data

    def activity_fields(self) -> dict:
        d = self.cleaned_data
        fields = {
            name: d[name]
            for name in (
                "date",
                "kind",
                "mode",
                "duration_minutes",
                "children_reached",
                "parents_reached",
                "place",
                "description",
            )
        }
        fields["pairings"] = list(d.get("pairings") or [])
        if d.get("target") == self.TARGET_TEAM:
            fields["project"] = d.get("project")
        return fields

    def add_service_errors(self, exc: ValidationError):
        """Put the rule violations of a service beside the fields they are about."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, errors in exc.message_dict.items():
            name = key if key in self.fields else None
            for message in errors:
                self.add_error(name, message)
        self.mark_errors()
