from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..hooks import post_init_hook
from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestLotStatus(ItemTrackingCommon):
    """Every status transition through real stock operations, with its log and sources."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company._create_item_tracking_reject_location()
        cls.reject_location = cls.env.company.item_tracking_reject_location_id

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _lot(self, name, product=None):
        return self.env["stock.lot"].search(
            [("name", "=", name), ("product_id", "=", (product or self.product_serial).id)]
        )

    def _last_log(self, lot):
        return lot.status_log_ids.sorted(lambda log: (log.date, log.id))[-1:]

    def _assert_log(self, lot, old, new, reference):
        log = self._last_log(lot)
        self.assertRecordValues(
            log,
            [
                {
                    "old_status": old,
                    "new_status": new,
                    "reference": reference,
                    "user_id": self.env.user.id,
                }
            ],
        )
        self.assertEqual(log.move_line_id.lot_id, lot)

    def _purchase_receipt(self, names):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product_serial.id, "product_qty": len(names)}
                    )
                ],
            }
        )
        order.button_confirm()
        picking = order.picking_ids
        self._set_lines(picking, [{"lot_name": name} for name in names])
        self._validate(picking)
        return order, picking

    def _sale_delivery(self, lots):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product_serial.id, "product_uom_qty": len(lots)}
                    )
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        self._set_lines(picking, [{"lot_id": lot} for lot in lots])
        self._validate(picking)
        return order, picking

    def _return(self, picking, lot):
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        action = wizard.action_create_returns()
        return_picking = self.env["stock.picking"].browse(action["res_id"])
        self._set_lines(return_picking, [{"lot_id": lot}])
        self._validate(return_picking)
        return return_picking

    # ------------------------------------------------------------------
    # receipt, delivery, return
    # ------------------------------------------------------------------
    def test_new_lot_is_planned(self):
        lot = self._create_lot(self.product_serial, "SN-NEW")
        self.assertEqual(lot.tracking_status, "planned")
        self.assertFalse(lot.status_log_ids)

    def test_purchase_receipt_received(self):
        order, picking = self._purchase_receipt(["SN-R1", "SN-R2"])
        lot = self._lot("SN-R1")
        self.assertEqual(lot.tracking_status, "received")
        self._assert_log(lot, "planned", "received", picking.name)
        self.assertEqual(lot.supplier_id, self.vendor)
        self.assertEqual(lot.purchase_order_id, order)
        self.assertEqual(lot.receipt_date, picking.move_line_ids[0].date)
        self.assertFalse(lot.customer_id)

    def test_delivery_shipped_then_return_then_shipped_again(self):
        _order, receipt = self._purchase_receipt(["SN-D1"])
        lot = self._lot("SN-D1")
        order, delivery = self._sale_delivery(lot)
        self.assertEqual(lot.tracking_status, "shipped")
        self._assert_log(lot, "received", "shipped", delivery.name)
        self.assertEqual(lot.customer_id, self.partner)
        self.assertEqual(lot.sale_order_id, order)
        self.assertEqual(lot.delivery_date, delivery.move_line_ids.date)
        # sources of the receipt stay
        self.assertEqual(lot.supplier_id, self.vendor)
        self.assertEqual(lot.receipt_date, receipt.move_line_ids.date)

        return_picking = self._return(delivery, lot)
        self.assertEqual(lot.tracking_status, "returned")
        self._assert_log(lot, "shipped", "returned", return_picking.name)
        # the first receipt from the vendor stays the source
        self.assertEqual(lot.supplier_id, self.vendor)

        order2, delivery2 = self._sale_delivery(lot)
        self.assertEqual(lot.tracking_status, "shipped")
        self._assert_log(lot, "returned", "shipped", delivery2.name)
        self.assertEqual(lot.sale_order_id, order2)
        self.assertEqual(len(lot.status_log_ids), 4)

    def test_return_to_vendor_keeps_status(self):
        """Documented choice: a unit sent back to its vendor keeps its status (no key fits)."""
        order, receipt = self._purchase_receipt(["SN-V1", "SN-V2"])
        lot = self._lot("SN-V1")
        self._return(receipt, lot)
        self.assertEqual(self._on_hand(self.product_serial, lot), 0.0)
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot.status_log_ids.mapped("new_status"), ["received"])
        self.assertEqual(lot.supplier_id, self.vendor)

    def test_internal_and_inter_warehouse_transfer_keep_received(self):
        self._purchase_receipt(["SN-I1"])
        lot = self._lot("SN-I1")
        shelf = self.env["stock.location"].create(
            {"name": "Shelf 9", "location_id": self.stock_location.id}
        )
        internal = self._create_picking(
            self.warehouse.int_type_id, self.product_serial, 1, self.stock_location, shelf
        )
        self._set_lines(internal, [{"lot_id": lot}])
        self._validate(internal)
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(len(lot.status_log_ids), 1)

        warehouse2 = self.env["stock.warehouse"].create({"name": "Second WH", "code": "WH2"})
        transfer = self._create_picking(
            self.warehouse.int_type_id, self.product_serial, 1, shelf, warehouse2.lot_stock_id
        )
        self._set_lines(transfer, [{"lot_id": lot}])
        self._validate(transfer)
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot.location_id, warehouse2.lot_stock_id)
        self.assertEqual(len(lot.status_log_ids), 1)

    def test_lot_with_quantity_left_stays_received(self):
        receipt = self._receipt(self.product_lot, [{"lot_name": "L-PART", "quantity": 10}])
        self._validate(receipt)
        lot = self._lot("L-PART", self.product_lot)
        delivery = self._delivery(self.product_lot, [{"lot_id": lot, "quantity": 4}])
        self._validate(delivery)
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot.customer_id, self.partner)
        delivery = self._delivery(self.product_lot, [{"lot_id": lot, "quantity": 6}])
        self._validate(delivery)
        self.assertEqual(lot.tracking_status, "shipped")

    # ------------------------------------------------------------------
    # scrap and reject
    # ------------------------------------------------------------------
    def _scrap(self, lot, location=None):
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.product_serial.id,
                "lot_id": lot.id,
                "scrap_qty": 1,
                "location_id": (location or self.stock_location).id,
            }
        )
        scrap.action_validate()
        self.assertEqual(scrap.state, "done")
        return scrap

    def test_scrap_written_off(self):
        self._purchase_receipt(["SN-S1"])
        lot = self._lot("SN-S1")
        scrap = self._scrap(lot)
        self.assertEqual(lot.tracking_status, "written_off")
        self._assert_log(lot, "received", "written_off", scrap.name)

    def test_reject_then_scrap(self):
        self._purchase_receipt(["SN-J1", "SN-J2"])
        lot = self._lot("SN-J1")
        action = lot.action_reject()
        self.assertEqual(action["res_model"], "stock.lot.reject")
        wizard_form = Form(self.env["stock.lot.reject"].with_context(**action["context"]))
        wizard_form.reason = "Failed QC: cracked casing"
        wizard_form.save().action_confirm()
        self.assertEqual(lot.tracking_status, "rejected")
        log = self._last_log(lot)
        self.assertEqual((log.old_status, log.new_status), ("received", "rejected"))
        self.assertEqual(log.note, "Failed QC: cracked casing")
        self.assertEqual(lot.location_id, self.reject_location)
        # neither counted on hand nor reservable
        self.assertEqual(self.product_serial.qty_available, 1)
        self.assertEqual(lot.product_qty, 0)
        Lot = self.env["stock.lot"]
        self.assertNotIn(lot, Lot.search([("product_qty", ">", 0)]))
        self.assertIn(lot, Lot.search([("product_qty", "=", 0)]))
        self.assertIn(self._lot("SN-J2"), Lot.search([("product_qty", ">", 0)]))
        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 2)
        delivery.action_assign()
        self.assertEqual(delivery.move_ids.move_line_ids.lot_id, self._lot("SN-J2"))
        # scrapped from the rejection location
        scrap = self._scrap(lot, self.reject_location)
        self.assertEqual(lot.tracking_status, "written_off")
        self._assert_log(lot, "rejected", "written_off", scrap.name)

    def test_reject_refuses_picked_lot(self):
        self._purchase_receipt(["SN-J4", "SN-J5"])
        lot, other = self._lot("SN-J4"), self._lot("SN-J5")
        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 2)
        delivery.action_assign()
        line = delivery.move_line_ids.filtered(lambda ml: ml.lot_id == lot)
        line.picked = True
        wizard = self.env["stock.lot.reject"].with_context(active_ids=lot.ids)
        with self.assertRaisesRegex(UserError, f"SN-J4: {delivery.name}"):
            wizard.create({"reason": "dented"}).action_confirm()
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot.location_id, self.stock_location)
        self.assertEqual(delivery.move_line_ids.lot_id, lot | other)
        # once unpicked, its reservation is dropped and the number rejected
        line.picked = False
        wizard.create({"reason": "dented"}).action_confirm()
        self.assertEqual(lot.tracking_status, "rejected")
        self.assertEqual(delivery.move_line_ids.lot_id, other)

    def test_reject_refuses_lot_not_on_hand(self):
        lot = self._create_lot(self.product_serial, "SN-J3")
        wizard = (
            self.env["stock.lot.reject"].with_context(active_ids=lot.ids).create({"reason": "x"})
        )
        with self.assertRaisesRegex(Exception, "SN-J3"):
            wizard.action_confirm()

    def test_new_company_gets_rejection_location(self):
        company = self.env["res.company"].create({"name": "New Co"})
        location = company.item_tracking_reject_location_id
        self.assertTrue(location)
        self.assertEqual(location.usage, "internal")
        self.assertEqual(location.company_id, company)
        self.assertFalse(location.warehouse_id)

    # ------------------------------------------------------------------
    # manufacturing
    # ------------------------------------------------------------------
    def test_manufacturing_consumed_and_produced(self):
        self._purchase_receipt(["SN-C1"])
        component = self._lot("SN-C1")
        finished = self._create_product("Assembly (SN)", self.code_serial)
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": finished.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [
                    Command.create({"product_id": self.product_serial.id, "product_qty": 1})
                ],
            }
        )
        form = Form(self.env["mrp.production"])
        form.product_id = finished
        form.bom_id = bom
        form.product_qty = 1
        production = form.save()
        production.action_confirm()
        production.action_assign()
        self.assertEqual(production.move_raw_ids.move_line_ids.lot_id, component)
        production.action_generate_serial()
        produced = production.lot_producing_id
        self.assertEqual(produced.tracking_status, "planned")
        production.qty_producing = 1
        production.move_raw_ids.picked = True
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(component.tracking_status, "consumed")
        self._assert_log(component, "received", "consumed", production.name)
        self.assertEqual(produced.tracking_status, "received")
        self._assert_log(produced, "planned", "received", production.name)
        self.assertEqual(produced.production_id, production)
        self.assertFalse(produced.supplier_id)

    # ------------------------------------------------------------------
    # batching
    # ------------------------------------------------------------------
    def _lines_to_upkeep(self, count):
        """Done receipt lines of `count` new serials, their lots reset as before the hook."""
        names = [f"SN-Q{count}-{i}" for i in range(count)]
        _order, picking = self._purchase_receipt(names)
        lines = picking.move_line_ids
        self.assertEqual(len(lines.lot_id), count)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_lot SET tracking_status = 'planned', supplier_id = NULL, "
            "receipt_date = NULL, purchase_order_id = NULL WHERE id IN %s",
            [tuple(lines.lot_id.ids)],
        )
        self.env.cr.execute(
            "DELETE FROM stock_lot_status_log WHERE lot_id IN %s", [tuple(lines.lot_id.ids)]
        )
        self.env.invalidate_all()
        return self.env["stock.move.line"].browse(lines.ids)

    def _check_upkept(self, lines, count):
        self.assertEqual(set(lines.lot_id.mapped("tracking_status")), {"received"})
        self.assertEqual(len(lines.lot_id.status_log_ids), count)
        self.assertEqual(lines.lot_id.supplier_id, self.vendor)

    def test_status_upkeep_constant_queries(self):
        """The status upkeep of a receipt of 250 serials costs the queries of 2 serials.

        Logs are inserted in one statement whatever their number; the lots' new values are
        one write per distinct set of values, which the ORM flushes 100 rows per UPDATE
        (merged with Odoo's own updates of the same lots in a real validation).
        """
        lines = self._lines_to_upkeep(2)
        self.env.flush_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        self.env["stock.lot"]._item_tracking_update_from_lines(lines)
        self.env.flush_all()
        self.env.cr.flush()
        two = self.env.cr.sql_log_count - before
        self._check_upkept(lines, 2)
        self.assertLess(two, 20)

        lines = self._lines_to_upkeep(250)
        update_batches = 2  # 250 lots: 3 UPDATE statements of at most 100 rows instead of 1
        with self.assertQueryCount(two + update_batches):
            self.env["stock.lot"]._item_tracking_update_from_lines(lines)
        self._check_upkept(lines, 250)

    # ------------------------------------------------------------------
    # installation on an existing database
    # ------------------------------------------------------------------
    def test_install_hook_computes_existing_lots(self):
        order, receipt = self._purchase_receipt(["SN-H1", "SN-H2", "SN-H3", "SN-H5"])
        shipped, on_hand, scrapped, sent_back = (
            self._lot(name) for name in ("SN-H1", "SN-H2", "SN-H3", "SN-H5")
        )
        sale, delivery = self._sale_delivery(shipped)
        self._scrap(scrapped)
        self._return(receipt, sent_back)
        untouched = self._create_lot(self.product_serial, "SN-H4")
        lots = shipped | on_hand | scrapped | untouched | sent_back
        self.env.flush_all()
        # as before the installation of the add-on
        self.env.cr.execute(
            "UPDATE stock_lot SET tracking_status = 'planned', supplier_id = NULL, "
            "receipt_date = NULL, purchase_order_id = NULL, customer_id = NULL, "
            "delivery_date = NULL, sale_order_id = NULL WHERE id IN %s",
            [tuple(lots.ids)],
        )
        self.env.cr.execute(
            "DELETE FROM stock_lot_status_log WHERE lot_id IN %s", [tuple(lots.ids)]
        )
        self.env.invalidate_all()
        post_init_hook(self.env)
        self.assertRecordValues(
            lots,
            [
                {
                    "tracking_status": "shipped",
                    "supplier_id": self.vendor.id,
                    "purchase_order_id": order.id,
                    "customer_id": self.partner.id,
                    "sale_order_id": sale.id,
                },
                {
                    "tracking_status": "received",
                    "supplier_id": self.vendor.id,
                    "purchase_order_id": order.id,
                    "customer_id": False,
                    "sale_order_id": False,
                },
                {
                    "tracking_status": "written_off",
                    "supplier_id": self.vendor.id,
                    "purchase_order_id": order.id,
                    "customer_id": False,
                    "sale_order_id": False,
                },
                {
                    "tracking_status": "planned",
                    "supplier_id": False,
                    "purchase_order_id": False,
                    "customer_id": False,
                    "sale_order_id": False,
                },
                {
                    # back to the vendor: received, as the stock operations leave it
                    "tracking_status": "received",
                    "supplier_id": self.vendor.id,
                    "purchase_order_id": order.id,
                    "customer_id": False,
                    "sale_order_id": False,
                },
            ],
        )
        self.assertEqual(shipped.delivery_date, delivery.move_line_ids.date)
        self.assertEqual(on_hand.receipt_date, receipt.move_line_ids[1].date)
        log = shipped.status_log_ids
        self.assertEqual(len(log), 1)
        self.assertEqual((log.old_status, log.new_status), (False, "shipped"))
        self.assertEqual(log.reference, delivery.name)
        self.assertEqual(log.company_id, delivery.company_id)  # the operation's company
        self.assertFalse(untouched.status_log_ids)
