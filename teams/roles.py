"""Roles: groups with exact permissions. What a role may do is here; where it may do it is
the user's federation unit (jurisdiction), applied by `teams.selectors.visible_to`.

The full-identity permissions (`teams.view_full_identity`, `children.view_full_identity`)
belong to no role: they are granted to named people, one by one.

`sync_roles()` (run by a data migration and by `manage.py sync_roles`) makes each group hold
exactly these permissions, so a role can be re-applied after new models are added.
"""

from fnmatch import fnmatch

APPS = ("teams", "children", "pairing")
FULL_IDENTITY = {"teams.view_full_identity", "children.view_full_identity"}

CITY_ADMIN = "市妇联管理员"
DISTRICT_STAFF = "区妇联工作人员"
STREET_STAFF = "街道(镇)妇联工作人员"
VILLAGE_STAFF = "村(居)妇联工作人员"
COORDINATOR = "数据协调员"
REVIEWER = "活动审核员"
VOLUNTEER = "爱心妈妈"
TEAM_LEADER = "爱心妈妈队长"
PARTNER = "合作部门(只读)"

# Records of the programme that staff keep in their jurisdiction.
_PROGRAMME = [
    "teams.*_volunteer",
    "teams.*_safeguardingcheck",
    "teams.view_volunteerstatuschange",
    "teams.*_team",
    "teams.*_teammembership",
    "teams.*_project",
    "teams.*_honour",
    "children.*_child",
    "children.*_guardian",
    "children.*_consentrecord",
    "pairing.*_pairing",
    "pairing.*_activitylog",
    "pairing.*_donor",
    "pairing.*_donation",
    "pairing.*_donationallocation",
    "pairing.view_cadencesetting",
    "teams.view_federation",
]
_NO_DELETE = ["*.delete_child", "*.delete_pairing", "*.delete_activitylog", "*.delete_volunteer"]

ROLES: dict[str, dict] = {
    CITY_ADMIN: {
        "description": "市妇联:全市范围内的全部数据与账号管理,审计日志查看与导出,结对规则(联系频次)设置。",
        "include": ["teams.*", "children.*", "pairing.*"],
        "exclude": [*FULL_IDENTITY, "teams.change_auditevent", "teams.delete_auditevent", "teams.add_auditevent"],
        "staff": True,
    },
    DISTRICT_STAFF: {
        "description": "区妇联工作人员:本区范围内登记、修改爱心妈妈、队伍、儿童、结对和帮扶记录;管理本区账号。",
        "include": [*_PROGRAMME, "teams.add_federation", "teams.change_federation", "teams.*_user"],
        "exclude": [*_NO_DELETE, "teams.delete_user"],
        "staff": True,
    },
    STREET_STAFF: {
        "description": "街道(镇)妇联工作人员:本街道(镇)范围内登记、修改爱心妈妈、队伍、儿童、结对和帮扶记录。",
        "include": _PROGRAMME,
        "exclude": _NO_DELETE,
        "staff": True,
    },
    VILLAGE_STAFF: {
        "description": "村(居)妇联工作人员:本村(居)范围内登记、修改爱心妈妈、儿童、结对和帮扶记录。",
        "include": _PROGRAMME,
        "exclude": [*_NO_DELETE, "teams.delete_*", "pairing.delete_*", "children.delete_*"],
        "staff": True,
    },
    COORDINATOR: {
        "description": "数据协调员:在本辖区内导入(新增、更新)和导出表格;不能删除。",
        "include": [
            "teams.view_federation",
            "teams.view_volunteer",
            "teams.add_volunteer",
            "teams.change_volunteer",
            "teams.view_team",
            "teams.add_team",
            "teams.change_team",
            "teams.view_teammembership",
            "teams.add_teammembership",
            "teams.change_teammembership",
            "children.view_child",
            "children.add_child",
            "children.change_child",
            "pairing.view_pairing",
            "pairing.add_pairing",
            "pairing.view_activitylog",
            "pairing.add_activitylog",
            "pairing.view_donation",
            "pairing.add_donation",
            "pairing.view_donor",
            "pairing.add_donor",
        ],
        "exclude": [],
        "staff": True,
    },
    REVIEWER: {
        "description": "活动审核员:查看本辖区的帮扶记录并审核(通过或退回)。",
        "include": [
            "teams.view_federation",
            "pairing.view_activitylog",
            "pairing.change_activitylog",
            "pairing.review_activitylog",
            "pairing.view_pairing",
        ],
        "exclude": [],
        "staff": True,
    },
    VOLUNTEER: {
        "description": "爱心妈妈:只使用手机端页面(我的结对、记录活动、我的记录),不能进入管理后台。",
        "include": [],
        "exclude": [],
        "staff": False,
    },
    TEAM_LEADER: {
        "description": "爱心妈妈队长:手机端页面上另可查看本队结对并记录队伍活动,不能进入管理后台。",
        "include": [],
        "exclude": [],
        "staff": False,
    },
    PARTNER: {
        "description": "合作部门(检察院、教育局等):只读查看本辖区的妇联组织和队伍;在转介功能上线前看不到任何儿童记录。",
        "include": ["teams.view_federation", "teams.view_team", "teams.view_project", "teams.view_honour"],
        "exclude": [],
        "staff": True,
    },
}


def role_permission_keys(role: str, available: list[str]) -> set[str]:
    """The "app_label.codename" keys a role holds, out of `available`."""
    spec = ROLES[role]
    chosen = {key for key in available if any(fnmatch(key, pattern) for pattern in spec["include"])}
    chosen -= {key for key in chosen if any(fnmatch(key, pattern) for pattern in spec["exclude"])}
    return chosen - FULL_IDENTITY


def sync_roles(group_model=None, permission_model=None) -> dict[str, int]:
    """Create the groups and give each exactly its permissions. Returns permissions per role."""
    if group_model is None:
        from django.contrib.auth.models import Group as group_model  # noqa: N813
        from django.contrib.auth.models import Permission as permission_model  # noqa: N813
    permissions = {
        f"{app}.{codename}": pk
        for pk, app, codename in permission_model.objects.filter(content_type__app_label__in=APPS).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    counts = {}
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        keys = role_permission_keys(role, list(permissions))
        group.permissions.set([permissions[key] for key in keys])
        counts[role] = len(keys)
    return counts


def staff_roles() -> list[str]:
    return [name for name, spec in ROLES.items() if spec["staff"]]
