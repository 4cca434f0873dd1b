"""The federation hierarchy: the organisational spine every record is scoped by.

Each unit stores a materialised `path`: its ancestors' segments followed by its own, each
ending in "/" (e.g. "3502/350203/350203001/"). A territorial unit's segment is its
division code; a non-territorial unit's segment is "n" plus a random token. The units
within a unit (its jurisdiction) are then exactly the rows whose path starts with its
path: one indexed prefix query, never a walk up or down the tree.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区(县)级")
    STREET = "street", _("街道(镇)级")
    VILLAGE = "village", _("村(居)级")

    @property
    def rank(self) -> int:
        """Depth of the tier: a unit's level must rank below its parent's."""
        return LEVEL_RANK[self.value]

    @property
    def code_length(self) -> int:
        """Digits of the official division code at this tier (short form)."""
        return CODE_LENGTH[self.value]


LEVEL_RANK = {"province": 0, "city": 1, "district": 2, "street": 3, "village": 4}
CODE_LENGTH = {"province": 2, "city": 4, "district": 6, "street": 9, "village": 12}


class FederationKind(models.TextChoices):
    TERRITORIAL = "territorial", _("地区妇联")
    ORGAN = "organ", _("机关妇工委")
    MICRO_HOME = "micro_home", _("妇女微家")
    OTHER = "other", _("其他组织")


class JurisdictionQuerySet(models.QuerySet):
    """A queryset whose rows belong to a federation unit, reachable by `jurisdiction_field`.

    `within(unit)` keeps the rows that belong to `unit` or to any unit below it. Every app
    that scopes data by the hierarchy subclasses this and names the path to its unit.
    """

    # Lookup path from the model to its Federation ("" when the model is Federation).
    jurisdiction_field = "federation"

    def _path_lookup(self) -> str:
        prefix = f"{self.jurisdiction_field}__" if self.jurisdiction_field else ""
        return f"{prefix}path__startswith"

    def within(self, unit: "Federation | None"):
        if unit is None:
            return self.none()
        return self.filter(**{self._path_lookup(): unit.path})


class FederationQuerySet(JurisdictionQuerySet):
    jurisdiction_field = ""

    def at_level(self, level: str):
        return self.filter(level=level)

    def descendant_counts(self, units) -> dict[int, int]:
        """Units strictly below each of `units`, in one query of indexed prefix counts."""
        units = [u for u in units if u.pk is not None]
        if not units:
            return {}
        table = self.model._meta.db_table
        parts, params = [], []
        for unit in units:
            # The table name comes from the model, values are parameters.
            parts.append(f"SELECT %s, COUNT(*) - 1 FROM {table} WHERE path LIKE %s")  # noqa: S608
            params += [unit.pk, unit.path + "%"]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            return dict(cursor.fetchall())


division_code_validator = RegexValidator(
    r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$", _("区划代码应为 2、4、6、9 或 12 位数字。")
)


class Federation(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    kind = models.CharField(
        _("类型"), max_length=12, choices=FederationKind.choices, default=FederationKind.TERRITORIAL
    )
    division_code = models.CharField(
        _("统计用区划代码"),
        max_length=12,
        unique=True,
        null=True,
        blank=True,
        validators=[division_code_validator],
        help_text=_("地区妇联填写国家统计局区划代码;机关妇工委、妇女微家等非地区单位留空。"),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级妇联"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(_("层级路径"), max_length=255, editable=False)

    objects = FederationQuerySet.as_manager()

    class Meta:
        verbose_name = _("妇联组织")
        verbose_name_plural = _("妇联组织")
        ordering = ["path"]
        constraints = [
            # One index serves both uniqueness and within(unit), i.e. WHERE path LIKE
            # '<unit path>%': the pattern operator class lets PostgreSQL use it for the
            # prefix whatever the database collation. (Fewer indexes also keep the national
            # division import fast.)
            models.UniqueConstraint(fields=["path"], name="federation_path_unique", opclasses=["varchar_pattern_ops"]),
            # A division code is what makes a unit territorial; other units have none.
            models.CheckConstraint(
                condition=(
                    models.Q(kind=FederationKind.TERRITORIAL, division_code__isnull=False)
                    | (~models.Q(kind=FederationKind.TERRITORIAL) & models.Q(division_code__isnull=True))
                ),
                name="federation_code_iff_territorial",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The path is derived data: recompute it, and carry the subtree along on a move.
        old_path = self.path
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            Federation.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr(F("path"), len(old_path) + 1, Length(F("path"))))
            )

    # --- the tree -----------------------------------------------------------------

    @property
    def segment(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def level_rank(self) -> int:
        return LEVEL_RANK[self.level]

    def ancestor_paths(self) -> list[str]:
        """Paths of the units above this one, from the root down."""
        segments = self.path.rstrip("/").split("/")[:-1]
        return ["".join(s + "/" for s in segments[: i + 1]) for i in range(len(segments))]

    def ancestors(self):
        return Federation.objects.filter(path__in=self.ancestor_paths()).order_by("path")

    def descendants(self, include_self: bool = False):
        qs = Federation.objects.within(self)
        return qs if include_self else qs.exclude(pk=self.pk)

    def is_within(self, unit: "Federation") -> bool:
        """True when this unit is `unit` or lies below it."""
        return self.path.startswith(unit.path)

    def ancestor_at(self, level: str) -> "Federation | None":
        """The unit at `level` above (or equal to) this one, e.g. its district."""
        if self.level == level:
            return self
        return self.ancestors().filter(level=level).last()

    def _new_segment(self) -> str:
        if self.division_code:
            return self.division_code
        if self.path and not self.segment.isdigit():
            return self.segment  # keep a non-territorial unit's token stable
        return "n" + secrets.token_hex(5)

    def compute_path(self) -> str:
        parent_path = self.parent.path if self.parent_id else ""
        return f"{parent_path}{self._new_segment()}/"

    # --- validation and saving ---------------------------------------------------

    def clean(self):
        errors = {}
        if self.kind == FederationKind.TERRITORIAL and not self.division_code:
            errors["division_code"] = _("地区妇联必须填写区划代码。")
        if self.kind != FederationKind.TERRITORIAL and self.division_code:
            errors["division_code"] = _("非地区单位(机关妇工委、妇女微家等)不填写区划代码。")
        if self.division_code and self.level in CODE_LENGTH and len(self.division_code) != CODE_LENGTH[self.level]:
            errors["division_code"] = _("%(level)s单位的区划代码应为 %(n)d 位。") % {
                "level": self.get_level_display(),
                "n": CODE_LENGTH[self.level],
            }
        if self.parent_id:
            parent = self.parent
            if self.pk and (parent.pk == self.pk or (self.path and parent.path.startswith(self.path))):
                errors["parent"] = _("上级不能是本单位或其下级单位。")
            elif self.level in LEVEL_RANK and LEVEL_RANK[self.level] <= parent.level_rank:
                errors["level"] = _("层级必须低于上级单位的层级(上级为%(parent)s)。") % {
                    "parent": parent.get_level_display()
                }
            elif (
                self.division_code and parent.division_code and not self.division_code.startswith(parent.division_code)
            ):
                errors["division_code"] = _("区划代码应以上级单位的区划代码 %(code)s 开头。") % {
                    "code": parent.division_code
                }
        if errors:
            raise ValidationError(errors)
