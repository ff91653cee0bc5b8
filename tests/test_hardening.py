"""Issue 12: the holes a hostile or careless user found, each through the path that found it
(RPC-style calls as the lowest user, with and without the old context key; done-line edits)."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ItemTrackingCommon

OLD_KEY = {"item_tracking_status_update": True}


@tagged("post_install", "-at_install")
class TestRecordedFields(ItemTrackingCommon):
    """Holes 1 and 2: what stock operations record can't be typed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.lowest_user
        cls.manager = cls.tracking_manager
        cls.lot = cls._create_lot(cls.product_serial, "SN-H-001")
        cls._put_in_stock(cls.product_serial, cls.lot)

    def _as(self, user, context=None):
        return self.lot.with_user(user).with_context(**(context or {}))

    def test_status_and_sources_refused_with_or_without_the_context_key(self):
        order = self.env["sale.order"].create({"partner_id": self.partner.id})
        recorded = {
            "tracking_status": "shipped",
            "customer_id": self.partner.id,
            "supplier_id": self.vendor.id,
            "receipt_date": "2024-01-01 00:00:00",
            "delivery_date": "2024-01-02 00:00:00",
            "sale_order_id": order.id,
            "maintenance_status": "under_amc",
        }
        for user in (self.user, self.manager):
            for context in (None, OLD_KEY):
                for fname, value in recorded.items():
                    with self.assertRaisesRegex(
                        UserError, "recorded by stock operations.*SN-H-001"
                    ):
                        self._as(user, context).write({fname: value})
        self.assertRecordValues(
            self.lot,
            [{"tracking_status": "planned", "customer_id": False, "maintenance_status": False}],
        )

    def test_create_and_load_refused(self):
        Lot = self.env["stock.lot"].with_user(self.user).with_context(**OLD_KEY)
        for fname, value in (
            ("tracking_status", "received"),
            ("customer_id", self.partner.id),
            ("supplier_id", self.vendor.id),
        ):
            with self.assertRefused(
                exception=UserError, regex="recorded by stock operations.*SN-H-NEW"
            ):
                Lot.create({"name": "SN-H-NEW", "product_id": self.product_serial.id, fname: value})
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "SN-H-NEW")]))
        result = Lot.load(
            ["name", "product_id/.id", "tracking_status"],
            [["SN-H-LOAD", str(self.product_serial.id), "shipped"]],
        )
        self.assertFalse(result["ids"])
        self.assertIn("recorded by stock operations", result["messages"][0]["message"])
        # A plain user still creates planned numbers.
        lot = Lot.create({"name": "SN-H-OK", "product_id": self.product_serial.id})
        self.assertEqual(lot.tracking_status, "planned")

    def test_service_and_block_data_need_the_manager(self):
        for context in (None, OLD_KEY):
            for vals in (
                {"warranty_date": date(2040, 1, 1)},
                {"amc_expiry_date": date(2040, 1, 1)},
            ):
                with self.assertRefused(exception=AccessError, regex="Only Item Tracking Managers"):
                    self._as(self.user, context).write(vals)
        with self.assertRefused(exception=AccessError, regex="Only Item Tracking Managers"):
            self.env["stock.lot"].with_user(self.user).create(
                {
                    "name": "SN-H-REASON",
                    "product_id": self.product_serial.id,
                    "blocked_reason": "typed by a plain user",
                }
            )
        self.assertFalse(self.lot.warranty_date)
        self._as(self.manager).write(
            {"warranty_date": date(2030, 1, 1), "amc_expiry_date": date(2031, 1, 1)}
        )
        self.assertEqual(self.lot.warranty_date, date(2030, 1, 1))
        # writing back the value a lot has is no change (an import of an export)
        self._as(self.user).write({"warranty_date": date(2030, 1, 1), "tracking_status": "planned"})

    def test_done_line_warranty_date_is_no_side_door(self):
        self.code_serial.warranty_formula = "1Y"
        picking = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(picking)
        formula_date = self.lot.warranty_date
        line = picking.move_line_ids.with_user(self.user)
        with self.assertRefused(
            exception=AccessError, regex="Only Item Tracking Managers.*SN-H-001"
        ):
            line.write({"warranty_date": "2099-12-31"})
        self.assertEqual(self.lot.warranty_date, formula_date)
        self.assertEqual(self.lot.tracking_status, "shipped")


@tagged("post_install", "-at_install")
class TestSpecificTrackingLocation(ItemTrackingCommon):
    """Hole 3: Odoo takes stock from exactly the line's source location."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_serial.specific_tracking = True
        cls.code_lot.specific_tracking = True
        cls.shelf = cls.env["stock.location"].create(
            {"name": "Shelf 1", "location_id": cls.stock_location.id}
        )
        cls.sn = cls._create_lot(cls.product_serial, "SN-SHELF")
        cls._put_in_stock(cls.product_serial, cls.sn, location=cls.shelf)
        cls.lot = cls._create_lot(cls.product_lot, "LOT-SHELF")
        cls._put_in_stock(cls.product_lot, cls.lot, 5, location=cls.shelf)

    def test_serial_on_a_shelf_refused_from_the_parent(self):
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn}])
        self.assertEqual(picking.move_line_ids.location_id, self.stock_location)
        with self.assertRefused(exception=UserError, regex="not on hand.*\n.*SN-SHELF"):
            picking.button_validate()
        Quant = self.env["stock.quant"]
        self.assertFalse(Quant.search([("lot_id", "=", self.sn.id), ("quantity", "<", 0)]))
        # taken from the shelf it is on, it goes
        picking.move_line_ids.location_id = self.shelf
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_serial, self.sn), 0)
        self.assertEqual(self.sn.tracking_status, "shipped")

    def test_lot_cannot_be_shipped_twice(self):
        picking = self._delivery(self.product_lot, [{"lot_id": self.lot, "quantity": 5}])
        with self.assertRefused(exception=UserError, regex="LOT-SHELF"):
            picking.button_validate()
        picking.move_line_ids.location_id = self.shelf
        self._validate(picking)
        again = self._delivery(self.product_lot, [{"lot_id": self.lot, "quantity": 5}])
        again.move_line_ids.location_id = self.shelf
        with self.assertRefused(exception=UserError, regex="LOT-SHELF"):
            again.button_validate()
        self.assertEqual(self._on_hand(self.product_lot, self.lot), 0)


@tagged("post_install", "-at_install")
class TestDoneLineEdits(ItemTrackingCommon):
    """Hole 4: editing a done operation is a stock operation too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.tracking_manager
        cls.code_lot.specific_tracking = True
        cls.sn1, cls.sn2, cls.sn3 = (
            cls._create_lot(cls.product_serial, name) for name in ("SN-E-1", "SN-E-2", "SN-E-3")
        )
        receipt = ItemTrackingCommon._create_picking(
            cls, cls.warehouse.in_type_id, cls.product_serial, 3
        )
        cls._set_lines_cls(receipt, [cls.sn1, cls.sn2, cls.sn3])
        receipt.button_validate()
        cls.delivery = ItemTrackingCommon._create_picking(
            cls, cls.warehouse.out_type_id, cls.product_serial, 1
        )
        cls._set_lines_cls(cls.delivery, [cls.sn1])
        cls.delivery.button_validate()

    @classmethod
    def _set_lines_cls(cls, picking, lots):
        move = picking.move_ids
        move.move_line_ids.unlink()
        cls.env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": move.product_id.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "lot_id": lot.id,
                    "quantity": 1,
                }
                for lot in lots
            ]
        )
        move.picked = True

    def test_blocked_number_not_moved_by_a_done_line_edit(self):
        self.sn2.with_user(self.manager).write({"blocked": True, "blocked_reason": "QC"})
        line = self.delivery.move_line_ids
        with self.assertRefused(exception=UserError, regex="blocked.*\n.*SN-E-2"):
            line.write({"lot_id": self.sn2.id})
        self.assertEqual(line.lot_id, self.sn1)
        self.assertEqual(self._on_hand(self.product_serial, self.sn2), 1)
        self.assertEqual(self.sn2.tracking_status, "received")
        # nor by a line added to the done delivery (as `load` or `create` over RPC do)
        with self.assertRefused(exception=UserError, regex="blocked.*\n.*SN-E-2"):
            self.env["stock.move.line"].create(
                {
                    "move_id": self.delivery.move_ids.id,
                    "product_id": self.product_serial.id,
                    "location_id": self.stock_location.id,
                    "location_dest_id": self.customer_location.id,
                    "lot_id": self.sn2.id,
                    "quantity": 1,
                }
            )
        self.assertEqual(self._on_hand(self.product_serial, self.sn2), 1)

    def test_allowed_edit_keeps_status_sources_and_history_right(self):
        line = self.delivery.move_line_ids
        line.write({"lot_id": self.sn3.id})
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 1)
        self.assertEqual(self._on_hand(self.product_serial, self.sn3), 0)
        self.assertRecordValues(
            self.sn1 | self.sn3,
            [
                {"tracking_status": "received", "customer_id": False},
                {"tracking_status": "shipped", "customer_id": self.partner.id},
            ],
        )
        self.assertEqual(self.sn1.status_log_ids[:1].new_status, "received")
        self.assertEqual(self.sn3.status_log_ids[:1].new_status, "shipped")
        # a quantity edit that brings the serial back
        line.write({"quantity": 0})
        self.assertEqual(self.sn3.tracking_status, "received")
        self.assertEqual(self._on_hand(self.product_serial, self.sn3), 1)

    def test_strict_expiration_holds_for_a_done_line_edit(self):
        """Swapping the number of a done delivery for an expired one is refused (R001-15)."""
        self.code_serial.strict_expiration = True
        self.product_serial.write({"use_expiration_date": True})
        self.sn2.with_user(self.tracking_manager).expiration_date = "2020-01-01 00:00:00"
        line = self.delivery.move_line_ids
        with self.assertRefused("expired.*\n.*SN-E-2"):
            line.write({"lot_id": self.sn2.id})
        self.assertEqual(self._on_hand(self.product_serial, self.sn2), 1)
        self.assertEqual(self.sn2.tracking_status, "received")

    def test_specific_tracking_not_exceeded_by_a_done_line_edit(self):
        lot = self._create_lot(self.product_lot, "LOT-E")
        self._put_in_stock(self.product_lot, lot, 5)
        delivery = self._delivery(self.product_lot, [{"lot_id": lot, "quantity": 5}])
        self._validate(delivery)
        with self.assertRefused(exception=UserError, regex="not on hand.*\n.*LOT-E"):
            delivery.move_line_ids.write({"quantity": 10})
        self.assertEqual(delivery.move_line_ids.quantity, 5)
        self.assertEqual(self._on_hand(self.product_lot, lot), 0)
        Quant = self.env["stock.quant"]
        self.assertFalse(Quant.search([("lot_id", "=", lot.id), ("quantity", "<", 0)]))


@tagged("post_install", "-at_install")
class TestBlockedNeverReserved(ItemTrackingCommon):
    """Hole 5: blocked means never reserved by any path; blocking releases outgoing
    reservations only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.tracking_manager
        cls.user = cls.lowest_user
        cls.sn = cls._create_lot(cls.product_serial, "SN-R-1")
        cls._put_in_stock(cls.product_serial, cls.sn)

    def _block(self, lot):
        lot.with_user(self.manager).write({"blocked": True, "blocked_reason": "QC"})

    def test_open_line_with_a_blocked_lot_or_its_quant_refused(self):
        self._block(self.sn)
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        self.assertFalse(picking.move_line_ids)
        move = picking.move_ids
        vals = {
            "move_id": move.id,
            "product_id": self.product_serial.id,
            "location_id": self.stock_location.id,
            "location_dest_id": self.customer_location.id,
            "quantity": 1,
        }
        Line = self.env["stock.move.line"].with_user(self.user)
        with self.assertRefused(exception=UserError, regex="blocked.*\n.*SN-R-1"):
            Line.create({**vals, "lot_id": self.sn.id})
        quant = self.env["stock.quant"]._gather(
            self.product_serial, self.stock_location, lot_id=self.sn, strict=True
        )
        with self.assertRefused(exception=UserError, regex="blocked.*\n.*SN-R-1"):
            Line.create({**vals, "quant_id": quant.id})
        line = Line.create(vals)
        with self.assertRefused(exception=UserError, regex="blocked.*\n.*SN-R-1"):
            line.write({"lot_id": self.sn.id})
        quant.invalidate_recordset()
        self.assertEqual(quant.reserved_quantity, 0)

    def test_product_no_longer_tracked_keeps_its_blocked_lot(self):
        product = self._create_product("Was tracked", tracking="serial")
        lot = self._create_lot(product, "SN-WAS")
        self._put_in_stock(product, lot)
        self._block(lot)
        product.tracking = "none"
        picking = self._create_picking(self.warehouse.out_type_id, product, 1)
        picking.action_assign()
        self.assertFalse(picking.move_line_ids)
        self.assertEqual(picking.state, "confirmed")

    def test_block_keeps_typed_receipt_lines(self):
        receipt = self._receipt(
            self.product_lot,
            [{"lot_name": "LOT-TYPED", "quantity": 4, "expiration_date": "2030-01-01"}],
        )
        receipt.move_ids.picked = False
        lot = self._create_lot(self.product_lot, "LOT-IN")
        receipt.move_line_ids.lot_id = lot
        self._block(lot)
        self.assertEqual(receipt.move_line_ids.lot_id, lot)
        self.assertEqual(receipt.move_line_ids.quantity, 4)

    def test_block_frees_outgoing_reservation(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        self.assertEqual(picking.move_line_ids.lot_id, self.sn)
        self._block(self.sn)
        self.assertFalse(picking.move_line_ids)


@tagged("post_install", "-at_install")
class TestLotCopy(ItemTrackingCommon):
    def test_copy_is_a_new_planned_number_without_stock(self):
        """Hole 8: vanilla copies a lot; the copy is a new number, planned, with no stock."""
        lot = self._create_lot(self.product_serial, "SN-COPY")
        self._put_in_stock(self.product_serial, lot)
        self._validate(self._delivery(self.product_serial, [{"lot_id": lot}]))
        copy = lot.copy({"name": "SN-COPY-2"})
        self.assertRecordValues(
            copy,
            [
                {
                    "tracking_status": "planned",
                    "location_id": False,
                    "customer_id": False,
                    "product_qty": 0,
                }
            ],
        )


@tagged("post_install", "-at_install")
class TestStatusInOneCall(ItemTrackingCommon):
    def test_receipt_and_delivery_validated_together(self):
        """Hole 11: a receipt and a delivery of one lot validated in one call: shipped, and
        both changes logged."""
        receipt = self._receipt(self.product_serial, [{"lot_name": "SN-ONE-CALL"}])
        receipt.button_validate()
        lot = receipt.move_line_ids.lot_id
        # redo it as one call: a new receipt and a delivery of a new serial
        receipt2 = self._receipt(self.product_serial, [{"lot_name": "SN-ONE-CALL-2"}])
        lot2 = self._create_lot(self.product_serial, "SN-ONE-CALL-2")
        receipt2.move_line_ids.write({"lot_id": lot2.id, "lot_name": False})
        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        delivery.move_ids.move_line_ids.unlink()
        delivery.move_ids.write(
            {
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_serial.id,
                            "location_id": self.stock_location.id,
                            "location_dest_id": self.customer_location.id,
                            "lot_id": lot2.id,
                            "quantity": 1,
                        }
                    )
                ],
                "picked": True,
            }
        )
        (receipt2 | delivery).button_validate()
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot2.tracking_status, "shipped")
        self.assertEqual(
            lot2.status_log_ids.sorted("id").mapped("new_status"), ["received", "shipped"]
        )


@tagged("post_install", "-at_install")
class TestHostilePaths(ItemTrackingCommon):
    """The guards as the lowest user over RPC (with the old context key), through done
    operations, and as a user of another company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Hostile B"})
        cls.user_b = new_test_user(
            cls.env,
            "sit_user_b",
            groups="stock.group_stock_user,stock.group_production_lot",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.shared = cls._create_product("Shared SN", tracking="serial")
        cls.lot = cls._create_lot(cls.shared, "SN-HOSTILE")
        cls._put_in_stock(cls.shared, cls.lot)
        cls.warehouse_b = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_b.id)], limit=1
        )

    def test_done_line_edit_by_the_lowest_user_with_the_old_key(self):
        self._validate(self._delivery(self.shared, [{"lot_id": self.lot}]))
        other = self._create_lot(self.shared, "SN-HOSTILE-2")
        self._put_in_stock(self.shared, other)
        other.with_user(self.tracking_manager).write({"blocked": True, "blocked_reason": "QC"})
        line = self.env["stock.move.line"].search(
            [("lot_id", "=", self.lot.id), ("state", "=", "done")]
        )
        with self.assertRefused("blocked.*\n.*SN-HOSTILE-2"):
            line.with_user(self.lowest_user).with_context(**OLD_KEY).write({"lot_id": other.id})
        with self.assertRefused("recorded by stock operations"):
            self.lot.with_user(self.lowest_user).with_context(**OLD_KEY).write(
                {"tracking_status": "received"}
            )
        self.assertEqual(self.lot.tracking_status, "shipped")
        self.assertEqual(self._on_hand(self.shared, other), 1)

    def test_load_of_a_line_into_a_done_delivery_refused(self):
        delivery = self._delivery(self.shared, [{"lot_id": self.lot}])
        self._validate(delivery)
        other = self._create_lot(self.shared, "SN-HOSTILE-3")
        self._put_in_stock(self.shared, other)
        other.with_user(self.tracking_manager).write({"blocked": True, "blocked_reason": "QC"})
        result = (
            self.env["stock.move.line"]
            .with_user(self.lowest_user)
            .with_context(**OLD_KEY)
            .load(
                [
                    "move_id/.id",
                    "product_id/.id",
                    "location_id/.id",
                    "location_dest_id/.id",
                    "lot_id/.id",
                    "quantity",
                ],
                [
                    [
                        str(delivery.move_ids.id),
                        str(self.shared.id),
                        str(self.stock_location.id),
                        str(self.customer_location.id),
                        str(other.id),
                        "1",
                    ]
                ],
            )
        )
        self.assertFalse(result["ids"])
        self.assertIn("SN-HOSTILE-3", result["messages"][0]["message"])
        self.env.invalidate_all()
        self.assertEqual(self._on_hand(self.shared, other), 1)
        self.assertEqual(other.tracking_status, "planned")

    def test_user_of_another_company(self):
        lot_b = self.lot.with_user(self.user_b).with_company(self.company_b)
        for vals in ({"tracking_status": "shipped"}, {"customer_id": self.partner.id}):
            with self.assertRefused("recorded by stock operations"):
                lot_b.with_context(**OLD_KEY).write(vals)
        with self.assertRefused("Only Item Tracking Managers", exception=AccessError):
            lot_b.write({"blocked": True})
        # B receives the shared number, then A blocks it: B can't reserve it either.
        stock_b = self.warehouse_b.lot_stock_id
        self._put_in_stock(self.shared, self.lot, location=stock_b)
        self.lot.with_user(self.tracking_manager).write({"blocked": True, "blocked_reason": "QC"})
        move = (
            self.env["stock.move"]
            .with_user(self.user_b)
            .with_company(self.company_b)
            .create(
                {
                    "name": "B out",
                    "product_id": self.shared.id,
                    "product_uom": self.shared.uom_id.id,
                    "product_uom_qty": 1,
                    "location_id": stock_b.id,
                    "location_dest_id": self.customer_location.id,
                    "company_id": self.company_b.id,
                }
            )
        )
        move._action_confirm()
        move._action_assign()
        self.assertFalse(move.move_line_ids)
        with self.assertRefused("blocked.*\n.*SN-HOSTILE"):
            self.env["stock.move.line"].with_user(self.user_b).with_company(self.company_b).create(
                {
                    "move_id": move.id,
                    "product_id": self.shared.id,
                    "location_id": stock_b.id,
                    "location_dest_id": self.customer_location.id,
                    "lot_id": self.lot.id,
                    "quantity": 1,
                    "company_id": self.company_b.id,
                }
            )
