"""Compression of serial number lists into ranges for printing (pure Python, no Odoo import).

A serial is split into prefix, number and suffix exactly as Odoo's serial generator
(``stock.lot.generate_lot_names``) does: the number is the last run of digits, the prefix what
comes before it, the suffix what follows. A range is a run of names that the generator would
produce from its first name: ``SN-0001`` and 99 more give ``SN-0001 - SN-0100 (100)``.
"""

import re
from dataclasses import dataclass

_DIGITS = re.compile(r"\d+")
_CHUNKS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class SerialRange:
    """A run of serial numbers: its first and last name and how many names it holds."""

    first: str
    last: str
    count: int


def split_serial(name):
    """Return ``(prefix, number, suffix)`` of ``name`` as ``stock.lot.generate_lot_names``
    splits it; ``number`` is the digit string (zeros kept) or ``""`` when ``name`` has no
    digit, and then the prefix is the whole name."""
    numbers = _DIGITS.findall(name)
    if not numbers:
        return name, "", ""
    initial_number = numbers[-1]
    # The generator splits on the digit string itself (``re.split(initial_number, name)``,
    # the same as str.split for a pattern of digits, without compiling one pattern a number):
    # it may also occur earlier in the name (BAV023B00001S00001), so the prefix is everything
    # but the last piece, joined back.
    splitted = name.split(initial_number)
    return initial_number.join(splitted[:-1]), initial_number, splitted[-1]


def next_serial(name):
    """The name the generator gives after ``name`` (zero-padded to the same width, wider only
    on overflow), or ``None`` for a name without digits: such a name is never in a range."""
    return _next_of(split_serial(name))


def _next_of(parts):
    prefix, number, suffix = parts
    if not number:
        return None
    return f"{prefix}{str(int(number) + 1).zfill(len(number))}{suffix}"


def natural_key(text):
    """Sort key comparing the digit runs of ``text`` as numbers and the rest case-folded."""
    return tuple(
        (0, int(chunk), chunk) if chunk.isdigit() else (1, chunk.casefold(), chunk)
        for chunk in _CHUNKS.split(text)
        if chunk
    )


def _sort_key(name, parts=None, natural_keys=None):
    """Names sorted by prefix and suffix (naturally), then number; `natural_keys` caches the
    natural keys of the few prefixes and suffixes that a long list repeats."""
    prefix, number, suffix = parts or split_serial(name)
    if natural_keys is None:
        natural_keys = {}
    for text in (prefix, suffix):
        if text not in natural_keys:
            natural_keys[text] = natural_key(text)
    return natural_keys[prefix], natural_keys[suffix], int(number) if number else -1, name


def compress_serials(names):
    """The serial ``names`` as a list of :class:`SerialRange`, in natural order.

    Names merge into one range only when each is the generator's successor of the previous
    one: same prefix and suffix, the next number, at the same width (``SN-9`` is followed by
    ``SN-10``, ``SN-09`` by ``SN-10`` too, while ``SN-010`` starts a range of its own). Names
    without digits, and names given twice, stay alone. Empty names are ignored.
    """
    runs = []
    open_runs = {}  # the name that would extend a run -> index of that run in `runs`
    parts = {name: split_serial(name) for name in names if name}
    natural_keys = {}
    for name in sorted(parts, key=lambda name: _sort_key(name, parts[name], natural_keys)):
        index = open_runs.pop(name, None)
        if index is None:
            runs.append([name, name, 1])
            index = len(runs) - 1
        else:
            runs[index][1] = name
            runs[index][2] += 1
        following = _next_of(parts[name])
        if following is not None:
            open_runs[following] = index
    duplicates = len([n for n in names if n]) - sum(run[2] for run in runs)
    result = [SerialRange(*run) for run in runs]
    if duplicates:
        # A name given several times is printed as often as it was given, never hidden.
        counts = {}
        for name in names:
            if name:
                counts[name] = counts.get(name, 0) + 1
        extra = [SerialRange(n, n, 1) for n in counts for _ in range(counts[n] - 1)]
        result = sorted(result + extra, key=lambda r: _sort_key(r.first))
    return result


def format_serial_range(serial_range):
    """``SN-0001 - SN-0100 (100)`` for a range, ``SN-0105`` for a single serial."""
    if serial_range.count == 1:
        return serial_range.first
    return f"{serial_range.first} - {serial_range.last} ({serial_range.count})"


def format_serials(names):
    """The printed lines of the serial ``names``: one string a range or single serial."""
    return [format_serial_range(r) for r in compress_serials(names)]
