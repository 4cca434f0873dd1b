"""List filters by place in the hierarchy, reusable by every scoped admin."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Federation, Level
from .selectors import units_visible_to


def unit_filter(level: str, field_path: str, title=None, within_param: str | None = None):
    """A changelist filter "by district/street/village" for rows whose unit is `field_path`.

    `field_path` is the lookup from the admin's model to its Federation ("" for Federation
    itself). Choices are the units at `level` the user can see; when `within_param` names
    another unit filter's parameter that is set (e.g. the district), only units inside it.
    """
    prefix = f"{field_path}__" if field_path else ""

    class UnitFilter(admin.SimpleListFilter):
        parameter_name = f"{level}_unit"

        def lookups(self, request, model_admin):
            units = units_visible_to(request.user).filter(level=level)
            parent_id = request.GET.get(within_param) if within_param else None
            if parent_id and parent_id.isdigit():
                parent = Federation.objects.filter(pk=parent_id).first()
                if parent is not None:
                    units = units.within(parent)
            return [(str(pk), name) for pk, name in units.values_list("pk", "name")]

        def queryset(self, request, queryset):
            value = self.value()
            if not value or not value.isdigit():
                return queryset
            unit = units_visible_to(request.user).filter(pk=value).only("path").first()
            if unit is None:
                return queryset.none()
            return queryset.filter(**{f"{prefix}path__startswith": unit.path})

    UnitFilter.title = title or Level(level).label
    UnitFilter.__name__ = f"{level.title()}UnitFilter"
    return UnitFilter


def district_and_street_filters(field_path: str):
    district = unit_filter(Level.DISTRICT, field_path, title=_("所在区"))
    street = unit_filter(Level.STREET, field_path, title=_("所在街道(镇)"), within_param=district.parameter_name)
    return [district, street]
