from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestBlocked(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sn1 = cls._create_lot(cls.product_serial, "SN-B-001")
        cls.sn2 = cls._create_lot(cls.product_serial, "SN-B-002")
        cls._put_in_stock(cls.product_serial, cls.sn1)
        cls._put_in_stock(cls.product_serial, cls.sn2)
        cls.stock_user = new_test_user(cls.env, "blk_user", groups="stock.group_stock_user")
        cls.manager = new_test_user(
            cls.env,
            "blk_manager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )

    def _block(self, lot, reason="Quality hold"):
        lot.with_user(self.manager).write({"blocked": True, "blocked_reason": reason})

    def test_only_managers_block_and_unblock(self):
        with self.assertRaisesRegex(AccessError, "Only Item Tracking Managers"):
            self.sn1.with_user(self.stock_user).blocked = True
        self.assertFalse(self.sn1.blocked)
        self._block(self.sn1)
        self.assertTrue(self.sn1.blocked)
        with self.assertRaisesRegex(AccessError, "Only Item Tracking Managers"):
            self.sn1.with_user(self.stock_user).blocked = False
        with self.assertRaisesRegex(AccessError, "Only Item Tracking Managers"):
            self.sn1.with_user(self.stock_user).blocked_reason = "Cleared by QC"
        self.assertEqual(self.sn1.blocked_reason, "Quality hold")
        # Other fields stay editable by stock users.
        self.sn1.with_user(self.stock_user).ref = "internal ref"
        self.sn1.with_user(self.manager).blocked = False
        self.assertFalse(self.sn1.blocked)

    def test_block_from_lot_form_is_tracked(self):
        lot = self.sn1.with_user(self.manager).with_context(tracking_disable=False)
        with Form(lot) as form:
            form.blocked = True
            form.blocked_reason = "Damaged casing"
        self.env.cr.precommit.run()
        self.assertTrue(self.sn1.blocked)
        tracked = self.sn1.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("blocked", tracked)
        self.assertIn("blocked_reason", tracked)

    def test_blocked_lot_not_reserved(self):
        self._block(self.sn1)
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 2)
        picking.action_assign()
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, self.sn2)
        self.assertEqual(picking.move_ids.quantity, 1.0)
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.move_ids.state, "partially_available")

    def test_blocked_lot_not_reserved_from_previous_step(self):
        """A chained move reserves the numbers its origin moved, unless blocked since."""
        output = self.warehouse.wh_output_stock_loc_id
        pick = self._create_picking(
            self.warehouse.int_type_id, self.product_serial, 2, location_dest=output
        )
        pick.action_assign()
        pick.move_ids.picked = True
        pick.button_validate()
        self.assertEqual(pick.state, "done")
        ship = self._create_picking(
            self.warehouse.out_type_id, self.product_serial, 2, location=output
        )
        ship.move_ids.move_orig_ids = pick.move_ids
        ship.do_unreserve()
        self._block(self.sn1)
        ship.action_assign()
        self.assertEqual(ship.move_ids.move_line_ids.lot_id, self.sn2)
        self.assertEqual(ship.move_ids.quantity, 1.0)

    def test_blocking_frees_reservation(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 2)
        picking.action_assign()
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, self.sn1 | self.sn2)
        self._block(self.sn1)
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, self.sn2)
        quant = self.env["stock.quant"]._gather(
            self.product_serial, self.stock_location, lot_id=self.sn1, strict=True
        )
        self.assertEqual(quant.reserved_quantity, 0.0)

    def test_delivery_of_blocked_lot_refused(self):
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn1}, {"lot_id": self.sn2}])
        self._block(self.sn1)  # picked lines stay, and the validation refuses them
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*Drill \(SN\): SN-B-001"):
            self._delivery(self.product_serial, [{"lot_id": self.sn1}])  # not reserved again
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*Drill \(SN\): SN-B-001"):
            picking.button_validate()
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 1.0)
        self.assertEqual(self._on_hand(self.product_serial, self.sn2), 1.0)
        # Unblocked, the same delivery goes through.
        self.sn1.with_user(self.manager).blocked = False
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 0.0)

    def test_blocked_applies_to_products_without_code(self):
        product = self._create_product("Uncoded SN", tracking="serial")
        lot = self._create_lot(product, "U-1")
        self._put_in_stock(product, lot)
        picking = self._delivery(product, [{"lot_id": lot}])
        self._block(lot)
        with self.assertRaisesRegex(UserError, "Uncoded SN: U-1"):
            picking.button_validate()

    def test_scrap_of_blocked_lot_refused(self):
        self._block(self.sn1)
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.product_serial.id,
                "lot_id": self.sn1.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        with self.assertRaisesRegex(UserError, "SN-B-001"):
            scrap.action_validate()
        self.assertEqual(scrap.state, "draft")
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 1.0)

    def test_internal_transfer_and_receipt_of_blocked_lot_refused(self):
        internal = self._create_picking(
            self.warehouse.int_type_id,
            self.product_serial,
            1,
            location=self.stock_location,
            location_dest=self.stock_location,
        )
        self._set_lines(internal, [{"lot_id": self.sn1}])
        self._block(self.sn1)
        with self.assertRaisesRegex(UserError, "SN-B-001"):
            internal.button_validate()
        lot = self._create_lot(self.product_lot, "L-BLOCKED")
        self._block(lot)
        receipt = self._receipt(self.product_lot, [{"lot_name": "L-BLOCKED", "quantity": 5}])
        with self.assertRaisesRegex(UserError, "Paint \\(LOT\\): L-BLOCKED"):
            receipt.button_validate()
        self.assertEqual(self._on_hand(self.product_lot, lot), 0.0)

    def test_inventory_count_of_blocked_lot_refused(self):
        """An inventory adjustment is a stock operation too ("any transaction", as in BC)."""
        self._block(self.sn1)
        quant = self.env["stock.quant"]._gather(
            self.product_serial, self.stock_location, lot_id=self.sn1, strict=True
        )
        quant.inventory_quantity = 0
        with self.assertRaisesRegex(UserError, "SN-B-001"):
            quant.action_apply_inventory()
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 1.0)
        self.assertEqual(self.sn1.tracking_status, "planned")
        # The other number is counted as usual.
        quant2 = self.env["stock.quant"]._gather(
            self.product_serial, self.stock_location, lot_id=self.sn2, strict=True
        )
        quant2.inventory_quantity = 0
        quant2.action_apply_inventory()
        self.assertEqual(self._on_hand(self.product_serial, self.sn2), 0.0)
        self.assertEqual(self.sn2.tracking_status, "written_off")
