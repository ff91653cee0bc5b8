from odoo.tests import tagged

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
