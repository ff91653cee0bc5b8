"""Table test of ``tools/lot_number.py`` (loaded by path, see test_date_formula.py)."""

import importlib.util
import sys
from pathlib import Path

import pytest

_TOOLS_DIR = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location(
    "item_tracking_lot_number", _TOOLS_DIR / "lot_number.py"
)
ln = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = ln
_SPEC.loader.exec_module(ln)

# (input, cleaned number or None, refusal reason or None, key)
TABLE = [
    ("SN1", "SN1", None, "sn1"),
    (" SN1", "SN1", None, "sn1"),
    ("SN1 ", "SN1", None, "sn1"),
    ("sn1", "sn1", None, "sn1"),
    ("\u00a0SN1\u00a0", "SN1", None, "sn1"),  # NBSP around: trimmed
    ("SN\u00a01", "SN 1", None, "sn 1"),  # NBSP inside: a plain space
    ("SN1\t", "SN1", None, "sn1"),  # scanner's trailing tab
    ("SN1\r\n", "SN1", None, "sn1"),  # scanner's trailing newline
    ("SN\t1", None, ln.INVISIBLE, "sn 1"),
    ("SN\n1", None, ln.INVISIBLE, "sn 1"),
    ("SN\u200b1", None, ln.INVISIBLE, "sn1"),  # zero-width space
    ("\ufeffSN1", None, ln.INVISIBLE, "sn1"),  # BOM
    ("SN\u00071", None, ln.INVISIBLE, "sn1"),  # BEL
    ("SN\u20281", None, ln.INVISIBLE, "sn1"),  # line separator
    ("", None, ln.EMPTY, ""),
    ("   ", None, ln.EMPTY, ""),
    (None, None, ln.EMPTY, ""),
    ("A" * 128, "A" * 128, None, "a" * 128),
    ("A" * 129, None, ln.TOO_LONG, "a" * 129),
    (" " + "A" * 128 + " ", "A" * 128, None, "a" * 128),  # length after trimming
    ("\uff33\uff2e\uff11", "\uff33\uff2e\uff11", None, "sn1"),  # fullwidth: same number
    ("\u0421N1", "\u0421N1", None, "\u0441n1"),  # Cyrillic Es: another number
    ("000123", "000123", None, "000123"),  # leading zeros kept
    ("STRASSE-1", "STRASSE-1", None, "strasse-1"),
    ("stra\u00dfe-1", "stra\u00dfe-1", None, "strasse-1"),  # casefold: ß = ss
    ("e\u0301-1", "e\u0301-1", None, "\u00e9-1"),  # combining accent = precomposed
]


@pytest.mark.parametrize(("text", "cleaned", "reason", "key"), TABLE)
def test_table(text, cleaned, reason, key):
    assert ln.check_lot_number(text) == (cleaned, reason)
    assert ln.lot_number_key(text) == key
    if cleaned is not None:
        assert ln.lot_number_key(cleaned) == key


def test_key_of_cleaned_equals_key_of_raw():
    for raw in (" SN-01 ", "sn-01", "\uff33\uff2e-\uff10\uff11"):
        assert ln.lot_number_key(raw) == "sn-01"
    assert ln.lot_number_key("SN-01") != ln.lot_number_key("SN-1")
