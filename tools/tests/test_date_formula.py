"""Tests for ``tools/date_formula.py``.

The module is loaded by file path so the Odoo add-on package (whose ``__init__`` imports
Odoo models) is never imported. Run from the add-on root with::

    python3 -m pytest --import-mode=importlib -p no:cacheprovider tools/tests

This folder deliberately has no ``__init__.py``: with one, pytest would import the test
module as ``<addon>.tools.tests.test_date_formula`` and so import the add-on first.
"""

import importlib.util
import sys
import types
from datetime import date, datetime
from pathlib import Path

import pytest

_TOOLS_DIR = Path(__file__).resolve().parent.parent
_ADDON_DIR = _TOOLS_DIR.parent
if (_ADDON_DIR / "__init__.py").is_file():
    # pytest imports the ``__init__.py`` of every package above a test to run its
    # ``setup_module`` (``Package.setup``). The add-on's one defines Odoo models, which fail
    # outside ``odoo.addons``: register an empty package under the name pytest uses instead.
    _stub = types.ModuleType(_ADDON_DIR.name)
    _stub.__path__ = [str(_ADDON_DIR)]
    sys.modules.setdefault(_ADDON_DIR.name, _stub)

_PATH = _TOOLS_DIR / "date_formula.py"
_SPEC = importlib.util.spec_from_file_location("item_tracking_date_formula", _PATH)
df = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = df  # dataclasses look the module up in sys.modules
_SPEC.loader.exec_module(df)


def calc(formula, day):
    """Apply ``formula`` to ``day`` given as an ISO string and return an ISO string."""
    return df.apply_date_formula(formula, date.fromisoformat(day)).isoformat()


@pytest.mark.parametrize(
    ("formula", "start", "expected"),
    [
        # each unit
        ("30D", "2024-01-15", "2024-02-14"),
        ("0D", "2024-01-15", "2024-01-15"),
        ("2W", "2024-01-15", "2024-01-29"),
        ("6M", "2024-01-15", "2024-07-15"),
        ("1Q", "2024-01-15", "2024-04-15"),
        ("1Y", "2024-01-15", "2025-01-15"),
        ("13M", "2024-12-15", "2026-01-15"),
        # month ends are clamped
        ("1M", "2024-01-31", "2024-02-29"),
        ("1M", "2023-01-31", "2023-02-28"),
        ("-1M", "2024-03-31", "2024-02-29"),
        ("-1M", "2023-03-31", "2023-02-28"),
        ("1M", "2024-02-29", "2024-03-29"),
        ("1Q", "2024-11-30", "2025-02-28"),
        # leap years
        ("1Y", "2024-02-29", "2025-02-28"),
        ("4Y", "2024-02-29", "2028-02-29"),
        ("1Y", "2023-02-28", "2024-02-28"),
        ("-1Y", "2024-02-29", "2023-02-28"),
        ("100Y", "2000-02-29", "2100-02-28"),
        # negative terms and a leading sign
        ("-1W", "2024-03-06", "2024-02-28"),
        ("-30D", "2024-03-01", "2024-01-31"),
        ("-1Q", "2024-05-31", "2024-02-29"),
        ("-1Y", "2024-01-15", "2023-01-15"),
        ("+30D", "2024-01-15", "2024-02-14"),
        # current periods: end of the day/week/month/quarter/year
        ("CD", "2024-03-13", "2024-03-13"),
        ("CW", "2024-03-13", "2024-03-17"),  # Wednesday -> Sunday
        ("CW", "2024-03-17", "2024-03-17"),  # Sunday stays
        ("CW", "2024-03-11", "2024-03-17"),  # Monday
        ("CW", "2024-12-30", "2025-01-05"),  # across the year end
        ("CM", "2024-02-10", "2024-02-29"),
        ("CM", "2023-02-10", "2023-02-28"),
        ("CQ", "2024-02-15", "2024-03-31"),
        ("CQ", "2024-04-01", "2024-06-30"),
        ("CQ", "2024-08-31", "2024-09-30"),
        ("CQ", "2024-11-02", "2024-12-31"),
        ("CY", "2024-03-13", "2024-12-31"),
        # negated current periods: start of the period
        ("-CD", "2024-03-13", "2024-03-13"),
        ("-CW", "2024-03-13", "2024-03-11"),
        ("-CW", "2024-03-17", "2024-03-11"),
        ("-CM", "2024-03-15", "2024-03-01"),
        ("-CM", "2024-03-01", "2024-03-01"),
        ("-CQ", "2024-05-20", "2024-04-01"),
        ("-CQ", "2024-12-31", "2024-10-01"),
        ("-CY", "2024-03-15", "2024-01-01"),
        ("+CM", "2024-03-15", "2024-03-31"),
        # combined terms are applied left to right
        ("CM+1M", "2024-01-15", "2024-02-29"),  # 2024-01-31, then + 1M (clamped)
        ("CM+1M", "2024-02-10", "2024-03-29"),  # 2024-02-29 + 1M: not a month end
        ("1M+CM", "2024-02-10", "2024-03-31"),  # the "end of next month" idiom
        ("CM+1D", "2024-02-10", "2024-03-01"),
        ("-CM-1D", "2024-03-15", "2024-02-29"),
        ("1Y-1D", "2024-03-15", "2025-03-14"),
        ("1Y-1D", "2024-01-01", "2024-12-31"),
        ("1Y-1D", "2024-02-29", "2025-02-27"),
        ("-CY+1Y-1D", "2024-06-15", "2024-12-31"),
        ("2W+3D-1D", "2024-01-01", "2024-01-17"),
        ("-1M+CM", "2024-03-15", "2024-02-29"),
        # spaces, lower case and leading zeros
        (" cm + 1m ", "2024-01-15", "2024-02-29"),
        ("1y - 1d", "2024-03-15", "2025-03-14"),
        ("\t30d\n", "2024-01-15", "2024-02-14"),
        ("- cm", "2024-03-15", "2024-03-01"),
        ("007D", "2024-01-01", "2024-01-08"),
    ],
)
def test_apply(formula, start, expected):
    assert calc(formula, start) == expected


def test_parse_returns_terms():
    term = df.Term
    assert df.parse_date_formula("cm + 1m") == (term(1, 0, "M", True), term(1, 1, "M", False))
    assert df.parse_date_formula("-30D-CY") == (term(-1, 30, "D"), term(-1, 0, "Y", True))
    assert str(term(-1, 0, "W", True)) == "-CW"
    assert str(term(1, 6, "M")) == "+6M"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" cm + 1m ", "CM+1M"),
        ("1y-1d", "1Y-1D"),
        ("+30d", "30D"),
        ("-1w", "-1W"),
        ("-cm", "-CM"),
        ("0030D + 0M", "30D+0M"),
        ("2 w + c q", "2W+CQ"),
    ],
)
def test_normalize(text, expected):
    assert df.normalize_date_formula(text) == expected
    assert df.normalize_date_formula(expected) == expected


def test_apply_accepts_terms_and_datetime():
    terms = df.parse_date_formula("CM+1M")
    assert df.apply_date_formula(terms, date(2024, 1, 15)) == date(2024, 2, 29)
    assert df.apply_date_formula(list(terms), date(2024, 1, 15)) == date(2024, 2, 29)
    assert df.apply_date_formula((), date(2024, 1, 15)) == date(2024, 1, 15)
    result = df.apply_date_formula("1D", datetime(2024, 1, 31, 23, 59))
    assert result == date(2024, 2, 1)
    assert type(result) is date


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("30", "missing unit after '30'"),
        ("1Y+30", "missing unit after '30'"),
        ("1X", "unknown unit 'X' in '1X': use D, W, M, Q or Y"),
        ("1YD", "unknown unit 'YD'"),
        ("5WD", "unknown unit 'WD'"),
        ("C", "unknown unit 'C'"),
        ("CX", "unknown unit 'CX'"),
        ("2CX", "unknown unit 'CX'"),
        ("2CM", "a number cannot be used with 'CM' in '2CM'"),
        ("1Y+2CQ", "a number cannot be used with 'CQ' in '+2CQ'"),
        ("D", "missing number before 'D'"),
        ("1Y+M", "missing number before 'M' in '+M'"),
        ("1Y+", "missing term after '+' at the end"),
        ("-", "missing term after '-' at the end"),
        ("1Y+-1D", "two signs in a row ('+-')"),
        ("--1D", "two signs in a row ('--')"),
        ("1Y1D", "missing '+' or '-' before '1D'"),
        ("CMCY", "unknown unit 'CMCY'"),
        ("1*2D", "unexpected character '*' at position 2"),
        ("1D,2D", "unexpected character ','"),
        ("30D.", "unexpected character '.'"),
        ("\u0663D", "unexpected character '\u0663'"),  # Arabic-Indic digit three
        ("\uff11D", "unexpected character '\uff11'"),  # full-width digit one
        ("1\u00df", "unexpected character '\u00df'"),  # sharp s, upper-cases to "SS"
        ("10000Y", "number too large in '10000Y' (at most 9998Y)"),
        ("3652059D", "number too large"),
        pytest.param("9" * 5000 + "D", "number too large", id="5000-digits"),
    ],
)
def test_invalid_formulas(text, message):
    with pytest.raises(df.DateFormulaError, match="Invalid date formula|empty") as info:
        df.parse_date_formula(text)
    assert message in str(info.value)
    with pytest.raises(df.DateFormulaError):
        df.normalize_date_formula(text)
    with pytest.raises(df.DateFormulaError):
        df.apply_date_formula(text, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("formula", "start"),
    [
        ("9998Y", "2024-01-01"),
        ("-1D", "0001-01-01"),
        ("-CM-1D", "0001-01-15"),
        ("CW", "9999-12-31"),  # a Friday: its Sunday is in year 10000
        ("1M", "9999-12-01"),
        ("3652058D", "2024-01-01"),
    ],
)
def test_out_of_range(formula, start):
    with pytest.raises(df.DateFormulaError, match="outside the years 1-9999"):
        calc(formula, start)


def test_largest_amounts_are_reachable():
    assert calc("9998Y", "0001-01-01") == "9999-01-01"
    assert calc("3652058D", "0001-01-01") == "9999-12-31"
    assert calc("-119987M", "9999-12-31") == "0001-01-31"


def test_error_type():
    assert issubclass(df.DateFormulaError, ValueError)
    with pytest.raises(TypeError):
        df.parse_date_formula(None)


def test_month_arithmetic_matches_relativedelta():
    """Month, quarter and year steps are dateutil's: day clamped to the target month's end."""
    from dateutil.relativedelta import relativedelta

    start = date(2023, 1, 1)
    for offset in range(0, 800, 3):
        day = date.fromordinal(start.toordinal() + offset)
        for months in (-25, -12, -3, -1, 1, 3, 12, 25):
            expected = day + relativedelta(months=months)
            assert df.apply_date_formula(f"{months}M", day) == expected


@pytest.mark.parametrize(
    ("formula", "days"),
    [
        ("1D", 1),
        ("-1D", 1),
        ("2W", 14),
        ("1Y", 365.25),
        ("-1Y", 365.25),
        ("1Q", 91.3125),
        ("1M", 30.4375),
        ("12M", 365.25),
        ("CD", 1),
        ("CW", 7),
        ("-CM", 30.4375),
        ("CQ", 91.3125),
        ("CY", 365.25),
        ("1Y-1Y", 730.5),  # signs do not cancel: each term counts
        ("CM+1M", 60.875),
        ("100Y", 36525),
        ("36525D", 36525),
        ("1200M", 36525),
    ],
)
def test_reach(formula, days):
    assert df.date_formula_reach(formula) == days
    assert df.date_formula_reach(df.parse_date_formula(formula)) == days


@pytest.mark.parametrize(
    "formula", ["100Y", "-100Y", "1200M", "-1200M", "400Q", "36525D", "5217W", "99Y+CY", "1Y-1D"]
)
def test_reach_within_100_years(formula):
    df.check_date_formula_reach(formula)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("9998Y", "up to 3651770 days, more than 100 years (36525 days)"),
        ("9000Y", "'9000Y': it can move a date by up to 3287250 days"),
        ("-3000Y", "'-3000Y'"),
        ("100Y+1D", "36526 days"),
        ("100Y+CD", "36526 days"),
        ("1201M", "more than 100 years"),
        ("36526D", "more than 100 years"),
        ("5218W", "more than 100 years"),
        ("50Y-50Y-1D", "more than 100 years"),
        ("3652058D", "more than 100 years"),
    ],
)
def test_reach_beyond_100_years(formula, message):
    with pytest.raises(df.DateFormulaError, match="Invalid date formula") as info:
        df.check_date_formula_reach(formula)
    assert message in str(info.value)


def test_reach_limit_is_a_parameter_and_invalid_formulas_fail():
    df.check_date_formula_reach("10Y", max_years=10)
    with pytest.raises(df.DateFormulaError, match="more than 10 years"):
        df.check_date_formula_reach("10Y+1D", max_years=10)
    with pytest.raises(df.DateFormulaError, match="unknown unit"):
        df.check_date_formula_reach("1X")


@pytest.mark.parametrize("formula", ["100Y", "-100Y", "1200M+0D", "36525D", "-CY+99Y+CY"])
def test_formulas_within_reach_apply_to_any_present_date(formula):
    """A formula allowed at save can't fail on a delivery date of years 102-9898."""
    for day in (
        date(1900, 1, 1),
        date(2024, 2, 29),
        date(2026, 12, 31),
        date(9898, 12, 31),
        date(102, 1, 1),
    ):
        result = df.apply_date_formula(formula, day)
        assert abs((result - day).days) <= df.date_formula_reach(formula)


@pytest.mark.parametrize(
    ("formula", "found"),
    [
        ("-1Y", ("2000-01-01", "1999-01-01")),
        ("-1D", ("2000-01-01", "1999-12-31")),
        ("-CM", ("2000-01-02", "2000-01-01")),
        ("-CW", ("2000-01-01", "1999-12-27")),
        ("1M-31D", ("2000-01-30", "2000-01-29")),
        ("1M-29D", ("2001-01-31", "2001-01-30")),
        ("12M-366D", ("2000-02-29", "2000-02-28")),
        ("4Y-1461D", ("2097-01-01", "2096-12-31")),  # 2100 is not a leap year
        ("1Y", None),
        ("1Y-1D", None),
        ("-CM+1Y", None),
        ("1Y-CM", None),
        ("CM+1M", None),
        ("CD", None),
        ("0D", None),
        ("-1D+1D", None),
        ("1M-28D", None),
        ("12M-365D", None),
        ("1W-7D", None),
    ],
)
def test_find_backward_date(formula, found):
    result = df.find_backward_date(formula)
    expected = found and tuple(date.fromisoformat(day) for day in found)
    assert result == expected
    if found:
        with pytest.raises(df.DateFormulaError, match=rf"{found[0]} gives {found[1]}"):
            df.check_date_formula_not_backward(formula)
    else:
        df.check_date_formula_not_backward(formula)
