"""Tests for the check-digit validators of Russian identifiers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import assume, given
from hypothesis import strategies as st

from platform_core.validators import (
    account_control_key,
    inn_individual_from_number,
    inn_legal_from_number,
    mir_card_from_number,
    normalize_snils,
    ogrn_from_number,
    snils_from_number,
    validate_account_for_bic,
    validate_bic,
    validate_inn,
    validate_inn_individual,
    validate_inn_legal,
    validate_kpp,
    validate_mir_card,
    validate_ogrn,
    validate_ogrnip,
    validate_snils,
)

# These tests need no database; rendering lazy messages only needs minimal settings
# when pytest runs with -p no:django.
if not settings.configured:
    settings.configure(USE_I18N=False)


def assert_invalid(validator: Callable[..., object], *args: object, code: str) -> None:
    """Assert that the validator rejects args with the given error code."""
    with pytest.raises(ValidationError) as excinfo:
        validator(*args)
    assert excinfo.value.code == code


def mutate(value: str, position: int, digit: str) -> str:
    """Replace the digit at position."""
    return value[:position] + digit + value[position + 1 :]


def other_digit(data: st.DataObject, current: str) -> str:
    """Draw a digit that differs from current."""
    return data.draw(st.sampled_from([d for d in "0123456789" if d != current]))


# Reference implementations written straight from the published rules, independent of
# the code under test.


def reference_snils_checksum(body: str) -> int:
    """Compute the SNILS check number the way the Pension Fund rules spell it out."""
    total = sum(int(digit) * (9 - i) for i, digit in enumerate(body))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    remainder = total % 101
    return 0 if remainder == 100 else remainder


def reference_account_key(prefix: str, account: str) -> int:
    """Compute the control key by the Bank of Russia procedure (products mod 10, times 3)."""
    digits = prefix + account[:8] + "0" + account[9:]
    weights = [7, 1, 3] * 8
    products = sum(int(d) * w % 10 for d, w in zip(digits, weights, strict=False))
    return products % 10 * 3 % 10


snils_numbers = st.integers(min_value=1_001_999, max_value=999_999_999)
bics = st.builds(
    lambda region, suffix: f"04{region:04d}{suffix}",
    st.integers(0, 9999),
    st.one_of(st.sampled_from(["000", "001", "002"]), st.integers(3, 999).map("{:03d}".format)),
)
accounts = st.text(alphabet="0123456789", min_size=20, max_size=20)


# SNILS


@pytest.mark.parametrize(
    "value", ["11223344595", "112-233-445 95", "112 233 445 95", " 112-233-44595 "]
)
def test_normalize_snils_accepts_common_spellings(value: str) -> None:
    assert normalize_snils(value) == "112-233-445 95"


def test_validate_snils_accepts_valid() -> None:
    assert validate_snils("112-233-445 95") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # sum 101 and sum 100 both give 00.
        ("00101999800", "001-019-998 00"),
        ("00101999700", "001-019-997 00"),
        # sum 405 > 101: 405 % 101 == 1.
        ("99999999901", "999-999-999 01"),
    ],
)
def test_normalize_snils_checksum_edge_cases(value: str, expected: str) -> None:
    assert normalize_snils(value) == expected


@pytest.mark.parametrize("value", ["000-000-000 00", "001-001-998 42", "000-000-001 99"])
def test_snils_checksum_not_checked_up_to_001_001_998(value: str) -> None:
    normalize_snils(value)


@pytest.mark.parametrize("value", ["112-233-445 96", "112-233-454 95", "001-001-999 00"])
def test_snils_wrong_checksum(value: str) -> None:
    assert_invalid(normalize_snils, value, code="snils_checksum")
    assert_invalid(validate_snils, value, code="snils_checksum")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1122334459",
        "112233445951",
        "112-233-445 9a",
        "112.233.445 95",
        "١١٢٢٣٣٤٤٥٩٥",  # Arabic-Indic digits pass str.isdigit().
        11223344595,
        None,
    ],
)
def test_snils_bad_format(value: object) -> None:
    assert_invalid(normalize_snils, value, code="snils_format")
    assert_invalid(validate_snils, value, code="snils_format")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "контрольное число не совпадает"), ("en", "check digits do not match")],
)
def test_snils_message_follows_the_language_and_hides_the_value(
    language: str, expected: str
) -> None:
    with translation.override(language):
        with pytest.raises(ValidationError) as excinfo:
            validate_snils("112-233-445 96")
        (message,) = excinfo.value.messages
    assert expected in message
    assert "445" not in message


@pytest.mark.parametrize("number", [0, 1_001_998, 1_000_000_000, -1])
def test_snils_from_number_rejects_out_of_range(number: int) -> None:
    with pytest.raises(ValueError, match="SNILS number body"):
        snils_from_number(number)


def test_snils_from_number_known_value() -> None:
    assert snils_from_number(112_233_445) == "112-233-445 95"
    assert snils_from_number(1_001_999) == normalize_snils(snils_from_number(1_001_999))


@given(snils_numbers)
def test_snils_from_number_is_valid_and_canonical(number: int) -> None:
    snils = snils_from_number(number)
    assert re.fullmatch(r"[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}", snils)
    assert normalize_snils(snils) == snils
    assert normalize_snils(snils.replace("-", "").replace(" ", "")) == snils
    assert int(snils[-2:]) == reference_snils_checksum(f"{number:09d}")


@given(snils_numbers, st.data())
def test_snils_single_digit_change_is_detected(number: int, data: st.DataObject) -> None:
    digits = snils_from_number(number).replace("-", "").replace(" ", "")
    position = data.draw(st.integers(0, 10))
    digit = other_digit(data, digits[position])
    changed = mutate(digits, position, digit)
    # Bodies up to 001-001-998 are exempt from the checksum.
    assume(int(changed[:9]) >= 1_001_999)
    # The last body digit has weight 1; a +-1 change there can move the sum between
    # 100 and 101 (mod 101), which both give 00, so the algorithm cannot catch it.
    if position == 8 and abs(int(digit) - int(digits[8])) == 1:
        assume(reference_snils_checksum(changed[:9]) != int(changed[9:]))
    assert_invalid(normalize_snils, changed, code="snils_checksum")


def test_snils_weight_one_collision_is_real() -> None:
    # Documents why the property test above excludes +-1 on the 9th digit.
    assert normalize_snils("001-019-998 00") and normalize_snils("001-019-997 00")


# INN


@pytest.mark.parametrize("value", ["7707083893", "7736050003", "500100732259"])
def test_validate_inn_accepts_valid(value: str) -> None:
    assert validate_inn(value) is None


def test_validate_inn_legal_and_individual_accept_their_length() -> None:
    validate_inn_legal("7707083893")
    validate_inn_individual("500100732259")


@pytest.mark.parametrize("value", ["7707083894", "7707083839", "500100732258", "500100732269"])
def test_validate_inn_wrong_checksum(value: str) -> None:
    assert_invalid(validate_inn, value, code="inn_checksum")


@pytest.mark.parametrize(
    "value",
    ["", "770708389", "77070838931", "5001007322591", "770708389a", " 7707083893", "7707 083893"],
)
def test_validate_inn_bad_format(value: str) -> None:
    assert_invalid(validate_inn, value, code="inn_format")


def test_validate_inn_legal_rejects_individual_inn() -> None:
    assert_invalid(validate_inn_legal, "500100732259", code="inn_format")
    assert_invalid(validate_inn_legal, "7707083894", code="inn_checksum")


def test_validate_inn_individual_rejects_legal_inn() -> None:
    assert_invalid(validate_inn_individual, "7707083893", code="inn_format")
    assert_invalid(validate_inn_individual, "500100732258", code="inn_checksum")


@pytest.mark.parametrize(
    ("helper", "number"),
    [
        (inn_legal_from_number, -1),
        (inn_legal_from_number, 10**9),
        (inn_individual_from_number, -1),
        (inn_individual_from_number, 10**10),
    ],
)
def test_inn_helpers_reject_out_of_range(helper: Callable[[int], str], number: int) -> None:
    with pytest.raises(ValueError, match="INN body"):
        helper(number)


def test_inn_helpers_known_values() -> None:
    assert inn_legal_from_number(770708389) == "7707083893"
    assert inn_individual_from_number(5001007322) == "500100732259"


@given(st.integers(0, 10**9 - 1))
def test_inn_legal_from_number_is_valid(number: int) -> None:
    inn = inn_legal_from_number(number)
    assert inn[:9] == f"{number:09d}"
    validate_inn_legal(inn)
    validate_inn(inn)


@given(st.integers(0, 10**10 - 1))
def test_inn_individual_from_number_is_valid(number: int) -> None:
    inn = inn_individual_from_number(number)
    assert inn[:10] == f"{number:010d}"
    validate_inn_individual(inn)
    validate_inn(inn)


@given(st.integers(0, 10**9 - 1), st.data())
def test_inn_legal_single_digit_change_is_detected(number: int, data: st.DataObject) -> None:
    inn = inn_legal_from_number(number)
    # The weights are coprime to 11, so a change always moves the remainder; but the
    # remainders 0 and 10 both give check digit 0, so only a nonzero check digit is
    # a guarantee.
    assume(inn[-1] != "0")
    position = data.draw(st.integers(0, 9))
    assert_invalid(
        validate_inn, mutate(inn, position, other_digit(data, inn[position])), code="inn_checksum"
    )


@given(st.integers(0, 10**10 - 1), st.data())
def test_inn_individual_single_digit_change_is_detected(number: int, data: st.DataObject) -> None:
    inn = inn_individual_from_number(number)
    # Either nonzero check digit catches any body change (same reasoning as the 10-digit INN).
    assume(inn[-2:] != "00")
    position = data.draw(st.integers(0, 11))
    assert_invalid(
        validate_inn, mutate(inn, position, other_digit(data, inn[position])), code="inn_checksum"
    )


def test_inn_single_digit_change_can_slip_through_with_check_digit_zero() -> None:
    # Documents why the property tests above require a nonzero check digit: the
    # remainders of these two differ (0 and 10) but both give check digit 0.
    validate_inn("7707083050")
    validate_inn("1707083050")


# OGRN / OGRNIP


@pytest.mark.parametrize("value", ["1027700132195", "1022200525819", "5077746887312"])
def test_validate_ogrn_accepts_valid(value: str) -> None:
    assert validate_ogrn(value) is None


def test_validate_ogrn_wrong_checksum() -> None:
    assert_invalid(validate_ogrn, "1027700132196", code="ogrn_checksum")


@pytest.mark.parametrize(
    "value", ["", "102770013219", "10277001321950", "102770013219a", "304500116000157"]
)
def test_validate_ogrn_bad_format(value: str) -> None:
    assert_invalid(validate_ogrn, value, code="ogrn_format")


@pytest.mark.parametrize("first", ["0", "2", "3", "4", "6", "7", "8", "9"])
def test_validate_ogrn_rejects_non_entity_first_digit(first: str) -> None:
    assert_invalid(validate_ogrn, first + "027700132195", code="ogrn_kind")


@pytest.mark.parametrize("value", ["304500116000157", "385768585948949", "304500000000010"])
def test_validate_ogrnip_accepts_valid(value: str) -> None:
    # 304500000000010: remainder mod 13 is 10, so the check digit is its last digit, 0.
    assert validate_ogrnip(value) is None


def test_validate_ogrnip_wrong_checksum() -> None:
    assert_invalid(validate_ogrnip, "304500116000158", code="ogrnip_checksum")
    assert_invalid(validate_ogrnip, "304500000000011", code="ogrnip_checksum")


@pytest.mark.parametrize("value", ["", "1027700132195", "3045001160001570", "30450011600015x"])
def test_validate_ogrnip_bad_format(value: str) -> None:
    assert_invalid(validate_ogrnip, value, code="ogrnip_format")


def test_validate_ogrnip_rejects_record_number() -> None:
    assert_invalid(validate_ogrnip, "404500116000157", code="ogrnip_kind")


@pytest.mark.parametrize("number", [0, 10**11 - 1, 2 * 10**11, 4 * 10**11, 6 * 10**11])
def test_ogrn_from_number_rejects_out_of_range(number: int) -> None:
    with pytest.raises(ValueError, match="OGRN body"):
        ogrn_from_number(number)


def test_ogrn_from_number_known_value() -> None:
    assert ogrn_from_number(102770013219) == "1027700132195"


@given(st.one_of(st.integers(10**11, 2 * 10**11 - 1), st.integers(5 * 10**11, 6 * 10**11 - 1)))
def test_ogrn_from_number_is_valid(number: int) -> None:
    ogrn = ogrn_from_number(number)
    assert ogrn[:12] == str(number)
    validate_ogrn(ogrn)


@given(st.integers(10**11, 2 * 10**11 - 1), st.data())
def test_ogrn_single_digit_change_is_detected(number: int, data: st.DataObject) -> None:
    ogrn = ogrn_from_number(number)
    # Powers of 10 are +-1 mod 11, so the remainder always moves; remainders 0 and 10
    # share check digit 0, hence the nonzero guard. Position 0 is the kind digit.
    assume(ogrn[-1] != "0")
    position = data.draw(st.integers(1, 12))
    assert_invalid(
        validate_ogrn,
        mutate(ogrn, position, other_digit(data, ogrn[position])),
        code="ogrn_checksum",
    )


# KPP


@pytest.mark.parametrize("value", ["773601001", "7736AB001", "77360Z001", "7736Z0001"])
def test_validate_kpp_accepts_valid(value: str) -> None:
    assert validate_kpp(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "77360100",
        "7736010011",
        "7736ab001",
        "7736АБ001",  # Cyrillic capitals that look Latin.
        "A73601001",
        "7736010A1",
        "773601001\n",
        "٧٧٣٦٠١٠٠١",
        773601001,
    ],
)
def test_validate_kpp_bad_format(value: object) -> None:
    assert_invalid(validate_kpp, value, code="kpp_format")


# BIC


def test_validate_bic_accepts_valid() -> None:
    assert validate_bic("044525225") is None


@pytest.mark.parametrize(
    "value", ["", "04452522", "0445252250", "054525225", "04452522x", " 044525225"]
)
def test_validate_bic_bad_format(value: str) -> None:
    assert_invalid(validate_bic, value, code="bic_format")


# Account


def test_account_for_credit_institution_bic() -> None:
    # Credit institution: prefix is BIC digits 7-9 ("225").
    validate_account_for_bic("40702810938000000001", "044525225")
    assert_invalid(
        validate_account_for_bic, "40702810738000000001", "044525225", code="account_key"
    )


def test_account_wrong_key() -> None:
    assert_invalid(
        validate_account_for_bic, "40702810038000000001", "044525225", code="account_key"
    )


def test_account_rkc_rule() -> None:
    # Sberbank's correspondent account sits at the Bank of Russia (BIC digits 7-9 "000"),
    # so the prefix is "0" + BIC digits 5-6 = "025", not "000".
    validate_account_for_bic("30101810400000000225", "044525000")
    assert_invalid(
        validate_account_for_bic, "30101810400000000225", "044525225", code="account_key"
    )
    validate_account_for_bic("40702810738000000001", "044525000")
    assert_invalid(
        validate_account_for_bic, "40702810938000000001", "044525000", code="account_key"
    )


@pytest.mark.parametrize("suffix", ["001", "002"])
def test_account_rkc_rule_other_bank_of_russia_suffixes(suffix: str) -> None:
    validate_account_for_bic("30101810400000000225", "044525" + suffix)
    assert account_control_key("30101810000000000225", "044525" + suffix) == "30101810400000000225"


@pytest.mark.parametrize(
    "account", ["", "407028109380000000011", "4070281093800000000a", "407028109380000000", None]
)
def test_account_bad_format(account: object) -> None:
    assert_invalid(validate_account_for_bic, account, "044525225", code="account_format")
    assert_invalid(account_control_key, account, "044525225", code="account_format")


def test_account_with_19_digits_is_only_a_generator_input() -> None:
    # account_control_key accepts the key left out; the validator wants all 20 digits.
    assert_invalid(
        validate_account_for_bic, "4070281038000000001", "044525225", code="account_format"
    )


def test_account_bad_bic() -> None:
    assert_invalid(validate_account_for_bic, "40702810938000000001", "054525225", code="bic_format")
    assert_invalid(account_control_key, "40702810938000000001", "4525225", code="bic_format")


def test_account_control_key_known_values() -> None:
    assert account_control_key("40702810038000000001", "044525225") == "40702810938000000001"
    assert account_control_key("4070281038000000001", "044525225") == "40702810938000000001"
    assert account_control_key("30101810000000000225", "044525000") == "30101810400000000225"


@given(accounts, bics)
def test_account_control_key_makes_valid_account(account: str, bic: str) -> None:
    fixed = account_control_key(account, bic)
    assert fixed[:8] + fixed[9:] == account[:8] + account[9:]
    validate_account_for_bic(fixed, bic)
    prefix = "0" + bic[4:6] if bic[6:] in ("000", "001", "002") else bic[6:]
    assert int(fixed[8]) == reference_account_key(prefix, account)
    assert account_control_key(fixed[:8] + fixed[9:], bic) == fixed


@given(accounts, bics, st.data())
def test_account_single_digit_change_is_detected(
    account: str, bic: str, data: st.DataObject
) -> None:
    # Weights 7, 1 and 3 are all coprime to 10, so every single-digit change moves the sum.
    valid = account_control_key(account, bic)
    position = data.draw(st.integers(0, 19))
    changed = mutate(valid, position, other_digit(data, valid[position]))
    assert_invalid(validate_account_for_bic, changed, bic, code="account_key")


@given(st.integers(min_value=3 * 10**13, max_value=4 * 10**13 - 1))
def test_generated_ogrnip_is_valid(n):
    from platform_core.validators import ogrnip_from_number

    validate_ogrnip(ogrnip_from_number(n))


@pytest.mark.parametrize("value", ["2200000000000004", "2204310000000000001", "2200123456789019"])
def test_validate_mir_card_accepts_valid(value: str) -> None:
    assert validate_mir_card(value) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2200000000000005", "card_check_digit"),
        ("4276000000000009", "card_not_mir"),  # a Visa number with a good check digit
        ("220000000000004", "card_format"),  # 15 digits
        ("22000000000000000004", "card_format"),  # 20 digits
        ("2200 0000 0000 0004", "card_format"),
        ("２２００００００００００００００４", "card_format"),  # full-width digits
    ],
)
def test_validate_mir_card_rejects(value: str, code: str) -> None:
    assert_invalid(validate_mir_card, value, code=code)


@given(st.integers(min_value=0, max_value=10**11 - 1), st.data())
def test_mir_card_from_number_is_valid_and_a_digit_changed_is_caught(
    number: int, data: st.DataObject
) -> None:
    card = mir_card_from_number(number)
    validate_mir_card(card)
    position = data.draw(st.integers(min_value=4, max_value=15))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != card[position]]))
    assert_invalid(
        validate_mir_card, card[:position] + digit + card[position + 1 :], code="card_check_digit"
    )
