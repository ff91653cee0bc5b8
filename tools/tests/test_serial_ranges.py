"""Tests for ``tools/serial_ranges.py``, against a verbatim copy of Odoo's generator.

Run as ``scripts/test_static.sh`` does (``tools`` collected as a top-level package, so the
add-on and Odoo are never imported), like ``test_lot_status.py``.
"""

import re

import pytest

from tools import serial_ranges as sr


def generate_lot_names(first_lot, count):
    """Odoo 18's ``stock.lot.generate_lot_names`` (its body, with ``re`` names): the reference."""
    caught_initial_number = re.findall(r"\d+", first_lot)
    if not caught_initial_number:
        return generate_lot_names(first_lot + "0", count)
    initial_number = caught_initial_number[-1]
    padding = len(initial_number)
    splitted = re.split(initial_number, first_lot)
    prefix = initial_number.join(splitted[:-1])
    suffix = splitted[-1]
    initial_number = int(initial_number)
    return [
        {"lot_name": "%s%s%s" % (prefix, str(initial_number + i).zfill(padding), suffix)}
        for i in range(0, count)
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SN-0001", ("SN-", "0001", "")),
        ("0042", ("", "0042", "")),
        ("LOT7-A", ("LOT", "7", "-A")),
        ("BAV023B00001S00001", ("BAV023B00001S", "00001", "")),
        ("A12B12", ("A12B", "12", "")),
        ("A112B12X", ("A112B", "12", "X")),
        ("NOSERIAL", ("NOSERIAL", "", "")),
        ("", ("", "", "")),
    ],
)
def test_split_serial(name, expected):
    assert sr.split_serial(name) == expected


@pytest.mark.parametrize(
    "first", ["SN-0001", "SN-9", "SN-0998", "BAV023B00001S00001", "A12B12X", "7", "X1Y"]
)
def test_next_serial_is_the_generator_successor(first):
    generated = [vals["lot_name"] for vals in generate_lot_names(first, 4)]
    names = [first]
    for _ in range(3):
        names.append(sr.next_serial(names[-1]))
    assert names == generated


def test_next_serial_without_digits():
    assert sr.next_serial("ABC") is None


def test_compress_generated_run_is_one_range():
    names = [vals["lot_name"] for vals in generate_lot_names("SN-0001", 100)]
    assert sr.compress_serials(names) == [sr.SerialRange("SN-0001", "SN-0100", 100)]
    assert sr.format_serials(names) == ["SN-0001 - SN-0100 (100)"]


def test_compress_sorts_naturally_and_breaks_on_gaps():
    names = ["SN-0105", "SN-0003", "SN-0001", "SN-0002", "SN-0010", "SN-0005", "SN-0004"]
    assert sr.format_serials(names) == ["SN-0001 - SN-0005 (5)", "SN-0010", "SN-0105"]


def test_compress_keeps_prefixes_suffixes_and_widths_apart():
    names = ["A-1", "A-2", "B-3", "A-3X", "A-4X", "A-03", "A-04", "A-3"]
    assert sr.format_serials(names) == [
        "A-1 - A-3 (3)",
        "A-03 - A-04 (2)",
        "A-3X - A-4X (2)",
        "B-3",
    ]


def test_compress_follows_the_generator_on_overflow():
    assert sr.format_serials(["SN-8", "SN-9", "SN-10", "SN-11"]) == ["SN-8 - SN-11 (4)"]
    assert sr.format_serials(["SN-99", "SN-100"]) == ["SN-99 - SN-100 (2)"]


def test_compress_natural_order_of_prefixes():
    assert sr.format_serials(["LOT10-1", "LOT2-1", "LOT2-2"]) == ["LOT2-1 - LOT2-2 (2)", "LOT10-1"]


def test_names_without_digits_stay_alone_and_empty_ignored():
    assert sr.format_serials(["BETA", "", "ALPHA", None, "ALPHB"]) == ["ALPHA", "ALPHB", "BETA"]


def test_duplicates_are_printed_as_often_as_given():
    ranges = sr.compress_serials(["SN-1", "SN-2", "SN-2", "SN-3"])
    assert sum(r.count for r in ranges) == 4
    assert [sr.format_serial_range(r) for r in ranges] == ["SN-1 - SN-3 (3)", "SN-2"]


def test_format_single_and_range():
    assert sr.format_serial_range(sr.SerialRange("SN-0105", "SN-0105", 1)) == "SN-0105"
    assert sr.format_serial_range(sr.SerialRange("SN-1", "SN-2", 2)) == "SN-1 - SN-2 (2)"


def test_thousand_scattered_serials_stay_short():
    names = [f"SN-{n:05d}" for n in range(1, 2001) if n % 100 != 0]
    ranges = sr.compress_serials(names)
    assert len(ranges) == 20
    assert sum(r.count for r in ranges) == len(names)
    assert sr.format_serial_range(ranges[0]) == "SN-00001 - SN-00099 (99)"
