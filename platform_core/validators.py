"""Check-digit validators for Russian identifiers: SNILS, INN, OGRN, OGRNIP, KPP, BIC, account,
Mir card.

Each ``validate_*`` function takes one value, returns ``None`` and raises
:class:`django.core.exceptions.ValidationError` with a stable ``code``, so it works both as
a model/form field validator and from plain code. The ``*_from_number`` helpers build valid
identifiers for synthetic data.

Messages never interpolate the value itself: SNILS and INN of a person are personal data
(152-FZ) and validation messages end up in logs and API responses.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

__all__ = [
    "account_control_key",
    "inn_individual_from_number",
    "inn_legal_from_number",
    "mir_card_from_number",
    "normalize_snils",
    "ogrn_from_number",
    "ogrnip_from_number",
    "snils_from_number",
    "validate_account_for_bic",
    "validate_bic",
    "validate_inn",
    "validate_inn_individual",
    "validate_inn_legal",
    "validate_kpp",
    "validate_mir_card",
    "validate_ogrn",
    "validate_ogrnip",
    "validate_snils",
]

# Numbers up to 001-001-998 were issued before the check number existed, so the
# Pension Fund rules exempt them from the checksum test.
SNILS_CHECKED_FROM = 1_001_999
SNILS_MAX_NUMBER = 999_999_999

# [0-9] rather than \d: \d also matches non-ASCII digits such as Arabic-Indic ones.
_KPP_RE = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")

_ACCOUNT_WEIGHTS = (7, 1, 3)
# Position of the control key inside the 20-digit account (the 9th digit).
_ACCOUNT_KEY_INDEX = 8
# BIC digits 7-9 that identify a Bank of Russia division (cash settlement centre).
_RKC_BIC_SUFFIXES = frozenset({"000", "001", "002"})


def _is_ascii_digits(value: object, *lengths: int) -> bool:
    """Tell whether value is a str of ASCII digits of one of the given lengths."""
    # str.isdigit() alone accepts superscripts and other scripts' digits.
    return isinstance(value, str) and len(value) in lengths and value.isascii() and value.isdigit()


# SNILS


def _snils_checksum(number: int) -> int:
    """Compute the SNILS check number for the 9-digit number body."""
    total = 0
    # Weights run 9..1 from the left, i.e. 1..9 from the right.
    for weight in range(1, 10):
        number, digit = divmod(number, 10)
        total += digit * weight
    # sum < 100 -> sum; 100 and 101 -> 0; otherwise sum % 101 with 100 -> 0. One
    # expression covers all of it: the maximum sum is 9 * 45 = 405.
    return total % 101 % 100


def _format_snils(number: int, checksum: int) -> str:
    """Format the number body and check number as XXX-XXX-XXX YY."""
    return (
        f"{number // 1_000_000:03d}-{number // 1_000 % 1_000:03d}-{number % 1_000:03d}"
        f" {checksum:02d}"
    )


def normalize_snils(value: str) -> str:
    """Validate a SNILS and return it in the canonical form XXX-XXX-XXX YY."""
    compact = value.strip().replace(" ", "").replace("-", "") if isinstance(value, str) else ""
    if not _is_ascii_digits(compact, 11):
        raise ValidationError(
            _("Enter a valid SNILS: 11 digits, for example 112-233-445 95."),
            code="snils_format",
            params={"value": value},
        )
    number = int(compact[:9])
    checksum = int(compact[9:])
    if number >= SNILS_CHECKED_FROM and _snils_checksum(number) != checksum:
        raise ValidationError(
            _("SNILS is invalid: the check digits do not match."),
            code="snils_checksum",
            params={"value": value},
        )
    return _format_snils(number, checksum)


def validate_snils(value: str) -> None:
    """Validate a SNILS written with or without spaces and dashes."""
    normalize_snils(value)


def snils_from_number(number: int) -> str:
    """Return the canonical SNILS with the correct check number for a 9-digit number body."""
    if not SNILS_CHECKED_FROM <= number <= SNILS_MAX_NUMBER:
        raise ValueError(
            f"SNILS number body must be in [{SNILS_CHECKED_FROM}, {SNILS_MAX_NUMBER}], got {number}"
        )
    return _format_snils(number, _snils_checksum(number))


# INN


def _inn_format_error(value: object, message: str | Promise) -> ValidationError:
    """Build the inn_format error for value."""
    return ValidationError(message, code="inn_format", params={"value": value})


def _check_inn_digits(value: str) -> None:
    """Raise inn_checksum unless the check digits of a 10- or 12-digit INN match."""
    if len(value) == 10:
        expected = stdnum_inn.calc_company_check_digit(value[:9])
        actual = value[9:]
    else:
        expected = stdnum_inn.calc_personal_check_digits(value[:10])
        actual = value[10:]
    if expected != actual:
        raise ValidationError(
            _("INN is invalid: the check digits do not match."),
            code="inn_checksum",
            params={"value": value},
        )


def validate_inn(value: str) -> None:
    """Validate an INN of an organisation (10 digits) or an individual (12 digits)."""
    if not _is_ascii_digits(value, 10, 12):
        raise _inn_format_error(
            value, _("Enter a valid INN: 10 digits for an organisation or 12 for an individual.")
        )
    _check_inn_digits(value)


def validate_inn_legal(value: str) -> None:
    """Validate a 10-digit INN of an organisation."""
    if not _is_ascii_digits(value, 10):
        raise _inn_format_error(value, _("Enter a valid INN of an organisation: 10 digits."))
    _check_inn_digits(value)


def validate_inn_individual(value: str) -> None:
    """Validate a 12-digit INN of an individual."""
    if not _is_ascii_digits(value, 12):
        raise _inn_format_error(value, _("Enter a valid INN of an individual: 12 digits."))
    _check_inn_digits(value)


def inn_legal_from_number(n: int) -> str:
    """Return a valid 10-digit INN whose first 9 digits are n zero-padded."""
    if not 0 <= n < 10**9:
        raise ValueError(f"INN body must be in [0, 10**9), got {n}")
    body = f"{n:09d}"
    return body + stdnum_inn.calc_company_check_digit(body)


def inn_individual_from_number(n: int) -> str:
    """Return a valid 12-digit INN whose first 10 digits are n zero-padded."""
    if not 0 <= n < 10**10:
        raise ValueError(f"INN body must be in [0, 10**10), got {n}")
    body = f"{n:010d}"
    return body + stdnum_inn.calc_personal_check_digits(body)


# OGRN / OGRNIP


def _ogrnip_check_digit(body: str) -> str:
    """Compute the OGRNIP check digit for its first 14 digits."""
    # The rule takes the last digit of the remainder; stdnum returns remainders
    # 10..12 whole and so rejects valid numbers.
    return str(int(body) % 13 % 10)


def validate_ogrn(value: str) -> None:
    """Validate a 13-digit OGRN of a legal entity."""
    if not _is_ascii_digits(value, 13):
        raise ValidationError(
            _("Enter a valid OGRN: 13 digits."), code="ogrn_format", params={"value": value}
        )
    # 1 and 5 mark an OGRN; 2, 6-9 mark a registration record number (GRN), not an entity.
    if value[0] not in "15":
        raise ValidationError(
            _("OGRN of a legal entity must start with 1 or 5."),
            code="ogrn_kind",
            params={"value": value},
        )
    if stdnum_ogrn.calc_check_digit(value) != value[-1]:
        raise ValidationError(
            _("OGRN is invalid: the check digit does not match."),
            code="ogrn_checksum",
            params={"value": value},
        )


def validate_ogrnip(value: str) -> None:
    """Validate a 15-digit OGRNIP of an individual entrepreneur."""
    if not _is_ascii_digits(value, 15):
        raise ValidationError(
            _("Enter a valid OGRNIP: 15 digits."), code="ogrnip_format", params={"value": value}
        )
    # 3 marks an OGRNIP; 4 marks a registration record number of an entrepreneur.
    if value[0] != "3":
        raise ValidationError(
            _("OGRNIP must start with 3."), code="ogrnip_kind", params={"value": value}
        )
    if _ogrnip_check_digit(value[:14]) != value[-1]:
        raise ValidationError(
            _("OGRNIP is invalid: the check digit does not match."),
            code="ogrnip_checksum",
            params={"value": value},
        )


def ogrn_from_number(n: int) -> str:
    """Return a valid 13-digit OGRN whose first 12 digits are n."""
    if not (10**11 <= n < 2 * 10**11 or 5 * 10**11 <= n < 6 * 10**11):
        raise ValueError(f"OGRN body must be a 12-digit number starting with 1 or 5, got {n}")
    # Same rule as stdnum's calc_check_digit, without building a throwaway 13-digit string.
    return f"{n}{n % 11 % 10}"


def ogrnip_from_number(n: int) -> str:
    """Return a valid 15-digit OGRNIP whose first 14 digits are n."""
    if not 3 * 10**13 <= n < 4 * 10**13:
        raise ValueError(f"OGRNIP body must be a 14-digit number starting with 3, got {n}")
    body = str(n)
    return body + _ogrnip_check_digit(body)


# KPP, BIC, account


def validate_kpp(value: str) -> None:
    """Validate a 9-character KPP: 4 digits, 2 digits or capital Latin letters, 3 digits."""
    if not isinstance(value, str) or not _KPP_RE.fullmatch(value):
        raise ValidationError(
            _(
                "Enter a valid KPP: 9 characters, 4 digits, then 2 digits or capital "
                "Latin letters, then 3 digits."
            ),
            code="kpp_format",
            params={"value": value},
        )


def validate_bic(value: str) -> None:
    """Validate a 9-digit Russian BIC starting with 04."""
    if not _is_ascii_digits(value, 9) or not value.startswith("04"):
        raise ValidationError(
            _("Enter a valid BIC: 9 digits starting with 04."),
            code="bic_format",
            params={"value": value},
        )


def _account_prefix(bic: str) -> str:
    """Return the 3 digits the Bank of Russia rule prefixes to an account at bic."""
    # Accounts at a Bank of Russia division use the conventional RKC number
    # "0" + BIC digits 5-6; accounts at a credit institution use BIC digits 7-9.
    if bic[6:] in _RKC_BIC_SUFFIXES:
        return "0" + bic[4:6]
    return bic[6:]


def _account_weighted_sum(digits: str) -> int:
    """Return the Bank of Russia weighted sum of the 23 prefix and account digits."""
    return sum(int(digit) * _ACCOUNT_WEIGHTS[i % 3] for i, digit in enumerate(digits))


def _account_format_error(account: object) -> ValidationError:
    """Build the account_format error for account."""
    return ValidationError(
        _("Enter a valid account number: 20 digits."),
        code="account_format",
        params={"value": account},
    )


def validate_account_for_bic(account: str, bic: str) -> None:
    """Validate a 20-digit account number and its control key against the bank's BIC."""
    validate_bic(bic)
    if not _is_ascii_digits(account, 20):
        raise _account_format_error(account)
    if _account_weighted_sum(_account_prefix(bic) + account) % 10 != 0:
        raise ValidationError(
            _("Account number does not match the BIC: the control key is wrong."),
            code="account_key",
            params={"value": account, "bic": bic},
        )


def account_control_key(account: str, bic: str) -> str:
    """Return the 20-digit account with the correct control key (9th digit) for bic."""
    validate_bic(bic)
    # Generators may pass 19 digits with the key left out or 20 digits with any key.
    if _is_ascii_digits(account, 19):
        head, tail = account[:_ACCOUNT_KEY_INDEX], account[_ACCOUNT_KEY_INDEX:]
    elif _is_ascii_digits(account, 20):
        head, tail = account[:_ACCOUNT_KEY_INDEX], account[_ACCOUNT_KEY_INDEX + 1 :]
    else:
        raise _account_format_error(account)
    total = _account_weighted_sum(_account_prefix(bic) + head + "0" + tail)
    # The key sits at index 11 of the 23 digits, weight 3; 3 * 7 = 21, so 7 is its inverse mod 10.
    key = -total * 7 % 10
    return f"{head}{key}{tail}"


def _luhn_sum(digits: str) -> int:
    """The Luhn sum of digits (every second digit from the right doubled)."""
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total


def validate_mir_card(value: str) -> None:
    """Validate a Mir card number: 16 to 19 digits, a Mir prefix (2200 to 2204), the Luhn
    check digit last. Social payments go to Mir cards (the national payment system's law)."""
    if not (
        isinstance(value, str) and value.isascii() and value.isdigit() and 16 <= len(value) <= 19
    ):
        raise ValidationError(
            _("Enter a valid Mir card number: 16 to 19 digits."), code="card_format"
        )
    if not "2200" <= value[:4] <= "2204":
        raise ValidationError(
            _("This is not a Mir card: a Mir card number starts with 2200 to 2204."),
            code="card_not_mir",
        )
    if _luhn_sum(value) % 10:
        raise ValidationError(
            _("The card number is mistyped: its check digit is wrong."), code="card_check_digit"
        )


def mir_card_from_number(n: int) -> str:
    """A valid 16-digit Mir card number for synthetic data: 2200, then n, then the check
    digit."""
    body = f"2200{n % 10**11:011d}"
    return body + str(-_luhn_sum(body + "0") % 10)
