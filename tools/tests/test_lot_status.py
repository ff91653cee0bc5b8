"""Table test of the lot status function (tools/lot_status.py): every transition of the
information card, and the histories that the install hook and the live upkeep once disagreed
on. The same table drives the Odoo test that installs on an existing database
(tests/test_status_function.py), so live, install and this function can't drift apart."""

import datetime

import pytest

from tools.lot_status import lot_state, next_status, replay

# Locations: (usage, counts as on hand, rejection location, scrap location)
LOCATIONS = {
    "vendor": ("supplier", False, False, False),
    "customer": ("customer", False, False, False),
    "stock": ("internal", True, False, False),
    "shelf": ("internal", True, False, False),
    "transit": ("transit", True, False, False),
    "production": ("production", False, False, False),
    "inventory": ("inventory", False, False, False),
    "scrap": ("inventory", False, False, True),
    "rejected": ("internal", False, True, False),
}


def move(src, dest, quantity=1.0, company=1, **documents):
    src_usage, src_on_hand, _src_rejected, _src_scrap = LOCATIONS[src]
    dest_usage, dest_on_hand, dest_rejected, dest_scrap = LOCATIONS[dest]
    return {
        "date": datetime.datetime(2024, 1, 1),
        "company_id": company,
        "quantity": quantity,
        "rounding": 0.01,
        "src_usage": src_usage,
        "dest_usage": dest_usage,
        "src_on_hand": src_on_hand,
        "dest_on_hand": dest_on_hand,
        "dest_rejected": dest_rejected,
        "dest_scrap": dest_scrap,
        "partner_id": documents.get("partner_id", False),
        "purchase_partner_id": documents.get("purchase_partner_id", False),
        "purchase_order_id": documents.get("purchase_order_id", False),
        "sale_order_id": documents.get("sale_order_id", False),
        "production_id": documents.get("production_id", False),
    }


# (history as (source, destination[, quantity]) steps, expected status)
HISTORIES = [
    ([], "planned"),
    ([("vendor", "stock")], "received"),
    ([("production", "stock")], "received"),
    ([("inventory", "stock")], "received"),
    ([("vendor", "stock"), ("stock", "customer")], "shipped"),
    ([("vendor", "stock"), ("stock", "production")], "consumed"),
    ([("vendor", "stock"), ("stock", "scrap")], "written_off"),
    ([("vendor", "stock"), ("stock", "inventory")], "written_off"),
    ([("vendor", "stock"), ("stock", "rejected")], "rejected"),
    ([("vendor", "stock"), ("stock", "rejected"), ("rejected", "scrap")], "written_off"),
    ([("vendor", "stock"), ("stock", "rejected"), ("rejected", "stock")], "received"),
    ([("vendor", "stock"), ("stock", "customer"), ("customer", "stock")], "returned"),
    (
        [("vendor", "stock"), ("stock", "customer"), ("customer", "stock"), ("stock", "customer")],
        "shipped",
    ),
    # returned, then moved inside the warehouse: still returned (install once said received)
    (
        [("vendor", "stock"), ("stock", "customer"), ("customer", "stock"), ("stock", "shelf")],
        "returned",
    ),
    ([("vendor", "stock"), ("stock", "transit"), ("transit", "shelf")], "received"),
    # returned, then sent back to the vendor: the status it had (install once said received)
    (
        [("vendor", "stock"), ("stock", "customer"), ("customer", "stock"), ("stock", "vendor")],
        "returned",
    ),
    ([("vendor", "stock"), ("stock", "vendor")], "received"),
    # a negative quant left behind: unchanged, never planned
    ([("stock", "customer")], "shipped"),
    ([("vendor", "stock"), ("stock", "customer"), ("stock", "customer")], "shipped"),
    ([("vendor", "stock"), ("stock", "customer"), ("stock", "shelf")], "shipped"),
    # a lot with quantity left stays received; the last units decide
    ([("vendor", "stock", 5), ("stock", "customer", 2)], "received"),
    ([("vendor", "stock", 5), ("stock", "customer", 2), ("stock", "customer", 3)], "shipped"),
    ([("vendor", "stock", 5), ("stock", "customer", 5), ("customer", "stock", 1)], "returned"),
    # received and delivered in one operation
    ([("vendor", "stock"), ("stock", "customer")], "shipped"),
    # dropship: straight from the vendor to the customer
    ([("vendor", "customer")], "shipped"),
]


def _moves(steps):
    return [move(*step) for step in steps]


@pytest.mark.parametrize(("steps", "expected"), HISTORIES)
def test_status_of_history(steps, expected):
    status, _sources, changes = lot_state(_moves(steps))
    assert status == expected
    # every change is logged, from the previous status
    previous = "planned"
    for _move, old, new in changes:
        assert old == previous and new != old
        previous = new
    assert previous == status


@pytest.mark.parametrize(("steps", "expected"), HISTORIES)
def test_live_fold_equals_full_replay(steps, expected):
    """Folding the history step by step from the stored state and on-hand quantity (the
    live upkeep) gives what replaying it whole gives (installation, repair)."""
    status, sources, on_hand = "planned", {}, 0.0
    for step in _moves(steps):
        status, sources, _changes = replay([step], status, sources, on_hand)
        on_hand += step["quantity"] * (step["dest_on_hand"] - step["src_on_hand"])
    assert status == expected == lot_state(_moves(steps))[0]


def test_sources_per_company():
    history = [
        move("vendor", "stock", purchase_partner_id=7, purchase_order_id=70, partner_id=8),
        move("vendor", "stock", purchase_partner_id=9, purchase_order_id=90),
        move("stock", "customer", partner_id=11, sale_order_id=110),
        move("stock", "customer", company=2, partner_id=21, sale_order_id=210),
        move("customer", "stock", company=2),
        move("stock", "customer", company=2, partner_id=22, sale_order_id=220),
    ]
    _status, sources, _changes = lot_state(history)
    assert sources[1]["supplier_id"] == 7  # the first receipt; the PO's vendor first
    assert sources[1]["purchase_order_id"] == 70
    assert sources[1]["customer_id"] == 11
    assert sources[2]["customer_id"] == 22  # the last delivery of that company
    assert sources[2]["sale_order_id"] == 220
    assert "supplier_id" not in sources[2]


def test_production_source_first_order():
    history = [
        move("production", "stock", production_id=5),
        move("stock", "customer"),
        move("customer", "stock"),
        move("production", "stock", production_id=6),
    ]
    assert lot_state(history)[1][1]["production_id"] == 5


def test_next_status_keeps_status_when_nothing_left_and_no_destination_rule():
    assert next_status("shipped", {**move("stock", "vendor"), "on_hand": 0.0}) == "shipped"
    assert next_status("received", {**move("stock", "shelf"), "on_hand": -1.0}) == "received"
