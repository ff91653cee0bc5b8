"""One reservation and one place per serial (issue 15, items 3 and 4), without concurrency
(tests/test_zz_reservation_race.py has the concurrent cases)."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestSerialPlace(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A second stock outside WH/Stock: what a second warehouse is for Odoo's own check.
        cls.company_b = cls.env["res.company"].create({"name": "Place Company B"})
        cls.warehouse_b = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_b.id)], limit=1
        )
        cls.warehouse_2 = cls.env["stock.warehouse"].create(
            {"name": "Second warehouse", "code": "WH2P"}
        )
        cls.product_plain = cls._create_product("Drill without code", tracking="serial")
        cls.sn = cls._create_lot(cls.product_serial, "SN-PLACE-1")
        cls._put_in_stock(cls.product_serial, cls.sn)
        cls.sn_plain = cls._create_lot(cls.product_plain, "SN-PLAIN-1")
        cls._put_in_stock(cls.product_plain, cls.sn_plain)
        cls.lowest_user.groups_id += cls.env.ref("stock.group_stock_multi_locations")
        cls.lowest_user.company_ids += cls.company_b

    # ------------------------------------------------------------------ helpers
    def _receipt_in(self, warehouse, product, lines, partner=None):
        picking = self._create_picking(warehouse.in_type_id, product, len(lines))
        if partner:
            picking.partner_id = partner
        return self._set_lines(picking, lines)

    def _quants(self, lot):
        return {
            (quant.location_id, quant.quantity, quant.reserved_quantity)
            for quant in self.env["stock.quant"].search([("lot_id", "=", lot.id)])
        }

    def _open_lines(self, lot):
        return self.env["stock.move.line"].search(
            [("lot_id", "=", lot.id), ("state", "not in", ("done", "cancel"))]
        )

    def _in_stock_quants(self, lot):
        return self.env["stock.quant"].search(
            [
                ("lot_id", "=", lot.id),
                ("location_id.usage", "in", ("internal", "transit")),
                ("quantity", ">", 0),
            ]
        )

    # ------------------------------------------------------------------ item 3
    def test_manual_line_takes_an_unpicked_reservation(self):
        first = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        first.action_assign()
        self.assertEqual(first.move_ids.move_line_ids.lot_id, self.sn)
        second = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        move = second.move_ids
        self.env["stock.move.line"].with_user(self.lowest_user).create(
            {
                "move_id": move.id,
                "picking_id": second.id,
                "product_id": self.product_serial.id,
                "product_uom_id": self.product_serial.uom_id.id,
                "location_id": self.stock_location.id,
                "location_dest_id": move.location_dest_id.id,
                "lot_id": self.sn.id,
                "quantity": 1,
            }
        )
        self.assertEqual(self._open_lines(self.sn).picking_id, second)
        self.assertEqual(first.state, "confirmed", "the first delivery waits again")
        quant = self._in_stock_quants(self.sn)
        self.assertEqual((quant.quantity, quant.reserved_quantity), (1, 1))
        self.assertFalse(
            self.env["stock.quant"].search(
                [("lot_id", "=", self.sn.id), ("quantity", "=", 0), ("reserved_quantity", ">", 0)]
            ),
            "no stray quant",
        )
        self._validate(second)

    def test_serial_picked_elsewhere_refused(self):
        first = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        first.action_assign()
        first.move_ids.move_line_ids.picked = True
        second = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        before = self._quants(self.sn)
        with self.assertRefused(r"already picked(.|\n)*SN-PLACE-1"):
            self._set_lines(second, [{"lot_id": self.sn}])
        self.assertEqual(self._quants(self.sn), before)
        self.assertEqual(self._open_lines(self.sn).picking_id, first)

    def test_writing_the_lot_of_an_open_line_takes_it_once(self):
        other = self._create_lot(self.product_serial, "SN-PLACE-2")
        self._put_in_stock(self.product_serial, other)
        first = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        second = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        (first | second).action_assign()
        line = second.move_ids.move_line_ids
        taken = first.move_ids.move_line_ids.lot_id
        line.with_user(self.lowest_user).write({"lot_id": taken.id})
        for lot in (self.sn, other):
            quant = self._in_stock_quants(lot)
            self.assertLessEqual(quant.reserved_quantity, quant.quantity)
        # The first delivery reserved the other serial instead.
        self.assertEqual(first.move_ids.move_line_ids.lot_id, (self.sn | other) - taken)

    def test_without_code_vanilla_over_reserves(self):
        first = self._create_picking(self.warehouse.out_type_id, self.product_plain, 1)
        first.action_assign()
        second = self._create_picking(self.warehouse.out_type_id, self.product_plain, 1)
        self._set_lines(second, [{"lot_id": self.sn_plain}])
        quant = self._in_stock_quants(self.sn_plain)
        self.assertEqual(quant.reserved_quantity, 2, "vanilla: reserved above quantity")
        self.assertEqual(len(self._open_lines(self.sn_plain)), 2)

    # ------------------------------------------------------------------ item 4: twice
    def test_receipt_in_another_warehouse_refused(self):
        picking = self._receipt_in(
            self.warehouse_2, self.product_serial, [{"lot_name": "SN-PLACE-1"}]
        ).with_user(self.lowest_user)
        before = self._quants(self.sn)
        with self.assertRefused(r"already on hand(.|\n)*Drill \(SN\): SN-PLACE-1"):
            picking.button_validate()
        self.assertEqual(self._quants(self.sn), before)
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self.sn.tracking_status, "planned")

    def test_receipt_in_another_warehouse_without_code_vanilla_accepts(self):
        picking = self._receipt_in(
            self.warehouse_2, self.product_plain, [{"lot_name": "SN-PLAIN-1"}]
        )
        self._validate(picking)
        self.assertEqual(len(self._in_stock_quants(self.sn_plain)), 2, "vanilla: two places")

    def test_receipt_in_another_company_refused(self):
        # The product has no company: its serial is shared by both companies.
        self.assertFalse(self.sn.company_id)
        self.env = self.env(context=dict(self.env.context, allowed_company_ids=self.company_b.ids))
        picking = self._receipt_in(self.warehouse_b, self.product_serial, [{"lot_id": self.sn}])
        self.assertEqual(picking.company_id, self.company_b)
        picking = picking.with_user(self.lowest_user)
        with self.assertRefused(r"already on hand(.|\n)*SN-PLACE-1"):
            picking.button_validate()
        self.assertEqual(len(self._in_stock_quants(self.sn)), 1)

    def test_new_serial_received_and_delivered(self):
        picking = self._receipt_in(
            self.warehouse_2, self.product_serial, [{"lot_name": "SN-NEW-P"}]
        )
        self._validate(picking)
        lot = picking.move_line_ids.lot_id
        self.assertEqual(len(self._in_stock_quants(lot)), 1)
        delivery = self._create_picking(self.warehouse_2.out_type_id, self.product_serial, 1)
        delivery.action_assign()
        self.assertEqual(delivery.move_line_ids.lot_id, lot)
        self._validate(delivery)
        self.assertFalse(self._in_stock_quants(lot))

    def test_inventory_adjustment_in_another_warehouse_refused(self):
        quant = (
            self.env["stock.quant"]
            .with_user(self.lowest_user)
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": self.product_serial.id,
                    "location_id": self.warehouse_2.lot_stock_id.id,
                    "lot_id": self.sn.id,
                    "inventory_quantity": 1,
                }
            )
        )
        with self.assertRefused(r"already on hand(.|\n)*SN-PLACE-1"):
            quant.action_apply_inventory()
        self.assertEqual(len(self._in_stock_quants(self.sn)), 1)

    def test_inventory_moving_a_serial_between_shelves_in_one_apply(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf P", "location_id": self.warehouse_2.lot_stock_id.id}
        )
        Quant = (
            self.env["stock.quant"].with_user(self.lowest_user).with_context(inventory_mode=True)
        )
        old = self._in_stock_quants(self.sn).with_user(self.lowest_user)
        old.with_context(inventory_mode=True).inventory_quantity = 0
        new = Quant.create(
            {
                "product_id": self.product_serial.id,
                "location_id": shelf.id,
                "lot_id": self.sn.id,
                "inventory_quantity": 1,
            }
        )
        (old | new).with_context(inventory_mode=True).action_apply_inventory()
        self.assertEqual(self._in_stock_quants(self.sn).location_id, shelf)

    def test_done_line_edit_to_a_serial_on_hand_refused(self):
        picking = self._receipt_in(self.warehouse_2, self.product_serial, [{"lot_name": "SN-EDIT"}])
        self._validate(picking)
        line = picking.move_line_ids.with_user(self.lowest_user)
        new_lot = line.lot_id
        with self.assertRefused(r"already on hand(.|\n)*SN-PLACE-1"):
            line.write({"lot_id": self.sn.id})
        self.assertEqual(len(self._in_stock_quants(self.sn)), 1)
        self.assertEqual(len(self._in_stock_quants(new_lot)), 1)

    def test_done_line_created_with_a_serial_on_hand_refused(self):
        picking = self._receipt_in(self.warehouse_2, self.product_serial, [{"lot_name": "SN-ADD"}])
        self._validate(picking)
        move = picking.move_ids
        with self.assertRefused(r"already on hand(.|\n)*SN-PLACE-1"):
            self.env["stock.move.line"].with_user(self.lowest_user).create(
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": self.product_serial.id,
                    "product_uom_id": self.product_serial.uom_id.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "lot_id": self.sn.id,
                    "quantity": 1,
                }
            )
        self.assertEqual(len(self._in_stock_quants(self.sn)), 1)

    # ------------------------------------------------------------------ item 4: gone
    def _deliver_sn(self):
        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        delivery.action_assign()
        self._validate(delivery)
        return delivery

    def test_delivered_serial_not_delivered_again(self):
        self._deliver_sn()
        again = self._delivery(self.product_serial, [{"lot_id": self.sn}]).with_user(
            self.lowest_user
        )
        with self.assertRefused(r"not on hand in the location(.|\n)*SN-PLACE-1"):
            again.button_validate()
        self.assertFalse(
            self.env["stock.quant"].search([("lot_id", "=", self.sn.id), ("quantity", "<", 0)])
        )

    def test_scrapped_serial_not_delivered(self):
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.product_serial.id,
                "lot_id": self.sn.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        scrap.do_scrap()
        delivery = self._delivery(self.product_serial, [{"lot_id": self.sn}])
        with self.assertRefused(r"not on hand in the location(.|\n)*SN-PLACE-1"):
            delivery.button_validate()
        # Scrapping it twice is refused as well.
        scrap2 = self.env["stock.scrap"].create(
            {
                "product_id": self.product_serial.id,
                "lot_id": self.sn.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        with self.assertRefused("SN-PLACE-1"):
            scrap2.do_scrap()

    def _scrap(self, product, lot):
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": product.id,
                "lot_id": lot.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        scrap.do_scrap()
        return scrap

    def test_without_code_vanilla_delivers_a_scrapped_serial(self):
        self._scrap(self.product_plain, self.sn_plain)
        self._validate(self._delivery(self.product_plain, [{"lot_id": self.sn_plain}]))
        quant = self.env["stock.quant"].search(
            [("lot_id", "=", self.sn_plain.id), ("location_id", "=", self.stock_location.id)]
        )
        self.assertEqual(quant.quantity, -1, "vanilla: a scrapped serial delivered")

    # ------------------------------------------------------------------ item 4: customer
    def _return(self, picking):
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        action = wizard.action_create_returns()
        return_picking = self.env["stock.picking"].browse(action["res_id"])
        return self._set_lines(return_picking, [{"lot_id": self.sn}])

    def _customer_receipt(self, partner):
        picking = self._create_picking(
            self.warehouse.in_type_id, self.product_serial, 1, location=self.customer_location
        )
        picking.partner_id = partner
        return self._set_lines(picking, [{"lot_id": self.sn}])

    def test_return_of_the_delivery_accepted(self):
        delivery = self._deliver_sn()
        self.assertEqual(self.sn.tracking_status, "shipped")
        returned = self._return(delivery).with_user(self.lowest_user)
        returned.partner_id = self.vendor  # the return itself says where it comes from
        returned.button_validate()
        self.assertEqual(returned.state, "done")
        self.assertEqual(self.sn.tracking_status, "returned")

    def test_receipt_from_another_customer_refused(self):
        self._deliver_sn()
        stranger = self.env["res.partner"].create({"name": "Stranger"})
        picking = self._customer_receipt(stranger).with_user(self.lowest_user)
        before = self._quants(self.sn)
        with self.assertRefused(r"at a customer(.|\n)*SN-PLACE-1"):
            picking.button_validate()
        self.assertEqual(self._quants(self.sn), before)
        self.assertEqual(self.sn.tracking_status, "shipped")

    def test_receipt_from_the_customers_contact_accepted(self):
        self._deliver_sn()
        contact = self.env["res.partner"].create(
            {"name": "Contoso buyer", "parent_id": self.partner.id}
        )
        picking = self._customer_receipt(contact).with_user(self.lowest_user)
        picking.button_validate()
        self.assertEqual(picking.state, "done")

    def test_manager_receives_from_another_customer_logged(self):
        self._deliver_sn()
        stranger = self.env["res.partner"].create({"name": "Stranger"})
        picking = self._customer_receipt(stranger)
        manager = new_test_user(
            self.env,
            "sit_place_manager",
            groups="stock.group_stock_user,stock.group_production_lot,"
            "stock_item_tracking.group_item_tracking_manager",
        )
        picking.with_user(manager).button_validate()
        self.assertEqual(picking.state, "done")
        self.assertIn(
            "Stranger",
            " ".join(self.sn.message_ids.mapped(lambda message: str(message.body))),
        )

    def test_context_key_does_not_override(self):
        self._deliver_sn()
        stranger = self.env["res.partner"].create({"name": "Stranger"})
        picking = self._customer_receipt(stranger).with_user(self.lowest_user)
        # keys Odoo and the add-on do read (inventory mode, tracking off, install mode),
        # and invented ones: none lifts the rule
        picking = picking.with_context(
            inventory_mode=True,
            tracking_disable=True,
            install_mode=True,
            import_file=True,
            item_tracking_override=True,
            skip_item_tracking_rules=True,
        )
        with self.assertRefused(r"at a customer(.|\n)*SN-PLACE-1"):
            picking.button_validate()

    # ------------------------------------------------------------------ MRP, unbuild
    def test_consumed_serial_not_consumed_again(self):
        finished = self._create_product("Kit", self.code_serial)
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": finished.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [Command.create({"product_id": self.product_serial.id})],
            }
        )
        productions = self.env["mrp.production"]
        for name in ("KIT-1", "KIT-2"):
            production = self.env["mrp.production"].create(
                {"product_id": finished.id, "bom_id": bom.id, "product_qty": 1}
            )
            production.action_confirm()
            production.lot_producing_id = self._create_lot(finished, name)
            productions |= production
        first, second = productions
        first.action_assign()
        first.move_raw_ids.picked = True
        first.button_mark_done()
        self.assertEqual(first.state, "done")
        self.assertEqual(self.sn.tracking_status, "consumed")
        raw = second.move_raw_ids
        raw.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            {
                "move_id": raw.id,
                "product_id": self.product_serial.id,
                "product_uom_id": self.product_serial.uom_id.id,
                "location_id": raw.location_id.id,
                "location_dest_id": raw.location_dest_id.id,
                "lot_id": self.sn.id,
                "quantity": 1,
            }
        )
        raw.picked = True
        # Odoo's own check (mrp) refuses it first, naming the serial.
        with self.assertRefused("SN-PLACE-1"):
            second.button_mark_done()
        self.assertNotEqual(second.state, "done")
        # ... and it can't be delivered either.
        delivery = self._delivery(self.product_serial, [{"lot_id": self.sn}])
        with self.assertRefused(r"not on hand in the location(.|\n)*SN-PLACE-1"):
            delivery.button_validate()
        self.assertEqual(self.sn.tracking_status, "consumed")

    def test_unbuild_gives_back_a_serial_received_again_refused(self):
        finished = self._create_product("Kit U", self.code_serial)
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": finished.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [Command.create({"product_id": self.product_serial.id})],
            }
        )
        production = self.env["mrp.production"].create(
            {"product_id": finished.id, "bom_id": bom.id, "product_qty": 1}
        )
        production.action_confirm()
        production.lot_producing_id = self._create_lot(finished, "KIT-U-1")
        production.action_assign()
        production.move_raw_ids.picked = True
        production.button_mark_done()
        self.assertEqual(self.sn.tracking_status, "consumed")
        # The consumed serial is received again (it is on hand nowhere): accepted ...
        self._validate(
            self._receipt_in(self.warehouse_2, self.product_serial, [{"lot_id": self.sn}])
        )
        # ... so unbuilding the kit can't give it back a second time.
        unbuild = self.env["mrp.unbuild"].create(
            {
                "product_id": finished.id,
                "bom_id": bom.id,
                "mo_id": production.id,
                "lot_id": production.lot_producing_id.id,
                "product_qty": 1,
            }
        )
        with self.assertRefused(r"already on hand(.|\n)*SN-PLACE-1"):
            unbuild.action_unbuild()
        self.assertEqual(len(self._in_stock_quants(self.sn)), 1)
        self.assertEqual(len(self._in_stock_quants(production.lot_producing_id)), 1)

    def test_one_receipt_putting_an_existing_serial_in_two_warehouses_refused(self):
        lot = self._create_lot(self.product_serial, "SN-TWO-WH")
        picking = self._receipt_in(
            self.warehouse, self.product_serial, [{"lot_id": lot}, {"lot_id": lot}]
        )
        picking.move_line_ids[1].location_dest_id = self.warehouse_2.lot_stock_id
        with self.assertRefused(r"already on hand(.|\n)*SN-TWO-WH"):
            picking.with_user(self.lowest_user).button_validate()
        self.assertFalse(self._in_stock_quants(lot))

    def test_load_of_a_done_line_with_a_serial_on_hand_refused(self):
        """An import (load) of a line into a done receipt is a done-line creation."""
        picking = self._receipt_in(self.warehouse_2, self.product_serial, [{"lot_name": "SN-LD"}])
        self._validate(picking)
        move = picking.move_ids
        fields = [
            "move_id/.id",
            "picking_id/.id",
            "product_id/.id",
            "product_uom_id/.id",
            "location_id/.id",
            "location_dest_id/.id",
            "lot_id/.id",
            "quantity",
        ]
        row = [
            move.id,
            picking.id,
            self.product_serial.id,
            self.product_serial.uom_id.id,
            move.location_id.id,
            move.location_dest_id.id,
            self.sn.id,
            1,
        ]
        with self.env.cr.savepoint():
            result = (
                self.env["stock.move.line"]
                .with_user(self.lowest_user)
                .load(fields, [[str(value) for value in row]])
            )
        self.assertFalse(result["ids"])
        self.assertRegex(" ".join(m["message"] for m in result["messages"]), "SN-PLACE-1")
        self.assertEqual(len(self._in_stock_quants(self.sn)), 1)

    def test_split_quant_merged_when_the_lowest_user_reserves(self):
        """A second quant of a serial in the same place (as Odoo's SKIP LOCKED leaves beside
        a rolled-back transaction) is merged when the lowest user reserves the serial; a user
        of another company can't reserve it."""
        self.env["stock.quant"].sudo().create(
            {
                "product_id": self.product_serial.id,
                "location_id": self.stock_location.id,
                "lot_id": self.sn.id,
                "quantity": 0,
            }
        )
        self.assertEqual(len(self._quants(self.sn)), 2)
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        other = picking.with_user(self.lowest_user).with_context(
            allowed_company_ids=[self.company_b.id]
        )
        with self.assertRaises(AccessError):
            other.action_assign()
        picking.with_user(self.lowest_user).action_assign()
        self.assertEqual(picking.move_line_ids.lot_id, self.sn)
        self.assertEqual(self._quants(self.sn), {(self.stock_location, 1.0, 1.0)})
