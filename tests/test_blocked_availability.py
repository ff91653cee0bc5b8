from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestBlockedAvailability(ItemTrackingCommon):
    """Issue 16 item 1: blocked and rejected stock is on hand but not free to use."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company._create_item_tracking_reject_location()
        cls.reject_location = cls.env.company.item_tracking_reject_location_id
        cls.sn1 = cls._create_lot(cls.product_serial, "SN-AV-001")
        cls._put_in_stock(cls.product_serial, cls.sn1)
        cls.sn1.write({"blocked": True, "blocked_reason": "Cracked housing"})

    def _line_vals(self, move, **vals):
        return {
            "move_id": move.id,
            "picking_id": move.picking_id.id,
            "product_id": self.product_serial.id,
            "location_id": self.stock_location.id,
            "location_dest_id": move.location_dest_id.id,
            "lot_id": self.sn1.id,
            **vals,
        }

    def _unblock(self):
        self.sn1.write({"blocked": False})

    def _quantities(self, product, **context):
        product = product.with_context(**context)
        product.invalidate_recordset(["qty_available", "free_qty", "virtual_available"])
        return product.qty_available, product.free_qty, product.virtual_available

    def test_delivery_not_available_when_only_blocked_stock(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        move = picking.move_ids
        self.assertEqual(move.state, "confirmed")
        self.assertLess(move.forecast_availability, move.product_qty)
        self.assertEqual(picking.products_availability_state, "late")
        self.assertEqual(picking.products_availability, "Not Available")
        self.assertNotEqual(picking.state, "assigned")
        # Unblocked: available and reserved as before.
        self._unblock()
        picking.invalidate_recordset(["products_availability", "products_availability_state"])
        move.invalidate_recordset(["forecast_availability"])
        self.assertEqual(move.forecast_availability, 1.0)
        self.assertEqual(picking.products_availability_state, "available")
        picking.action_assign()
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(move.move_line_ids.lot_id, self.sn1)

    def test_free_and_forecast_quantities_leave_out_blocked_and_rejected(self):
        sn2 = self._create_lot(self.product_serial, "SN-AV-002")
        self._put_in_stock(self.product_serial, sn2)
        lot = self._create_lot(self.product_lot, "LOT-AV-REJ")
        self._put_in_stock(self.product_lot, lot, 3.0, self.reject_location)
        self._put_in_stock(self.product_lot, lot, 2.0)
        # On Hand keeps the blocked serial; free and forecast leave it out.
        self.assertEqual(self._quantities(self.product_serial), (2.0, 1.0, 1.0))
        # The rejection location is outside the warehouses; asked for explicitly, its
        # stock is on hand there but never free.
        self.assertEqual(self._quantities(self.product_lot), (2.0, 2.0, 2.0))
        self.assertEqual(
            self._quantities(self.product_lot, location=self.reject_location.id), (3.0, 0.0, 0.0)
        )
        self.assertEqual(
            self._quantities(self.product_serial, warehouse_id=self.warehouse.id),
            (2.0, 1.0, 1.0),
        )
        # A product without blocked or rejected stock is untouched.
        plain = self._create_product("Plain lot", tracking="lot")
        self._put_in_stock(plain, self._create_lot(plain, "PL-1"), 4.0)
        self.assertEqual(self._quantities(plain), (4.0, 4.0, 4.0))
        self._unblock()
        self.assertEqual(self._quantities(self.product_serial), (2.0, 2.0, 2.0))

    def test_quantities_are_batched(self):
        """One query for the blocked quantities of a whole recordset, not one per product."""
        products = self.product_serial | self.product_lot
        for index in range(3):
            product = self._create_product(f"Batch {index}", tracking="serial")
            lot = self._create_lot(product, f"BATCH-{index}")
            self._put_in_stock(product, lot)
            lot.write({"blocked": True, "blocked_reason": "Batch hold"})
            products |= product

        def count(records):
            records.invalidate_recordset(["free_qty"])
            before = self.env.cr.sql_log_count
            records.mapped("free_qty")
            return self.env.cr.sql_log_count - before

        count(products)  # warm the caches of the fields the computation reads
        self.assertEqual(count(products[:1]), count(products))
        self.assertEqual(products[2:].mapped("free_qty"), [0.0, 0.0, 0.0])
        self.assertEqual(products[2:].mapped("qty_available"), [1.0, 1.0, 1.0])

    def test_orderpoint_replenishes_when_only_stock_is_blocked(self):
        orderpoint = self.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": self.product_serial.id,
                "warehouse_id": self.warehouse.id,
                "location_id": self.stock_location.id,
                "product_min_qty": 1.0,
                "product_max_qty": 2.0,
            }
        )
        self.assertEqual(orderpoint.qty_on_hand, 1.0)
        self.assertEqual(orderpoint.qty_forecast, 0.0)
        self.assertEqual(orderpoint.qty_to_order, 2.0)
        self._unblock()
        self.env.invalidate_all()
        self.assertEqual(orderpoint.qty_forecast, 1.0)
        self.assertEqual(orderpoint.qty_to_order, 0.0)

    def test_sale_order_line_availability(self):
        self.product_serial.sale_ok = True
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [Command.create({"product_id": self.product_serial.id})],
            }
        )
        line = order.order_line
        self.assertEqual(line.qty_available_today, 1.0)
        self.assertEqual(line.free_qty_today, 0.0)
        self.assertEqual(line.virtual_available_at_date, 0.0)
        order.action_confirm()
        line.invalidate_recordset(["free_qty_today", "qty_available_today"])
        self.assertLessEqual(line.free_qty_today, 0.0)
        self.assertEqual(order.picking_ids.products_availability, "Not Available")
        self._unblock()
        order.picking_ids.move_ids.invalidate_recordset(["forecast_availability"])
        line.invalidate_recordset(["free_qty_today", "qty_available_today"])
        self.assertEqual(line.free_qty_today, 1.0)

    def test_blocked_marked_in_the_pickers(self):
        quant = self.env["stock.quant"]._gather(
            self.product_serial, self.stock_location, lot_id=self.sn1, strict=True
        )
        self.assertTrue(quant.item_tracking_lot_blocked)
        self.assertEqual(quant.item_tracking_lot_blocked_reason, "Cracked housing")
        self.assertIn("SN-AV-001 (Blocked)", quant.display_name)
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        lot = self.sn1.with_context(active_picking_id=picking.id)
        self.assertEqual(lot.display_name, "SN-AV-001 (Blocked)")
        # Elsewhere (reports, documents) the number keeps its name.
        self.assertEqual(self.sn1.display_name, "SN-AV-001")
        self._unblock()
        self.assertEqual(lot.display_name, "SN-AV-001")
        quant.invalidate_recordset(["display_name"])
        self.assertNotIn("Blocked", quant.display_name)

    def test_picking_a_blocked_serial_warns_and_stays_not_ready(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        move = picking.move_ids
        line = self.env["stock.move.line"].new(self._line_vals(move))
        warning = line._onchange_item_tracking_blocked_lot()["warning"]
        self.assertRegex(warning["message"], r"SN-AV-001.*blocked \(Cracked housing\)")
        # In the detailed operations: the warning at once, the line refused on save.
        with self.assertLogs("odoo.tests.form.onchange", "WARNING") as logs:
            form = Form(move, view="stock.view_stock_move_operations")
            with form.move_line_ids.new() as new_line:
                new_line.lot_id = self.sn1
        self.assertIn("SN-AV-001", "\n".join(logs.output))
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*SN-AV-001"):
            with self.env.cr.savepoint():
                form.save()
        self.env.invalidate_all()
        self.assertFalse(move.move_line_ids)
        self.assertEqual(move.state, "confirmed")
        self.assertNotEqual(picking.state, "assigned")
        # Unblocked: no warning, and the line reserves the serial.
        self._unblock()
        line.invalidate_recordset()
        self.assertIsNone(line._onchange_item_tracking_blocked_lot())
        self.env["stock.move.line"].create(self._line_vals(move, quantity=1.0))
        self.assertEqual(picking.state, "assigned")

    def test_blocked_serial_may_still_go_to_rejection(self):
        """No warning on a line that takes a blocked number into the rejection location."""
        line = self.env["stock.move.line"].new(
            {
                "product_id": self.product_serial.id,
                "location_id": self.stock_location.id,
                "location_dest_id": self.reject_location.id,
                "lot_id": self.sn1.id,
            }
        )
        self.assertIsNone(line._onchange_item_tracking_blocked_lot())

    def test_lowest_user_sees_the_block_and_cannot_lift_it_by_context(self):
        """A plain stock user reads the marks and the free quantities; no context key
        a client can send makes blocked stock free, reserved or movable."""
        user = new_test_user(self.env, "blk_av_user", groups="stock.group_stock_user")
        quant = (
            self.env["stock.quant"]
            ._gather(self.product_serial, self.stock_location, lot_id=self.sn1, strict=True)
            .with_user(user)
        )
        self.assertTrue(quant.item_tracking_lot_blocked)
        self.assertEqual(quant.item_tracking_lot_blocked_reason, "Cracked housing")
        product = self.product_serial.with_user(user)
        self.assertEqual(self._quantities(product), (1.0, 0.0, 0.0))
        self.assertEqual(
            self._quantities(product, item_tracking_free_stock_only=False), (1.0, 0.0, 0.0)
        )
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        move = picking.move_ids.with_user(user).with_context(exclude_blocked_lots=False)
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*SN-AV-001"):
            with self.env.cr.savepoint():
                self.env["stock.move.line"].with_user(user).with_context(
                    exclude_blocked_lots=False
                ).create(self._line_vals(move, quantity=1.0))
        self.env.invalidate_all()
        self.assertFalse(picking.move_ids.move_line_ids)
        self.assertEqual(picking.state, "confirmed")
