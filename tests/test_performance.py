from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.stock_lot import CHECKED_LINES_KEY
from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestBatchedRules(ItemTrackingCommon):
    """The add-on's work on validation costs the same number of queries for 2 or 12 serials."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_serial.write(
            {
                "specific_tracking": True,
                "strict_expiration": True,
                "warranty_formula": "1Y",
                "warranty_date_required": True,
            }
        )
        cls.lots = cls.env["stock.lot"].create(
            [{"name": f"SN-PERF-{i:03}", "product_id": cls.product_serial.id} for i in range(12)]
        )
        for lot in cls.lots:
            cls._put_in_stock(cls.product_serial, lot)

    def _count_queries(self, lots):
        picking = self._delivery(
            self.product_serial, [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in lots]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        # As in production: chatter tracking on (the fixtures disable it).
        lines = (
            self.env["stock.move.line"]
            .with_context(tracking_disable=False)
            .browse(picking.move_line_ids.ids)
        )
        start = self.env.cr.sql_log_count
        lines._check_item_tracking_rules()
        lines._set_lot_warranty_dates()
        self.env.flush_all()
        count = self.env.cr.sql_log_count - start
        self.assertEqual(set(lots.mapped("warranty_date")), {lines[:1].warranty_date})
        return count

    def test_rules_and_warranty_queries_do_not_grow_with_serials(self):
        small = self._count_queries(self.lots[:2])
        large = self._count_queries(self.lots[2:])
        self.assertEqual(small, large)

    def test_picking_validation_checks_the_rules_once(self):
        picking = self._delivery(
            self.product_serial,
            [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in self.lots[:3]],
        )
        Line = type(self.env["stock.move.line"])
        original = Line._get_item_tracking_errors
        calls = []

        def counting(lines):
            calls.append(lines.ids)
            return original(lines)

        with patch.object(Line, "_get_item_tracking_errors", counting):
            picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(calls), 1)  # in the pre-hook; _action_done trusts it
        self.assertEqual(set(self.lots[:3].mapped("tracking_status")), {"shipped"})

    def test_changed_line_is_checked_again(self):
        picking = self._delivery(
            self.product_serial,
            [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in self.lots[3:5]],
        )
        lines = picking.move_line_ids
        status = self.lots[3].tracking_status
        cache = self.env.cr.cache
        cache[CHECKED_LINES_KEY] = set()
        try:
            lines._remember_checked_for_validation()
            self.assertTrue(lines._was_checked_for_validation())
            self.assertTrue(lines[:1]._was_checked_for_validation())  # a subset
            lines[1].warranty_date = "2031-01-01"  # a line written after the check
            self.assertTrue(lines[:1]._was_checked_for_validation())
            self.assertFalse(lines._was_checked_for_validation())
            lines._remember_checked_for_validation()
            self.assertTrue(lines._was_checked_for_validation())
            self.lots[3].sudo().blocked = True  # a lot changed after the check
            self.assertFalse(lines._was_checked_for_validation())
            with self.assertRaisesRegex(UserError, "SN-PERF-003"):
                lines._action_done()
            self.assertEqual(self.lots[3].tracking_status, status)
            self.assertEqual(self._on_hand(self.product_serial, self.lots[3]), 1)
        finally:
            cache.pop(CHECKED_LINES_KEY, None)
        # outside a validation nothing is remembered: every line is checked
        lines._remember_checked_for_validation()
        self.assertFalse(lines._was_checked_for_validation())
