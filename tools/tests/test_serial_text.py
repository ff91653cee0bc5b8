"""Tests for ``tools/serial_text.py`` (loaded by path, see test_date_formula.py)."""

import importlib.util
import sys
import types
from pathlib import Path

_TOOLS_DIR = Path(__file__).resolve().parent.parent
_ADDON_DIR = _TOOLS_DIR.parent
if (_ADDON_DIR / "__init__.py").is_file():
    _stub = types.ModuleType(_ADDON_DIR.name)
    _stub.__path__ = [str(_ADDON_DIR)]
    sys.modules.setdefault(_ADDON_DIR.name, _stub)

_SPEC = importlib.util.spec_from_file_location(
    "item_tracking_serial_text", _TOOLS_DIR / "serial_text.py"
)
st = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = st
_SPEC.loader.exec_module(st)


def test_clean_drops_control_and_zero_width_characters():
    assert st.clean_serial("\u200bSN-\u00071\ufeff\u200d ") == "SN-1"
    assert st.clean_serial("  SN 1\t") == "SN 1"
    assert st.clean_serial(None) == ""
    assert st.clean_serial("\u2028\u200b") == ""


def test_key_is_case_insensitive_and_trimmed():
    assert st.serial_key(" sn-01 ") == st.serial_key("SN-01")
    assert st.serial_key("SN-01") != st.serial_key("SN-1")


def test_split_pasted_text():
    text = " A-1 \r\n\r\nA-2\n   \n\u200bA-3\rA-4\n"
    assert st.split_serial_text(text) == ["A-1", "A-2", "A-3", "A-4"]
    assert st.split_serial_text("") == []
