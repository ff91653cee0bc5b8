"""Hostile tests of assembly linking (issue 13): public flows, RPC-style calls as the lowest
users, another company. A test that fails names a rule of the issue that can be broken."""

from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .test_assembly_linking import AssemblyCommon


class HostileCommon(AssemblyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mrp_user = new_test_user(
            cls.env,
            "sit_hostile_mrp",
            groups="mrp.group_mrp_user,stock.group_production_lot",
        )
        cls.stock_user = new_test_user(
            cls.env,
            "sit_hostile_stock",
            groups="stock.group_stock_user,stock.group_production_lot",
        )
        cls.plain_bom = cls._create_bom(cls.robot, [(cls.frame, 1)], link=False)

    def _state(self, production):
        """What a refusal must leave unchanged: orders of the group, their states and
        quantities, planned serials, links and the components on hand."""
        orders = production.procurement_group_id.mrp_production_ids.sorted("id")
        return {
            "orders": [(mo.id, mo.state, mo.product_qty) for mo in orders],
            "serials": sorted(orders.planned_serial_ids.lot_id.mapped("name")),
            "links": sorted(
                (link.serial_id.lot_id.name, link.lot_id.name, link.quantity)
                for link in orders.planned_serial_ids.link_ids
            ),
            "motors": [self._on_hand(self.motor, lot) for lot in self.motors],
            "screws": [self._on_hand(self.screws, lot) for lot in self.screws_a | self.screws_b],
        }

    def _link_all(self, production):
        """A full, valid assignment of a fresh dialog (fill in order), confirmed."""
        return self._fill_and_confirm(production)


@tagged("post_install", "-at_install")
class TestHostileMarkDone(HostileCommon):
    """R000-06: no path produces a linked order before every unit is linked."""

    def test_mark_done_contexts_refused(self):
        production = self._mo(qty=2)
        before = self._state(production)
        user_mo = production.with_user(self.mrp_user)
        for ctx in (
            {"mo_ids_to_backorder": [production.id]},
            {"skip_consumption": True},
            {"skip_backorder": True},
            {"skip_backorder": True, "mo_ids_to_backorder": []},
            {"from_workorder": True},
            {"skip_redirection": True},
            {"item_tracking_no_sync": True},
        ):
            with self.subTest(ctx=ctx), self.assertRefused("can't be produced before every unit"):
                user_mo.with_context(**ctx).button_mark_done()
        self.assertEqual(self._state(production), before)

    def test_mark_done_after_writing_quantities_refused(self):
        """Quantity producing, producing lot, picked component lines written by RPC: still
        refused, nothing consumed."""
        production = self._mo(qty=1)
        user_mo = production.with_user(self.mrp_user)
        user_mo.write(
            {"qty_producing": 1, "lot_producing_id": production.planned_serial_ids.lot_id.id}
        )
        user_mo.move_raw_ids.write({"picked": True})
        before = self._state(production)
        with self.assertRefused("can't be produced before every unit"):
            user_mo.button_mark_done()
        self.assertEqual(self._state(production), before)
        with self.assertRefused("can't be produced before every unit"):
            user_mo.with_context(item_tracking_no_sync=True).button_mark_done()

    def test_draft_linked_order_not_produced(self):
        """A draft order of a linked BoM (no planned serials yet), given a lot and
        quantities by RPC, is not produced."""
        production = self._mo(qty=1, confirm=False)
        lot = self._create_lot(self.robot, "R-DRAFT")
        user_mo = production.with_user(self.mrp_user)
        user_mo.write({"qty_producing": 1, "lot_producing_id": lot.id})
        try:
            with self.env.cr.savepoint():
                res = user_mo.button_mark_done()
                if isinstance(res, dict) and res.get("res_model") == "mrp.consumption.warning":
                    user_mo.with_context(skip_consumption=True).button_mark_done()
        except UserError as error:
            self.assertIn(production.name, str(error))
        self.assertNotEqual(production.state, "done")
        self.assertEqual(self._on_hand(self.robot, lot), 0)

    def test_backorder_and_consumption_wizards_refused(self):
        production = self._mo(qty=2)
        before = self._state(production)
        backorder = (
            self.env["mrp.production.backorder"]
            .with_user(self.mrp_user)
            .create(
                {
                    "mrp_production_ids": [Command.link(production.id)],
                    "mrp_production_backorder_line_ids": [
                        Command.create({"mrp_production_id": production.id, "to_backorder": True})
                    ],
                }
            )
        )
        with self.assertRefused("can't be produced before every unit"):
            backorder.action_backorder()
        with self.assertRefused("can't be produced before every unit"):
            backorder.action_close_mo()
        warning = (
            self.env["mrp.consumption.warning"]
            .with_user(self.mrp_user)
            .create({"mrp_production_ids": [Command.link(production.id)]})
        )
        with self.assertRefused("can't be produced before every unit"):
            warning.action_confirm()
        self.assertEqual(self._state(production), before)

    def test_workorder_finish_does_not_produce(self):
        workcenter = self.env["mrp.workcenter"].create({"name": "Bench"})
        self.bom.operation_ids = [
            Command.create({"name": "Assemble", "workcenter_id": workcenter.id, "time_cycle": 5})
        ]
        production = self._mo(qty=2)
        wo = production.workorder_ids.with_user(self.mrp_user)
        wo.button_start()
        wo.action_mark_as_done()
        self.assertNotEqual(production.state, "done")
        with self.assertRefused("can't be produced before every unit"):
            production.with_user(self.mrp_user).button_mark_done()
        self.assertEqual(
            production.planned_serial_ids.link_ids, self.env["mrp.production.serial.link"]
        )

    def test_batch_produce_refused(self):
        production = self._mo(qty=2)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        batch = (
            self.env["mrp.batch.produce"]
            .with_user(self.mrp_user)
            .create(
                {
                    "production_id": production.id,
                    "production_text": f"{lots[0].name},M-001,S-A;2\n{lots[1].name},M-002,S-A;2",
                }
            )
        )
        with self.assertRefused("use Link Serial Numbers"):
            batch.action_prepare()
        with self.assertRefused("use Link Serial Numbers"):
            batch.action_done()
        self.assertEqual(production.state, "confirmed")

    def test_planned_serial_not_produced_by_another_order(self):
        """R000-07: a planned serial is produced by its own order only. A plain order of
        the same product (no linking) that names it as its lot to produce is refused, and
        the planned serial stays planned on its order."""
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        plain = self._mo(qty=1, bom=self.plain_bom).with_user(self.mrp_user)
        plain.write({"lot_producing_id": lot.id})
        with self.assertRefused(rf"planned on manufacturing orders(.|\n)*{lot.name}"):
            plain.button_mark_done()
        self.assertEqual(self._on_hand(self.robot, lot), 0)
        self.assertEqual(production.planned_serial_ids.lot_id, lot)

    def test_changing_bom_does_not_skip_linking(self):
        """An MRP user who switches a confirmed linked order to a BoM without the flag (RPC
        write of bom_id) must not produce it without links, nor leave planned serials
        behind."""
        same_lines = self._create_bom(
            self.robot,
            [(self.motor, 1), (self.screws, 2), (self.frame, 1), (self.glue, 1)],
            link=False,
        )
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        user_mo = production.with_user(self.mrp_user)
        try:
            with self.env.cr.savepoint():
                user_mo.write({"bom_id": same_lines.id})
                user_mo.write({"qty_producing": 1, "lot_producing_id": lot.id})
                res = user_mo.button_mark_done()
                if isinstance(res, dict) and res.get("res_model") == "mrp.consumption.warning":
                    # the warning's Confirm
                    user_mo.with_context(skip_consumption=True).button_mark_done()
        except UserError as error:
            self.assertRegex(str(error), f"{production.name}|{lot.name}")
        self.assertNotEqual(production.state, "done", "produced without any link")
        self.assertEqual(self._on_hand(self.robot, lot), 0)
        self.assertFalse(
            production.planned_serial_ids and not production.link_component_tracking,
            "planned serials left on an order that no longer links",
        )


@tagged("post_install", "-at_install")
class TestHostileDoneOrders(HostileCommon):
    def test_done_order_serial_not_swapped_to_a_planned_one(self):
        """A done unit's produced serial can't be rewritten (lot_producing_id on a done
        order re-lots its finished line) into a serial planned on another open order: that
        would receive the planned serial and move the genealogy to it."""
        done = self._mo(qty=1)
        self._link_all(done)
        done.button_mark_done()
        produced = done.lot_producing_id
        other = self._mo(qty=1)
        planned = other.planned_serial_ids.lot_id
        with self.assertRefused(planned.name):
            done.write({"lot_producing_id": planned.id})
        self.assertEqual(self._on_hand(self.robot, planned), 0)
        self.assertEqual(self._on_hand(self.robot, produced), 1)
        self.assertEqual(self._consumed_by(produced)["M-001"], 1)

    def test_done_order_links_not_changed(self):
        production = self._mo(qty=1)
        self._link_all(production)
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        with self.assertRefused("in-progress"):
            self.env["mrp.production.link.serials"].with_user(self.mrp_user).create(
                {"production_id": production.id}
            )
        self.assertFalse(
            self.env["mrp.production.serial"].search([("production_id", "=", production.id)])
        )


@tagged("post_install", "-at_install")
class TestHostileDialog(HostileCommon):
    def test_wizard_moved_to_another_order_refused(self):
        first = self._mo(qty=1)
        second = self._mo(qty=1)
        dialog = self._dialog(first.with_user(self.mrp_user))
        dialog.action_fill_in_order()
        dialog.write({"production_id": second.id})
        with self.assertRefused("not planned on"):
            dialog.action_confirm()
        self.assertFalse((first | second).planned_serial_ids.link_ids)

    def test_line_with_serial_of_another_order_refused(self):
        first = self._mo(qty=1)
        second = self._mo(qty=1)
        dialog = self._dialog(first.with_user(self.mrp_user))
        dialog.action_fill_in_order()
        dialog.line_ids.write({"serial_id": second.planned_serial_ids.id})
        with self.assertRefused(second.planned_serial_ids.lot_id.name):
            dialog.action_confirm()
        self.assertFalse((first | second).planned_serial_ids.link_ids)

    def test_link_models_not_writable(self):
        production = self._mo(qty=1)
        self._link_all(production)
        serial = production.planned_serial_ids
        link = serial.link_ids[:1]
        for user in (self.mrp_user, self.stock_user):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    link.with_user(user).write({"lot_id": self.motors[4].id})
                with self.assertRaises(AccessError):
                    link.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    self.env["mrp.production.serial"].with_user(user).create(
                        {"production_id": production.id, "lot_id": self.motors[4].id}
                    )
        with self.assertRefused("only their number"):
            serial.with_user(self.mrp_user).write({"lot_id": self.motors[4].id})
        with self.assertRefused("only their number"):
            serial.with_user(self.mrp_user).write({"sequence": 99, "lot_name": "X"})
        with self.assertRaises(AccessError):
            serial.with_user(self.stock_user).write({"lot_name": "X"})

    def test_load_link_refused(self):
        production = self._mo(qty=1)
        serial = production.planned_serial_ids
        res = (
            self.env["mrp.production.serial.link"]
            .with_user(self.mrp_user)
            .load(
                ["serial_id/.id", "product_id/.id", "lot_id/.id", "quantity"],
                [[str(serial.id), str(self.motor.id), str(self.motors[0].id), "1"]],
            )
        )
        self.assertFalse(res["ids"])
        self.assertFalse(serial.link_ids)

    def test_stock_user_cannot_open_dialog(self):
        production = self._mo(qty=1)
        with self.assertRaises(AccessError):
            production.with_user(self.stock_user).action_link_serials()

    def test_expired_component_refused_under_strict_expiration(self):
        self.code_lot.strict_expiration = True
        self.screws.write({"use_expiration_date": True, "expiration_time": 30})
        old = self._create_lot(
            self.screws, "S-OLD", expiration_date=self._now() - timedelta(days=1)
        )
        self._put_in_stock(self.screws, old, 2)
        production = self._mo(qty=1)
        dialog = self._link(production, {0: [(self.motors[5], 1), (old, 2)]})
        with self.assertRefused("expired.*S-OLD"):
            dialog.action_confirm()
        self.assertFalse(production.planned_serial_ids.link_ids)

    def test_component_of_another_product_refused(self):
        production = self._mo(qty=1)
        serial = production.planned_serial_ids
        dialog = self._dialog(production)
        dialog.line_ids.unlink()
        self.env["mrp.production.link.serials.line"].create(
            [
                {
                    "wizard_id": dialog.id,
                    "serial_id": serial.id,
                    "product_id": self.motor.id,
                    "lot_id": self.screws_b.id,
                    "quantity": 1,
                },
                {
                    "wizard_id": dialog.id,
                    "serial_id": serial.id,
                    "product_id": self.screws.id,
                    "lot_id": self.screws_b.id,
                    "quantity": 2,
                },
            ]
        )
        with self.assertRefused(rf"{serial.lot_id.name}: S-B is not a number of Motor"):
            dialog.action_confirm()

    def test_serial_component_with_quantity_two_refused(self):
        production = self._mo(qty=2)
        dialog = self._link(production, {0: [(self.motors[0], 2), (self.screws_b, 2)]})
        with self.assertRefused("counts for one unit"):
            dialog.action_confirm()

    def test_negative_lot_quantity_refused(self):
        production = self._mo(qty=1)
        dialog = self._link(
            production,
            {0: [(self.motors[0], 1), (self.screws_b, 3), (self.screws_a, -1)]},
        )
        with self.assertRefused("must be positive"):
            dialog.action_confirm()

    def test_other_company_lot_refused(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        other_wh = self.env["stock.warehouse"].search([("company_id", "=", other.id)], limit=1)
        foreign = self.env["stock.lot"].create(
            {"name": "M-FOREIGN", "product_id": self.motor.id, "company_id": other.id}
        )
        self.env["stock.quant"]._update_available_quantity(
            self.motor, other_wh.lot_stock_id, 1, lot_id=foreign
        )
        production = self._mo(qty=1)
        dialog = self._link(production, {0: [(foreign, 1), (self.screws_b, 2)]})
        with self.assertRefused("M-FOREIGN"):
            dialog.action_confirm()
        self.assertFalse(production.planned_serial_ids.link_ids)

    def test_cancelled_order_links_free_serial(self):
        first = self._mo(qty=1)
        self._link(first, {0: [(self.motors[5], 1), (self.screws_b, 2)]}).action_confirm()
        first.action_cancel()
        second = self._mo(qty=1)
        self._link(second, {0: [(self.motors[5], 1), (self.screws_b, 2)]}).action_confirm()
        self.assertEqual(len(second.planned_serial_ids.link_ids), 2)


@tagged("post_install", "-at_install")
class TestHostilePlannedSerials(HostileCommon):
    def test_receipt_by_name_refused(self):
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        receipt = self._receipt(self.robot, [{"lot_name": lot.name}]).with_user(self.stock_user)
        with self.assertRefused(rf"planned on manufacturing orders(.|\n)*{lot.name}"):
            receipt.button_validate()
        self.assertEqual(self._on_hand(self.robot, lot), 0)

    def test_inventory_adjustment_refused(self):
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": self.robot.id,
                    "location_id": self.stock_location.id,
                    "lot_id": lot.id,
                    "inventory_quantity": 1,
                }
            )
        )
        with self.assertRefused(rf"planned on manufacturing orders(.|\n)*{lot.name}"):
            quant.action_apply_inventory()
        self.assertEqual(self._on_hand(self.robot, lot), 0)

    def test_scrap_planned_serial_refused(self):
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.robot.id,
                "lot_id": lot.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        with self.assertRefused(lot.name):
            scrap.do_scrap()
        self.assertEqual(lot.tracking_status, "planned")

    def test_planned_serial_product_not_changed(self):
        """The planned serial belongs to the order's product: a stock user can't move it to
        another product (its order would then produce a Robot under a Motor number)."""
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        with self.assertRefused(lot.name, exception=(UserError, AccessError)):
            lot.with_user(self.stock_user).write({"product_id": self.motor.id})
        self.assertEqual(lot.product_id, self.robot)

    def test_rename_to_existing_number_refused(self):
        production = self._mo(qty=2)
        serials = production.planned_serial_ids.sorted("sequence")
        with self.assertRefused(serials[1].lot_id.name, exception=ValidationError):
            serials[0].with_user(self.mrp_user).lot_name = serials[1].lot_id.name

    def test_cancel_split_backorder_no_orphans(self):
        production = self._mo(qty=3)
        self._link_all(production)
        production.qty_producing = 1
        production.button_mark_done()
        backorder = self.env["mrp.production"].search(
            [
                ("procurement_group_id", "=", production.procurement_group_id.id),
                ("state", "not in", ("done", "cancel")),
            ]
        )
        self.assertEqual(len(backorder.planned_serial_ids), 2)
        lots = backorder.planned_serial_ids.lot_id
        backorder.with_user(self.mrp_user).action_cancel()
        self.assertFalse(lots.exists())
        self.assertFalse(self.env["mrp.production.serial"].search([("lot_id", "in", lots.ids)]))

    def test_cancel_with_client_context_leaves_no_orphans(self):
        """The add-on's private context key, sent by the client, must not keep the planned
        serials of a cancelled order (they could then be received later by mistake)."""
        production = self._mo(qty=2)
        lots = production.planned_serial_ids.lot_id
        production.with_user(self.mrp_user).with_context(item_tracking_no_sync=True).action_cancel()
        self.assertEqual(production.state, "cancel")
        self.assertFalse(self.env["mrp.production.serial"].search([("lot_id", "in", lots.ids)]))
        self.assertFalse(lots.exists())

    def test_quantity_change_with_client_context_keeps_serials_in_step(self):
        production = self._mo(qty=3)
        self.env["change.production.qty"].with_user(self.mrp_user).with_context(
            item_tracking_no_sync=True
        ).create({"mo_id": production.id, "product_qty": 2}).change_prod_qty()
        self.assertEqual(len(production.planned_serial_ids), 2)

    def test_uom_of_order_not_unit(self):
        """An order counted in pairs (2 units each): its 2 units get 2 planned serials and
        are produced as two orders of one unit, each with its own components."""
        pair = self.env["uom.uom"].create(
            {
                "name": "Pair",
                "category_id": self.env.ref("uom.product_uom_categ_unit").id,
                "uom_type": "bigger",
                "factor_inv": 2,
                "rounding": 0.01,
            }
        )
        production = self.env["mrp.production"].create(
            {
                "product_id": self.robot.id,
                "bom_id": self.bom.id,
                "product_qty": 1,
                "product_uom_id": pair.id,
            }
        )
        production.action_confirm()
        production.action_assign()
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        self.assertEqual(len(lots), 2)
        self._link_all(production)
        production.button_mark_done()
        done = self.env["mrp.production"].search(
            [("lot_producing_id", "in", lots.ids), ("state", "=", "done")]
        )
        self.assertEqual(done.lot_producing_id, lots)
        self.assertEqual(self._consumed_by(lots[0])["M-001"], 1)
        self.assertEqual(self._consumed_by(lots[1])["M-002"], 1)


@tagged("post_install", "-at_install")
class TestHostileMultiCompany(HostileCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.company"].create({"name": "Other Co"})
        cls.stranger = new_test_user(
            cls.env,
            "sit_hostile_other",
            groups="mrp.group_mrp_user,stock.group_production_lot",
            company_id=cls.other.id,
            company_ids=[cls.other.id],
        )

    def test_stranger_cannot_reach_links(self):
        production = self._mo(qty=1)
        self._link_all(production)
        Link = self.env["mrp.production.serial.link"].with_user(self.stranger)
        self.assertFalse(Link.search([]))
        Wizard = self.env["mrp.production.link.serials"].with_user(self.stranger)
        with self.assertRaises(AccessError):
            Wizard.create({"production_id": production.id})
        with self.assertRaises(AccessError):
            production.with_user(self.stranger).button_mark_done()

    def test_shared_lot_genealogy_filtered_by_company(self):
        """A component lot without company consumed by company A: company B's user sees no
        "Used in" and no unit cost of A."""
        shared_product = self._create_product("Shared screw", self.code_lot)
        shared_lot = self.env["stock.lot"].create(
            {"name": "SH-1", "product_id": shared_product.id, "company_id": False}
        )
        self._put_in_stock(shared_product, shared_lot, 10)
        bom = self._create_bom(self.robot, [(self.motor, 1), (shared_product, 1)])
        production = self._mo(qty=1, bom=bom)
        self._link(production, {0: [(self.motors[5], 1), (shared_lot, 1)]}).action_confirm()
        production.button_mark_done()
        robot_lot = production.lot_producing_id
        self.assertEqual(shared_lot.used_in_lot_ids, robot_lot)
        as_other = shared_lot.with_user(self.stranger).with_context(
            allowed_company_ids=[self.other.id]
        )
        self.assertFalse(as_other.used_in_lot_ids)
        self.assertFalse(as_other.unit_cost)
        action = as_other.action_recall_impact()
        recall_lines = (
            self.env[action["res_model"]]
            .with_user(self.stranger)
            .search(action.get("domain") or [])
        )
        self.assertNotIn(robot_lot, recall_lines.mapped("lot_id"))
        self.assertFalse(
            self.env["stock.lot.unit.cost.report"]
            .with_user(self.stranger)
            .search([("lot_id", "=", robot_lot.id)])
        )


@tagged("post_install", "-at_install")
class TestHostileFlows(HostileCommon):
    def test_over_reserved_serial_refused_naming_it(self):
        """A serial reserved by another order, added by RPC as a move line of the linked
        order (Odoo over-reserves the quant): linking it is refused naming unit and
        component, or at least Produce names it; never a generic refusal."""
        other = self._mo(qty=1, bom=self._create_bom(self.robot, [(self.motor, 1)], link=False))
        production = self._mo(qty=1)
        taken = other.move_raw_ids.move_line_ids.lot_id
        self.assertTrue(taken)
        move = production.move_raw_ids.filtered(lambda m: m.product_id == self.motor)
        self.env["stock.move.line"].with_user(self.mrp_user).create(
            {
                "move_id": move.id,
                "product_id": self.motor.id,
                "lot_id": taken.id,
                "quantity": 1,
                "location_id": move.location_id.id,
                "location_dest_id": move.location_dest_id.id,
            }
        )
        dialog = self._link(production, {0: [(taken, 1), (self.screws_b, 2)]})
        try:
            with self.env.cr.savepoint():
                dialog.action_confirm()
                res = production.button_mark_done()
                # accepted: then Produce consumes it, as linked (Odoo takes it from the
                # other order)
                self.assertIs(res, True, f"Produce answered {res}")
                self.assertEqual(self._consumed_by(production.lot_producing_id)[taken.name], 1)
        except UserError as error:
            self.assertIn(taken.name, str(error))

    def test_two_orders_one_call(self):
        """Produce on a linked and a plain order at once: each as it should."""
        linked = self._mo(qty=2)
        self._link_all(linked)
        plain = self._mo(qty=1, bom=self.plain_bom)
        lots = linked.planned_serial_ids.lot_id
        (linked | plain).button_mark_done()
        self.assertEqual(plain.state, "done")
        done = self.env["mrp.production"].search(
            [("lot_producing_id", "in", lots.ids), ("state", "=", "done")]
        )
        self.assertEqual(done.lot_producing_id, lots)

    def test_two_linked_orders_unlinked_one_refused_all(self):
        good = self._mo(qty=1)
        self._link_all(good)
        bad = self._mo(qty=1)
        with self.assertRefused(bad.name):
            (good | bad).button_mark_done()
        self.assertEqual((good | bad).mapped("state"), ["confirmed", "confirmed"])
        self.assertEqual(self._on_hand(self.motor, self.motors[0]), 1)

    def test_lot_linked_in_two_orders_second_refused_at_produce(self):
        """Links don't reserve: two orders may each link the 4 Screws of S-A; once the
        first consumed them, the second is refused naming S-A, and nothing is consumed."""
        first = self._mo(qty=1, assign=False)
        second = self._mo(qty=1, assign=False)
        self._link(first, {0: [(self.motors[4], 1), (self.screws_a, 2)]}).action_confirm()
        self._link(second, {0: [(self.motors[5], 1), (self.screws_a, 2)]}).action_confirm()
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.screws.id,
                "lot_id": self.screws_a.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        scrap.do_scrap()
        first.button_mark_done()
        self.assertEqual(self._on_hand(self.screws, self.screws_a), 1)
        with self.assertRefused("S-A of Screws"):
            second.button_mark_done()
        self.assertEqual(second.state, "confirmed")

    def test_quantity_change_keeps_other_links(self):
        production = self._mo(qty=3)
        self._link_all(production)
        serials = production.planned_serial_ids.sorted("sequence")
        self.env["change.production.qty"].with_user(self.mrp_user).create(
            {"mo_id": production.id, "product_qty": 2}
        ).change_prod_qty()
        self.assertEqual(production.planned_serial_ids, serials[:2])
        self.assertFalse(serials[2].exists())
        self.assertEqual(len(production.planned_serial_ids.link_ids), 4)
        lots = serials[:2].lot_id
        production.button_mark_done()
        done = self.env["mrp.production"].search([("lot_producing_id", "in", lots.ids)])
        self.assertEqual(set(done.mapped("state")), {"done"})
        self.assertEqual(self._consumed_by(lots[0])["M-001"], 1)
        self.assertEqual(self._consumed_by(lots[1])["M-002"], 1)

    def test_merge_linked_orders_keeps_links(self):
        first = self._mo(qty=1)
        second = self._mo(qty=1)
        self._link(first, {0: [(self.motors[4], 1), (self.screws_b, 2)]}).action_confirm()
        self._link(second, {0: [(self.motors[5], 1), (self.screws_b, 2)]}).action_confirm()
        lots = (first | second).planned_serial_ids.lot_id
        action = (first | second).action_merge()
        merged = self.env["mrp.production"].browse(action["res_id"])
        self.assertEqual(merged.planned_serial_ids.lot_id, lots)
        self.assertEqual(len(merged.planned_serial_ids.link_ids), 4)
        merged.action_assign()
        merged.button_mark_done()
        self.assertEqual(self._consumed_by(lots[0])["M-005"], 1)
        self.assertEqual(self._consumed_by(lots[1])["M-006"], 1)

    def test_partial_never_backorder(self):
        """Operation type 'never' backorder: producing 1 of 3 closes the order as in vanilla
        Odoo; the unproduced planned serials are dropped, not left on an open backorder."""
        production = self._mo(qty=3)
        production.picking_type_id.create_backorder = "never"
        self._link_all(production)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        production.qty_producing = 1
        production.button_mark_done()
        group = production.procurement_group_id.mrp_production_ids
        self.assertFalse(group.filtered(lambda mo: mo.state not in ("done", "cancel")))
        self.assertFalse(lots[1:].exists())

    def test_partial_ask_backorder_no_backorder(self):
        """Operation type 'ask': producing 1 of 3 asks, as Odoo does, whether to keep a
        backorder; 'No Backorder' closes the rest and drops its planned serials."""
        production = self._mo(qty=3)
        production.picking_type_id.create_backorder = "ask"
        self._link_all(production)
        production.qty_producing = 1
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        res = production.button_mark_done()
        self.assertIsInstance(res, dict)
        self.assertEqual(res.get("res_model"), "mrp.production.backorder")
        self.assertNotEqual(production.state, "done", "nothing produced before the answer")
        wizard = Form(self.env["mrp.production.backorder"].with_context(**res["context"])).save()
        wizard.action_close_mo()
        self.assertEqual(production.state, "done")
        self.assertEqual(production.lot_producing_id, lots[0])
        group = production.procurement_group_id.mrp_production_ids
        self.assertFalse(group.filtered(lambda mo: mo.state not in ("done", "cancel")))
        self.assertFalse(lots[1:].exists())

    def test_partial_ask_backorder_kept(self):
        production = self._mo(qty=3)
        production.picking_type_id.create_backorder = "ask"
        self._link_all(production)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        production.qty_producing = 1
        res = production.button_mark_done()
        wizard = Form(self.env["mrp.production.backorder"].with_context(**res["context"])).save()
        wizard.action_backorder()
        self.assertEqual(production.state, "done")
        self.assertEqual(production.lot_producing_id, lots[0])
        backorder = (
            self.env["mrp.production.serial"].search([("lot_id", "in", lots.ids)]).production_id
        )
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.planned_serial_ids.lot_id, lots[1:])
        self.assertEqual(len(backorder.planned_serial_ids.link_ids), 4)

    def test_fill_in_order_skips_expired_under_strict_expiration(self):
        """Fill in order proposes an assignment that Confirm accepts: under strict
        expiration, an expired lot (first in FEFO order) is not proposed."""
        self.code_lot.strict_expiration = True
        self.screws.write({"use_expiration_date": True, "expiration_time": 30})
        old = self._create_lot(
            self.screws, "S-OLD", expiration_date=self._now() - timedelta(days=1)
        )
        self._put_in_stock(self.screws, old, 20)
        production = self._mo(qty=1, assign=False)
        dialog = self._dialog(production)
        dialog.action_fill_in_order()
        self.assertNotIn(old, dialog.line_ids.lot_id)
        dialog.action_confirm()
        self.assertEqual(production.planned_serial_ids.link_state, "done")

    def test_nan_quantity_refused_cleanly(self):
        production = self._mo(qty=1)
        with self.assertRefused("Enter a quantity"):
            self._link(production, {0: [(self.motors[5], 1), (self.screws_b, float("nan"))]})

    def test_unbuild_with_another_units_order(self):
        """Unbuild names the order of unit 1 and the serial of unit 2: it must return
        unit 2's own components (or be refused naming the serial), never consume unit 2
        and return nothing."""
        production = self._mo(qty=2)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        self._link_all(production)
        production.button_mark_done()
        first_order = self.env["mrp.production"].search([("lot_producing_id", "=", lots[0].id)])
        try:
            with self.env.cr.savepoint():
                unbuild = (
                    self.env["mrp.unbuild"]
                    .with_user(self.mrp_user)
                    .create(
                        {
                            "product_id": self.robot.id,
                            "mo_id": first_order.id,
                            "lot_id": lots[1].id,
                            "product_qty": 1,
                        }
                    )
                )
                unbuild.lot_id = lots[1]
                unbuild.action_unbuild()
        except UserError as error:
            self.assertIn(lots[1].name, str(error))
        if not self._on_hand(self.robot, lots[1]):
            self.assertEqual(self._on_hand(self.motor, self.motors[1]), 1, "M-002 not returned")
            self.assertEqual(self._on_hand(self.motor, self.motors[0]), 0)

    def test_unplanned_sub_assembly_refused(self):
        arm = self._create_product("Arm", self.code_serial)
        arm_mo = self._mo(qty=1, bom=self._create_bom(arm, [(self.motor, 1)]))
        arm_serial = arm_mo.planned_serial_ids.lot_id
        cell = self._create_product("Cell", self.code_serial)
        cell_mo = self._mo(qty=1, bom=self._create_bom(cell, [(arm, 1)]))
        dialog = self._link(cell_mo, {0: [(arm_serial, 1)]})
        with self.assertRefused(rf"{arm_serial.name} of Arm"):
            dialog.action_confirm()

    def test_scan_other_company_number_ignored(self):
        other = self.env["res.company"].create({"name": "Scan Co"})
        self.env["stock.lot"].create(
            {"name": "M-SCAN", "product_id": self.motor.id, "company_id": other.id}
        )
        production = self._mo(qty=1)
        with Form(self._dialog(production)) as form:
            form.scan = "M-SCAN"
            self.assertIn("not a number of a component", form.scan_message)
