"""Reads: last contact and overdue pairings, pairing suggestions, coverage, donation totals.

Each selector runs a fixed number of queries whatever the number of rows (annotations,
subqueries and grouped aggregates, never a query per row), and takes `today` as an argument
so tests can fix the clock.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from children.models import Child
from teams.models import Federation, Level, Team, TeamCategory, TeamKind, Volunteer
from teams.selectors import visible_to

from .models import (
    CONTACT_STATUSES,
    ActivityLog,
    CadenceSetting,
    Donation,
    Pairing,
    PairingStatus,
)

# --- last contact, due date, overdue ------------------------------------------------------


def computed_last_activity():
    """The definition of `Pairing.last_activity_on`: the latest date of a submitted or approved
    activity log of the outer pairing (or NULL), as a correlated MAX subquery."""
    return Subquery(
        ActivityLog.objects.filter(pairings=OuterRef("pk"), status__in=CONTACT_STATUSES)
        .values("pairings")
        .annotate(last=Max("date"))
        .values("last")[:1],
        output_field=DateField(),
    )


def with_last_contact(queryset):
    """Annotate `last_contact_on`: the last activity (`last_activity_on`), or the start date when there is none."""
    return queryset.annotate(last_contact_on=Coalesce("last_activity_on", "start_date", output_field=DateField()))


def overdue_condition(days_by_grade: dict[str, int], today: datetime.date) -> Q:
    """Q for annotated pairings whose last contact is older than their child's cadence."""
    condition = Q(pk__in=[])
    for grade, days in days_by_grade.items():
        condition |= Q(child__risk_grade=grade, last_contact_on__lt=today - datetime.timedelta(days=days))
    return condition


def with_due_date(queryset, days_by_grade: dict[str, int]):
    """Annotate `cadence_days` from the child's risk grade (no date arithmetic in SQL)."""
    return queryset.annotate(
        cadence_days=Case(
            *[When(child__risk_grade=grade, then=Value(days)) for grade, days in days_by_grade.items()],
            default=Value(max(days_by_grade.values())),
            output_field=IntegerField(),
        )
    )


def due_on(pairing) -> datetime.date:
    """Next due contact date of a pairing annotated by with_last_contact + with_due_date."""
    return pairing.last_contact_on + datetime.timedelta(days=pairing.cadence_days)


def overdue_pairings(*, unit: Federation | None = None, today: datetime.date | None = None, queryset=None):
    """Active pairings not contacted within their cadence, oldest contact first.

    Scope with `unit` (the children's jurisdiction) or pass a pre-scoped `queryset`
    (e.g. `visible_to(Pairing.objects.all(), user)`). Two queries: cadence settings, then
    the list (last contact by a correlated MAX subquery). Rows carry `last_activity_on`,
    `last_contact_on`, `cadence_days`; `due_on(row)` is the date it fell due.
    """
    today = today or timezone.localdate()
    days = CadenceSetting.objects.days_by_grade()
    qs = queryset if queryset is not None else Pairing.objects.all()
    if unit is not None:
        qs = qs.within(unit)
    qs = with_due_date(with_last_contact(qs.active()), days)
    return qs.filter(overdue_condition(days, today)).order_by("last_contact_on", "pk")


def volunteer_pairings(volunteer: Volunteer, *, today: datetime.date | None = None):
    """A volunteer's active pairings, her own and her current teams', with last activity and due date.

    For the volunteers' own pages. Each row has `last_activity_on`, `last_contact_on`,
    `cadence_days`, `is_overdue`; use `due_on(row)` for the next due date. Two queries.
    """
    today = today or timezone.localdate()
    days = CadenceSetting.objects.days_by_grade()
    qs = with_due_date(
        with_last_contact(
            Pairing.objects.active().of_volunteer(volunteer).select_related("child", "team", "volunteer")
        ),
        days,
    )
    rows = list(qs.order_by("last_contact_on", "pk"))
    for row in rows:
        row.due_on = due_on(row)
        row.is_overdue = row.due_on < today
    return rows


# --- suggestions ------------------------------------------------------------------------

NEED_TO_CATEGORY = {
    "daily_life": TeamCategory.VENUE,
    "study": TeamCategory.CULTURE,
    "psychological": TeamCategory.COUNSELLING,
    "legal": TeamCategory.LEGAL_AID,
    "family_education": TeamCategory.FAMILY_EDUCATION,
    "special_education": TeamCategory.SPECIAL_EDUCATION,
}
PROXIMITY_LABELS = {0: "同村(居)", 1: "同街道(镇)", 2: "同区", 3: "上级单位"}


@dataclass
class Suggestion:
    kind: str  # "volunteer" or "team"
    obj: object
    proximity: int
    matches_need: bool
    remaining: int

    @property
    def proximity_label(self) -> str:
        return PROXIMITY_LABELS[self.proximity]


def _active_count(field_name: str):
    return Coalesce(
        Subquery(
            Pairing.objects.filter(**{field_name: OuterRef("pk")}, status=PairingStatus.ACTIVE)
            .values(field_name)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def suggestions_for(child: Child, *, limit: int = 20, today: datetime.date | None = None) -> list[Suggestion]:
    """Eligible volunteers and teams for `child`, best first. Four queries.

    Candidates: units that may serve the child without a city-level override (the village,
    its ancestors, anything in the same district); eligible volunteers and teams with room
    left, not already paired with the child. Ranked by proximity (village, street, district,
    higher), then by a match with the child's needs (a specialty team's category or a
    volunteer's skills), then by remaining capacity.
    """
    today = today or timezone.localdate()
    village = child.village
    ancestors = {u.level: u.path for u in Federation.objects.filter(path__in=village.ancestor_paths())}
    street_path = ancestors.get(Level.STREET, village.path)
    district_path = ancestors.get(Level.DISTRICT, street_path)
    categories = [NEED_TO_CATEGORY[n] for n in child.needs.values_list("code", flat=True) if n in NEED_TO_CATEGORY]
    nearby = Q(federation__path__startswith=district_path) | Q(federation__path__in=village.ancestor_paths())
    proximity = Case(
        When(federation__path=village.path, then=Value(0)),
        When(federation__path__startswith=street_path, then=Value(1)),
        When(federation__path__startswith=district_path, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    skill_match = Exists(
        Volunteer.skills.through.objects.filter(volunteer_id=OuterRef("pk"), skillarea__code__in=categories)
    )
    volunteers = (
        Volunteer.objects.eligible(on=today)
        .filter(nearby)
        .exclude(pairings__child=child, pairings__status=PairingStatus.ACTIVE)
        .annotate(proximity=proximity, matches=skill_match, used=_active_count("volunteer"))
        .filter(capacity__gt=F("used"))
        .select_related("federation")
        .order_by("proximity", "-matches", F("capacity") - F("used"), "pk")
    )
    teams = (
        Team.objects.filter(nearby)
        .exclude(pairings__child=child, pairings__status=PairingStatus.ACTIVE)
        .annotate(
            proximity=proximity,
            matches=Case(
                When(kind=TeamKind.SPECIALTY, category__in=categories, then=Value(True)),
                default=Value(False),
            ),
            used=_active_count("team"),
        )
        .filter(capacity__gt=F("used"))
        .select_related("federation")
    )
    result = [
        Suggestion("volunteer", v, v.proximity, bool(v.matches), v.capacity - v.used) for v in volunteers[: limit * 3]
    ]
    result += [Suggestion("team", t, t.proximity, bool(t.matches), t.capacity - t.used) for t in teams[: limit * 3]]
    result.sort(key=lambda s: (s.proximity, not s.matches_need, -s.remaining, s.kind, s.obj.pk))
    return result[:limit]


# --- coverage ---------------------------------------------------------------------------


@dataclass
class CoverageRow:
    unit: Federation | None  # None: children registered directly at the unit itself
    children: int = 0
    paired: int = 0
    overdue: int = 0

    @property
    def unpaired(self) -> int:
        return self.children - self.paired

    @property
    def rate(self) -> float | None:
        return self.paired / self.children if self.children else None


@dataclass
class Coverage:
    unit: Federation
    rows: list[CoverageRow] = field(default_factory=list)
    total: CoverageRow | None = None


def _sub_unit_key(path_field: str, subs: list[Federation]):
    """Case expression: the pk of the direct sub-unit whose path prefixes `path_field` (else 0)."""
    if not subs:
        return Value(0, output_field=IntegerField())
    return Case(
        *[When(**{f"{path_field}__startswith": s.path}, then=Value(s.pk)) for s in subs],
        default=Value(0),
        output_field=IntegerField(),
    )


def _sub_units_by_unit(unit: Federation, subs: list[Federation]) -> dict[int, int]:
    """Every unit within `unit` mapped to the pk of the direct sub-unit it lies in (one query)."""
    by_path = {s.path: s.pk for s in subs}
    depth = unit.path.count("/")
    mapping = {}
    for pk, path in Federation.objects.within(unit).values_list("pk", "path"):
        segments = path.split("/")
        if len(segments) > depth + 1:
            mapping[pk] = by_path.get("/".join(segments[: depth + 1]) + "/", 0)
    return mapping


def coverage(unit: Federation, *, today: datetime.date | None = None) -> Coverage:
    """Coverage of `unit`, per direct sub-unit and in total. Five queries, whatever the size.

    Children in the programme within `unit` are counted per village (one GROUP BY on the
    child table; "paired" = at least one active pairing, an EXISTS), overdue pairings the same
    way; the villages are then summed into the direct sub-unit whose path prefixes theirs, in
    Python, from one query of the units' paths. Children registered at `unit` itself form a
    row with `unit=None`.
    """
    today = today or timezone.localdate()
    subs = list(Federation.objects.filter(parent=unit).order_by("path"))
    sub_of_unit = _sub_units_by_unit(unit, subs)
    child_rows = (
        Child.objects.in_programme()
        .within(unit)
        .annotate(is_paired=Exists(Pairing.objects.filter(child=OuterRef("pk"), status=PairingStatus.ACTIVE)))
        .values("village_id")
        .annotate(children=Count("pk"), paired=Count("pk", filter=Q(is_paired=True)))
        .order_by()
    )
    days = CadenceSetting.objects.days_by_grade()
    overdue_rows = (
        with_last_contact(Pairing.objects.active().within(unit))
        .filter(overdue_condition(days, today))
        .values("child__village_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    child_rows = [{**r, "sub": sub_of_unit.get(r["village_id"], 0)} for r in child_rows]
    overdue_rows = [{**r, "sub": sub_of_unit.get(r["child__village_id"], 0)} for r in overdue_rows]
    rows = {s.pk: CoverageRow(s) for s in subs}
    direct = CoverageRow(None)
    for r in child_rows:
        row = rows.get(r["sub"], direct)
        row.children += r["children"]
        row.paired += r["paired"]
    for r in overdue_rows:
        rows.get(r["sub"], direct).overdue += r["n"]
    result = list(rows.values())
    if direct.children or direct.overdue:
        result.append(direct)
    total = CoverageRow(
        unit,
        children=sum(r.children for r in result),
        paired=sum(r.paired for r in result),
        overdue=sum(r.overdue for r in result),
    )
    return Coverage(unit=unit, rows=result, total=total)


def unpaired_children(unit: Federation):
    """In-programme children within `unit` with no active pairing."""
    return (
        Child.objects.in_programme()
        .within(unit)
        .filter(~Exists(Pairing.objects.filter(child=OuterRef("pk"), status=PairingStatus.ACTIVE)))
        .select_related("village")
        .order_by("village__path", "name", "pk")
    )


# --- donations --------------------------------------------------------------------------


def donation_totals(queryset=None, *, user=None) -> dict[str, list[dict]]:
    """Totals (yuan, amount or estimated value) by donor, by receiving body/unit and by year.

    Three grouped queries over `queryset` (default: donations visible to `user`).
    """
    qs = queryset if queryset is not None else Donation.objects.all()
    if user is not None:
        qs = visible_to(qs, user)
    value = Coalesce("amount", "estimated_value")
    by_donor = list(
        qs.values("donor__name").annotate(total=Sum(value), count=Count("pk")).order_by("-total", "donor__name")
    )
    by_receiver = list(
        qs.annotate(receiver=Coalesce("receiving_unit__name", "receiving_body"))
        .values("receiver")
        .annotate(total=Sum(value), count=Count("pk"))
        .order_by("-total", "receiver")
    )
    by_year = list(
        qs.annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(total=Sum(value), count=Count("pk"))
        .order_by("-year")
    )
    return {"by_donor": by_donor, "by_receiver": by_receiver, "by_year": by_year}
