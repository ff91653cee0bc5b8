"""Strict cleaning and comparison key of lot/serial numbers (pure Python, no Odoo import).

Used for products with an item tracking code: every path that creates or renames a lot
cleans the number with `check_lot_number` and compares numbers by `lot_number_key`.
"""

import unicodedata
from functools import lru_cache

MAX_LENGTH = 128
# Never part of a number: control (Cc: tab, newline...), format (Cf: zero-width space and
# joiners, BOM, bidi marks), surrogates, private use, unassigned, line/paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

# Numbers up to this length are cached (a few MB at most), longer ones computed each time.
_CACHED_LENGTH = 2 * MAX_LENGTH

EMPTY = "empty"
TOO_LONG = "too_long"
INVISIBLE = "invisible"


def check_lot_number(text):
    """(cleaned number, None) or (None, reason) for a typed, scanned or pasted number.

    The number loses its surrounding whitespace (spaces, NBSP, a scanner's trailing tab or
    newline); spaces inside (NBSP, ideographic space...) become plain spaces; leading zeros and
    letter case are kept. Refused (reason): nothing left (`EMPTY`), a control or invisible
    character inside (`INVISIBLE`: tab, newline, zero-width space, BOM...), more than
    `MAX_LENGTH` characters (`TOO_LONG`).
    """
    if not isinstance(text, str):
        return None, EMPTY
    if len(text) > _CACHED_LENGTH:
        return _check_lot_number.__wrapped__(text)
    return _check_lot_number(text)


@lru_cache(maxsize=65536)
def _check_lot_number(text):
    # Cached: one validation asks for the same numbers several times (pure function).
    text = text.strip()
    if not text:
        return None, EMPTY
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
        return None, INVISIBLE
    text = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    if len(text) > MAX_LENGTH:
        return None, TOO_LONG
    return text, None


def lot_number_key(text):
    """The comparison key of a number: trimmed, compatibility-normalised and case-folded
    (Unicode NFKC_Casefold-like: NFKC, casefold, NFKC), so `sn1`, ` SN1 ` and the fullwidth
    `ＳＮ１` are one number while look-alike letters of other scripts (Cyrillic `С`) stay
    different numbers. Never raises: a number stored before the rules (with invisible
    characters) gets the key of its visible characters."""
    if not text:
        return ""
    text = str(text)
    if len(text) > _CACHED_LENGTH:
        return _lot_number_key.__wrapped__(text)
    return _lot_number_key(text)


@lru_cache(maxsize=65536)
def _lot_number_key(text):
    # Cached: one validation asks for the same keys several times (pure function).
    visible = "".join(
        " " if unicodedata.category(ch) == "Zs" or ch in "\t\r\n" else ch
        for ch in text
        if ch in "\t\r\n" or unicodedata.category(ch) not in _REFUSED_CATEGORIES
    ).strip()
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", visible).casefold())
    return folded.strip()


def companies_conflict(company_a, company_b):
    """Odoo's rule for lots of one product and number: a lot without company conflicts with
    every company's lot; lots of two companies don't."""
    return not company_a or not company_b or company_a == company_b
