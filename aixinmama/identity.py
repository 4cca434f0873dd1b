"""Personal identifiers: resident ID numbers, mobile numbers, and how they are masked.

Shared by volunteers, children and guardians. Validation messages are Chinese and say
exactly what is wrong, because staff read them beside a form field or a spreadsheet cell.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# GB 11643-1999: weights of the first 17 digits; check character for sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
_MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")

SEX_MALE = "male"
SEX_FEMALE = "female"


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def id_birth_date(value: str) -> datetime.date:
    """Birth date encoded in an 18-character ID number (digits 7-14)."""
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_sex(value: str) -> str:
    """Sex encoded in an ID number: the 17th digit is odd for men, even for women."""
    return SEX_MALE if int(value[16]) % 2 else SEX_FEMALE


def validate_id_number(value: str, today: datetime.date | None = None) -> None:
    """Raise ValidationError unless `value` is a well-formed 18-character resident ID number."""
    value = normalize_id_number(value)
    if len(value) != 18:
        raise ValidationError(_("身份证号码应为 18 位,当前为 %(n)d 位。") % {"n": len(value)}, code="id_length")
    if not _ID_PATTERN.match(value):
        raise ValidationError(_("身份证号码前 17 位应为数字,最后一位为数字或 X。"), code="id_format")
    try:
        birth = id_birth_date(value)
    except ValueError:
        raise ValidationError(
            _("身份证号码中的出生日期 %(d)s 不是有效日期。") % {"d": value[6:14]}, code="id_birth_date"
        ) from None
    if birth.year < 1900 or birth > (today or timezone.localdate()):
        raise ValidationError(
            _("身份证号码中的出生日期 %(d)s 不合理。") % {"d": birth.isoformat()}, code="id_birth_date"
        )
    expected = id_check_char(value[:17])
    if value[17] != expected:
        raise ValidationError(
            _("身份证号码校验位错误(最后一位应为 %(c)s),请核对号码。") % {"c": expected}, code="id_check_digit"
        )


def check_id_agrees(value: str, *, birth_date: datetime.date | None, sex: str | None) -> dict[str, str]:
    """Field errors when a recorded birth date or sex contradicts the ID number."""
    errors = {}
    value = normalize_id_number(value)
    if birth_date and id_birth_date(value) != birth_date:
        errors["birth_date"] = _("出生日期与身份证号码不符(号码中为 %(d)s)。") % {"d": id_birth_date(value).isoformat()}
    if sex and id_sex(value) != sex:
        errors["sex"] = _("性别与身份证号码不符(号码中为%(s)s)。") % {"s": "男" if id_sex(value) == SEX_MALE else "女"}
    return errors


def normalize_mobile(value: str) -> str:
    digits = re.sub(r"[\s-]", "", (value or "").strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def validate_mobile(value: str) -> None:
    value = normalize_mobile(value)
    if not _MOBILE_PATTERN.match(value):
        raise ValidationError(
            _("手机号码应为以 1 开头的 11 位数字,当前为 %(v)s。") % {"v": value or "空"}, code="mobile"
        )


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters: 350203********123X."""
    value = value or ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """First 3 and last 4 digits: 138****5678."""
    value = value or ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def make_id_number(area_code: str, birth: datetime.date, sequence: int, sex: str) -> str:
    """A valid (fictitious) ID number, for demo data and tests.

    `sequence` picks the 3-digit order code; its parity is adjusted to `sex`.
    """
    order = sequence % 500 * 2 + (1 if sex == SEX_MALE else 0)
    first17 = f"{area_code[:6]}{birth:%Y%m%d}{order:03d}"
    return first17 + id_check_char(first17)
