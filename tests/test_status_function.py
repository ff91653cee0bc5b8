"""Hole 11: one status function. The same histories, done by live stock operations and then
recomputed by the install hook on the "existing database" they leave, give exactly the same
status, sources and last history entry."""

from odoo import Command
from odoo.tests import tagged

from ..hooks import post_init_hook
from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestLiveEqualsInstall(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shelf = cls.env["stock.location"].create(
            {"name": "Shelf 9", "location_id": cls.stock_location.id}
        )
        cls.reject = cls.env.company.item_tracking_reject_location_id

    def _move(self, lot, source, destination, quantity=1.0, partner=None):
        move = self.env["stock.move"].create(
            {
                "name": "history",
                "product_id": lot.product_id.id,
                "product_uom": lot.product_id.uom_id.id,
                "product_uom_qty": quantity,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "partner_id": (partner or self.partner).id,
                "picked": True,
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": lot.product_id.id,
                            "lot_id": lot.id,
                            "quantity": quantity,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        }
                    )
                ],
            }
        )
        move._action_confirm(merge=False)
        move._action_done()
        self.assertEqual(move.state, "done")

    def test_histories_live_and_installed_agree(self):
        vendor, customer, stock = (
            self.supplier_location,
            self.customer_location,
            self.stock_location,
        )
        histories = {
            # returned, then moved inside the warehouse: returned
            "SN-T-RET-MOVE": [
                (vendor, stock),
                (stock, customer),
                (customer, stock),
                (stock, self.shelf),
            ],
            # returned, then sent back to the vendor: the status it had
            "SN-T-RET-VENDOR": [
                (vendor, stock),
                (stock, customer),
                (customer, stock),
                (stock, vendor),
            ],
            # a negative quant left behind (moved from where it isn't): unchanged
            "SN-T-NEGATIVE": [(vendor, stock), (stock, customer), (stock, self.shelf)],
            "SN-T-REJECT": [(vendor, stock), (stock, self.reject)],
            "SN-T-SHIPPED": [(vendor, stock), (stock, customer)],
        }
        expected = {
            "SN-T-RET-MOVE": "returned",
            "SN-T-RET-VENDOR": "returned",
            "SN-T-NEGATIVE": "shipped",
            "SN-T-REJECT": "rejected",
            "SN-T-SHIPPED": "shipped",
        }
        lots = self.env["stock.lot"]
        # With an item tracking code a serial can't leave where it isn't (one place per
        # serial): the negative history is one of a product without a code.
        plain = self._create_product("Drill without code", tracking="serial")
        for name, steps in histories.items():
            lot = self._create_lot(plain if name == "SN-T-NEGATIVE" else self.product_serial, name)
            for source, destination in steps:
                partner = self.vendor if source == vendor else self.partner
                self._move(lot, source, destination, partner=partner)
            lots |= lot
        fields = ["tracking_status", "supplier_id", "receipt_date", "customer_id", "delivery_date"]
        live = lots.read(fields)
        live_logs = {lot.id: lot.status_log_ids[:1].new_status for lot in lots}
        self.assertEqual({lot.name: lot.tracking_status for lot in lots}, expected)

        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_lot SET tracking_status = 'planned', supplier_id = NULL, "
            "receipt_date = NULL, customer_id = NULL, delivery_date = NULL WHERE id IN %s",
            [tuple(lots.ids)],
        )
        self.env.cr.execute(
            "DELETE FROM stock_lot_status_log WHERE lot_id IN %s", [tuple(lots.ids)]
        )
        self.env.invalidate_all()
        post_init_hook(self.env)
        self.assertEqual(lots.read(fields), live)
        self.assertEqual({lot.id: lot.status_log_ids.new_status for lot in lots}, live_logs)
        self.assertEqual(set(lots.status_log_ids.mapped("note")), {"Computed on installation"})
