"""Business Central style date formulas (e.g. ``1Y``, ``CM+1M``, ``1Y-1D``, ``-CM``).

Pure Python (standard library and ``dateutil``, a dependency of Odoo; no Odoo import) so it
can be unit tested on its own.

Grammar (case-insensitive, all whitespace ignored)::

    formula := [sign] term (sign term)*
    sign    := "+" | "-"
    term    := digits unit | "C" unit
    unit    := "D" (day) | "W" (week) | "M" (month) | "Q" (quarter = 3 months) | "Y" (year)

Semantics, following Business Central's ``CALCDATE``:

* ``<n><unit>`` moves the date by ``n`` units. Month, quarter and year steps keep the day
  of month, clamped to the last day of the target month (Jan 31 + 1M = Feb 28/29,
  Feb 29 2024 + 1Y = Feb 28 2025).
* ``C<unit>`` moves to the *end* of the current period: ``CD`` the day itself, ``CW`` the
  Sunday of the ISO week (Monday-Sunday), ``CM``/``CQ``/``CY`` the last day of the calendar
  month/quarter/year. A negated C-term (``-CM``) moves to the *start* of that period.
* Terms are applied left to right, each to the result of the previous one. Hence
  ``CM+1M`` is "end of this month, then one month later": from 2024-01-15 it gives
  2024-01-31 + 1M = 2024-02-29, but from 2024-02-10 it gives 2024-02-29 + 1M = 2024-03-29.
  Use ``1M+CM`` for "end of next month".

Reach: :func:`date_formula_reach` measures how far a formula can move a date, counting each
term at its full length (a year as 365.25 days, a quarter as a fourth and a month as a twelfth
of that, a week as 7 days, a day as 1; a C-term as one whole period of its unit), whatever the
signs. :func:`check_date_formula_reach` refuses formulas that can reach more than 100 years
(36,525 days): ``100Y``, ``1200M`` and ``36525D`` are accepted, ``100Y+1D`` is not.

Direction: :func:`find_backward_date` finds a date that a formula moves backwards (``-1Y``,
``-CM``, ``1M-31D`` from March 1), and :func:`check_date_formula_not_backward` refuses such
formulas (a warranty can't end before the delivery). Negative terms inside a formula that
always ends on or after its start date (``1Y-1D``, ``-CM+1Y``) are valid.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from dateutil.relativedelta import relativedelta

__all__ = [
    "MAX_REACH_YEARS",
    "DateFormulaError",
    "Term",
    "apply_date_formula",
    "check_date_formula_not_backward",
    "check_date_formula_reach",
    "find_backward_date",
    "date_formula_reach",
    "normalize_date_formula",
    "parse_date_formula",
]

UNITS = ("D", "W", "M", "Q", "Y")
_UNITS_HELP = "use D, W, M, Q or Y (e.g. 30D, 6M), or CD, CW, CM, CQ or CY for the current period"
# Largest amount per unit that can still give a valid date from some starting date.
_SPAN_DAYS = (datetime.date.max - datetime.date.min).days
_SPAN_MONTHS = 12 * (datetime.MAXYEAR - datetime.MINYEAR) + 11
_MAX_AMOUNT = {
    "D": _SPAN_DAYS,
    "W": _SPAN_DAYS // 7,
    "M": _SPAN_MONTHS,
    "Q": _SPAN_MONTHS // 3,
    "Y": _SPAN_MONTHS // 12,
}
# Length of each unit in days, for the reach of a formula (a year of 365.25 days on average).
_YEAR_DAYS = Fraction(1461, 4)
_UNIT_DAYS = {"D": 1, "W": 7, "M": _YEAR_DAYS / 12, "Q": _YEAR_DAYS / 4, "Y": _YEAR_DAYS}
# How far a saved formula may move a date (check_date_formula_reach).
MAX_REACH_YEARS = 100
# Lower bound of the move of one term, in days (`_min_move`): n months move a date by at least
# 28n days minus 3 (clamping to a shorter month) forward, at most 31n days backward; a negated
# C-term moves back to the start of its period, at most its longest length minus one day.
_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_PERIOD_BACK = {"D": 0, "W": 6, "M": 30, "Q": 91, "Y": 365}
# The start dates tried by find_backward_date: 28 years (every weekday of January 1st in
# leap and common years) and the years around 2100 (a century that is not a leap year).
_BACKWARD_SAMPLES = (
    (datetime.date(2000, 1, 1), 10227),  # 2000-01-01 .. 2027-12-31
    (datetime.date(2097, 1, 1), 2556),  # 2097-01-01 .. 2103-12-31
)
_TERM_RE = re.compile(r"([+-]?)([0-9]*)([A-Za-z]*)")
_WHITESPACE_RE = re.compile(r"\s+")


class DateFormulaError(ValueError):
    """Raised when a date formula is invalid or cannot be applied to a date."""


@dataclass(frozen=True)
class Term:
    """One term of a date formula.

    ``sign`` is ``1`` or ``-1``; ``unit`` is one of ``D W M Q Y``; ``current`` marks a
    C-term (``CM``...), which has ``amount`` 0.
    """

    sign: int
    amount: int
    unit: str
    current: bool = False

    def __str__(self) -> str:
        """Return the term with an explicit sign, e.g. ``+1M``, ``-CM``."""
        body = f"C{self.unit}" if self.current else f"{self.amount}{self.unit}"
        return ("-" if self.sign < 0 else "+") + body


def _error(message: str, formula: str) -> DateFormulaError:
    return DateFormulaError(f"Invalid date formula '{formula}': {message}")


def parse_date_formula(text: str) -> tuple[Term, ...]:
    """Parse ``text`` into its terms; raise :class:`DateFormulaError` if it is invalid."""
    if not isinstance(text, str):
        raise TypeError(f"date formula must be a string, not {type(text).__name__}")
    formula = _WHITESPACE_RE.sub("", text)
    if not formula:
        raise DateFormulaError("Date formula is empty: use e.g. 30D, 6M, 1Y or CM+1M")
    terms: list[Term] = []
    pos = 0
    while pos < len(formula):
        match = _TERM_RE.match(formula, pos)
        assert match is not None  # every group may be empty, so the pattern always matches
        sign, digits, letters = match.groups()
        piece, end = match.group(), match.end()
        char = formula[end] if end < len(formula) else ""
        if char and char not in "+-0123456789":
            raise _error(f"unexpected character '{char}' at position {end + 1}", formula)
        if not digits and not letters:
            if not char:
                raise _error(f"missing term after '{sign}' at the end", formula)
            raise _error(f"two signs in a row ('{sign}{char}')", formula)
        if terms and not sign:
            raise _error(f"missing '+' or '-' before '{piece}'", formula)
        unit = letters.upper()
        current = unit.startswith("C")
        if current:
            unit = unit[1:]
        if unit not in UNITS:
            if not letters:
                raise _error(f"missing unit after '{digits}': {_UNITS_HELP}", formula)
            raise _error(f"unknown unit '{letters}' in '{piece}': {_UNITS_HELP}", formula)
        if current and digits:
            raise _error(
                f"a number cannot be used with 'C{unit}' in '{piece}': "
                "C-terms mean the current period (write e.g. CM+2M)",
                formula,
            )
        if not current and not digits:
            raise _error(f"missing number before '{unit}' in '{piece}' (e.g. 1{unit})", formula)
        amount = 0
        if digits:
            digits = digits.lstrip("0") or "0"
            if len(digits) > 7 or int(digits) > _MAX_AMOUNT[unit]:
                raise _error(
                    f"number too large in '{piece}' (at most {_MAX_AMOUNT[unit]}{unit})", formula
                )
            amount = int(digits)
        terms.append(Term(-1 if sign == "-" else 1, amount, unit, current))
        pos = end
    return tuple(terms)


def normalize_date_formula(text: str) -> str:
    """Return the canonical form of ``text``, e.g. ``" cm + 1m "`` -> ``"CM+1M"``.

    Upper case, no spaces, no leading zeros and no leading ``+``.
    Raise :class:`DateFormulaError` if ``text`` is invalid.
    """
    return _format(parse_date_formula(text))


def _format(terms: Iterable[Term]) -> str:
    return "".join(str(term) for term in terms).removeprefix("+")


def _add_months(date: datetime.date, months: int) -> datetime.date:
    """Add ``months`` to ``date``, clamping the day to the end of the target month."""
    try:
        return date + relativedelta(months=months)
    except ValueError as error:  # relativedelta's "year 10000 is out of range"
        raise OverflowError(str(error)) from None


def _current_period(date: datetime.date, unit: str, start: bool) -> datetime.date:
    """Return the start (``start=True``) or end of the ``unit`` period containing ``date``."""
    if unit == "D":
        return date
    if unit == "W":
        weekday = date.weekday()  # Monday = 0
        return date - datetime.timedelta(days=weekday if start else weekday - 6)
    if unit == "M":
        return date + relativedelta(day=1 if start else 31)  # day=31 clamps to the month end
    if unit == "Q":
        first = date.replace(month=(date.month - 1) // 3 * 3 + 1, day=1)
        return first if start else first + relativedelta(months=2, day=31)
    return date.replace(month=1, day=1) if start else date.replace(month=12, day=31)


def _apply_term(date: datetime.date, term: Term) -> datetime.date:
    if term.unit not in UNITS:
        raise DateFormulaError(f"Unknown unit '{term.unit}' in term {term}: {_UNITS_HELP}")
    if term.current:
        return _current_period(date, term.unit, start=term.sign < 0)
    amount = term.sign * term.amount
    if term.unit in ("D", "W"):
        return date + datetime.timedelta(days=amount * (7 if term.unit == "W" else 1))
    return _add_months(date, amount * {"M": 1, "Q": 3, "Y": 12}[term.unit])


def apply_date_formula(
    formula: str | Iterable[Term], date: datetime.date | datetime.datetime
) -> datetime.date:
    """Apply ``formula`` (text or parsed terms) to ``date`` and return the resulting date.

    A ``datetime`` is reduced to its date part. Raise :class:`DateFormulaError` if the
    formula is invalid or the result falls outside the years 1-9999.
    """
    terms = parse_date_formula(formula) if isinstance(formula, str) else tuple(formula)
    start = date.date() if isinstance(date, datetime.datetime) else date
    result = start
    for term in terms:
        try:
            result = _apply_term(result, term)
        except OverflowError:
            raise DateFormulaError(
                f"Date formula '{_format(terms)}' applied to {start.isoformat()} gives a date "
                f"outside the years {datetime.MINYEAR}-{datetime.MAXYEAR}"
            ) from None
    return result


def date_formula_reach(formula: str | Iterable[Term]) -> Fraction:
    """Return, in days, how far ``formula`` (text or parsed terms) can move a date at most.

    The sum of the full lengths of its terms, whatever their signs: ``n`` units count ``n``
    times the unit's length (a year 365.25 days, a quarter a fourth and a month a twelfth of
    that, a week 7 days, a day 1) and a C-term one whole period of its unit. Months are
    counted at their average length, so a real move can exceed the reach by a few days
    (``1M`` from July 31 moves 31 days); signs never cancel (``1Y-1Y`` reaches 730.5 days).
    Raise :class:`DateFormulaError` if ``formula`` is invalid.
    """
    terms = parse_date_formula(formula) if isinstance(formula, str) else tuple(formula)
    return sum(
        (_UNIT_DAYS[term.unit] * (1 if term.current else term.amount) for term in terms),
        Fraction(0),
    )


def check_date_formula_reach(
    formula: str | Iterable[Term], max_years: int = MAX_REACH_YEARS
) -> None:
    """Raise :class:`DateFormulaError` if ``formula`` is invalid or its
    :func:`date_formula_reach` is more than ``max_years`` years of 365.25 days."""
    terms = parse_date_formula(formula) if isinstance(formula, str) else tuple(formula)
    reach = date_formula_reach(terms)
    if reach > _YEAR_DAYS * max_years:
        raise DateFormulaError(
            f"Invalid date formula '{_format(terms)}': it can move a date by up to "
            f"{round(reach)} days, more than {max_years} years ({_YEAR_DAYS * max_years} days)"
        )


def _min_move(term: Term) -> int:
    """A lower bound, in days, of how far ``term`` moves any date (negative: backwards)."""
    if term.current:
        return 0 if term.sign > 0 else -_PERIOD_BACK[term.unit]
    if term.unit in ("D", "W"):
        return term.sign * term.amount * (7 if term.unit == "W" else 1)
    months = term.amount * _MONTHS[term.unit]
    return max(28 * months - 3, 0) if term.sign > 0 else -31 * months


def find_backward_date(
    formula: str | Iterable[Term],
) -> tuple[datetime.date, datetime.date] | None:
    """Return a ``(start, result)`` pair where ``formula`` gives a date before ``start``, or
    ``None`` when it never does (tried on every day of 28 years and of the years around
    2100, unless the terms' lower bounds already prove it: ``1Y-1D``, ``CM+1M``).
    Raise :class:`DateFormulaError` if ``formula`` is invalid."""
    terms = parse_date_formula(formula) if isinstance(formula, str) else tuple(formula)
    if sum(_min_move(term) for term in terms) >= 0:
        return None
    for first, count in _BACKWARD_SAMPLES:
        for offset in range(count):
            start = first + datetime.timedelta(days=offset)
            result = start
            try:
                for term in terms:
                    result = _apply_term(result, term)
            except OverflowError:
                continue
            if result < start:
                return start, result
    return None


def check_date_formula_not_backward(formula: str | Iterable[Term]) -> None:
    """Raise :class:`DateFormulaError` if ``formula`` is invalid or gives, from some date, a
    date before it (:func:`find_backward_date`), naming one such date."""
    terms = parse_date_formula(formula) if isinstance(formula, str) else tuple(formula)
    found = find_backward_date(terms)
    if found:
        start, result = found
        raise DateFormulaError(
            f"Invalid date formula '{_format(terms)}': it gives a date before the date it "
            f"starts from ({start.isoformat()} gives {result.isoformat()})"
        )
