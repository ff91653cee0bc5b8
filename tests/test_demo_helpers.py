from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestDemoHelpers(ItemTrackingCommon):
    """The demo-only helpers that date the demo's operations back (no demo data loaded)."""

    @freeze_time("2024-03-20 10:00:00")
    def test_demo_done_dates_receipt_and_delivery_back(self):
        self.code_serial.warranty_formula = "1Y"
        lot = self._create_lot(self.product_serial, "SN-DEMO-001")
        receipt = self._create_picking(self.warehouse.in_type_id, self.product_serial, 1)
        receipt.move_ids._item_tracking_demo_done([[lot.id, 1]], 10)
        self.assertEqual(receipt.state, "done")
        received = datetime(2024, 3, 10, 10, 0)
        self.assertEqual(receipt.date_done, received)
        self.assertEqual(receipt.move_line_ids.date, received)
        self.assertEqual(receipt.move_line_ids.lot_id, lot)
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot.receipt_date, received)

        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        delivery.move_ids._item_tracking_demo_done([[lot.id, 1]], 4)
        shipped = datetime(2024, 3, 16, 10, 0)
        self.assertEqual(delivery.date_done, shipped)
        self.assertEqual(lot.tracking_status, "shipped")
        self.assertEqual(lot.delivery_date, shipped)
        self.assertEqual(lot.warranty_date, date(2025, 3, 16))
        logs = self.env["stock.lot.status.log"].search([("lot_id", "=", lot.id)])
        self.assertEqual(
            sorted((log.new_status, log.date) for log in logs),
            [("received", received), ("shipped", shipped)],
        )
