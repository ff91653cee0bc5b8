"""Cleaning of typed, scanned or pasted serial numbers (pure Python, no Odoo import)."""

import unicodedata

# Characters that scanners and copy/paste bring along and that never belong to a serial:
# control characters (Cc), format characters such as zero-width spaces and joiners, BOM,
# bidi marks (Cf), and line/paragraph separators (Zl, Zp).
_DROPPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def clean_serial(text):
    """Return `text` without control/zero-width characters, its whitespace runs kept as typed
    inside but trimmed at both ends; `None`/empty gives ''."""
    if not text:
        return ""
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in unicodedata.normalize("NFC", str(text))
        if ch in "\t\r\n" or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    return kept.strip()


def serial_key(text):
    """The comparison key of a serial: cleaned, trimmed and lower-cased (R002 uniqueness),
    as the database's unique index compares them (`lower(name)`)."""
    return clean_serial(text).lower()


def split_serial_text(text):
    """The serials of a pasted text, one per line; blank lines and surrounding spaces ignored,
    order kept."""
    if not text:
        return []
    serials = []
    for raw in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        serial = clean_serial(raw)
        if serial:
            serials.append(serial)
    return serials
