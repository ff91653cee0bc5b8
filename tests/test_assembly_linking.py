from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon


class AssemblyCommon(ItemTrackingCommon):
    """A serial assembly (Robot) whose BoM links a serial component (Motor, 1 per unit) and
    a lot component (Screws, 2 per unit); an untracked storable part and a consumable are
    consumed as usual."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref("mrp.group_mrp_user")
        cls.robot = cls._create_product("Robot", cls.code_serial)
        cls.motor = cls._create_product("Motor", cls.code_serial)
        cls.screws = cls._create_product("Screws", cls.code_lot)
        cls.frame = cls._create_product("Frame")
        cls.glue = cls.env["product.product"].create(
            {"name": "Glue", "is_storable": False, "type": "consu"}
        )
        cls.bom = cls._create_bom(
            cls.robot, [(cls.motor, 1), (cls.screws, 2), (cls.frame, 1), (cls.glue, 1)]
        )
        cls.motors = cls.env["stock.lot"].create(
            [{"name": f"M-{i:03d}", "product_id": cls.motor.id} for i in range(1, 7)]
        )
        for lot in cls.motors:
            cls._put_in_stock(cls.motor, lot)
        cls.screws_a = cls._create_lot(cls.screws, "S-A")
        cls.screws_b = cls._create_lot(cls.screws, "S-B")
        cls._put_in_stock(cls.screws, cls.screws_a, 4)
        cls._put_in_stock(cls.screws, cls.screws_b, 10)
        cls.env["stock.quant"]._update_available_quantity(cls.frame, cls.stock_location, 20)
        # partial production: backorders without the question (tests of the question set it)
        cls.warehouse.manu_type_id.create_backorder = "always"

    @classmethod
    def _create_bom(cls, product, lines, link=True):
        return cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 1,
                "link_component_tracking": link,
                "bom_line_ids": [
                    Command.create({"product_id": comp.id, "product_qty": qty})
                    for comp, qty in lines
                ],
            }
        )

    def _mo(self, qty=3, bom=None, confirm=True, assign=True):
        bom = bom or self.bom
        production = self.env["mrp.production"].create(
            {
                "product_id": bom.product_tmpl_id.product_variant_id.id,
                "bom_id": bom.id,
                "product_qty": qty,
            }
        )
        if confirm:
            production.action_confirm()
            if assign:
                production.action_assign()
        return production

    def _dialog(self, production):
        action = production.action_link_serials()
        self.assertEqual(action["res_model"], "mrp.production.link.serials")
        return self.env["mrp.production.link.serials"].browse(action["res_id"])

    def _link(self, production, assignment):
        """assignment: {finished serial index: [(lot, qty), ...]} on a fresh dialog."""
        dialog = self._dialog(production)
        dialog.line_ids.unlink()
        serials = production.planned_serial_ids.sorted("sequence")
        vals = []
        for index, numbers in assignment.items():
            for lot, qty in numbers:
                vals.append(
                    {
                        "wizard_id": dialog.id,
                        "serial_id": serials[index].id,
                        "product_id": lot.product_id.id,
                        "lot_id": lot.id,
                        "quantity": qty,
                    }
                )
        self.env["mrp.production.link.serials.line"].create(vals)
        return dialog

    def _fill_and_confirm(self, production):
        dialog = self._dialog(production)
        dialog.action_fill_in_order()
        dialog.action_confirm()
        return dialog

    @staticmethod
    def _consumed_by(lot):
        """{component lot name: quantity} consumed by the production line of `lot`."""
        finished_line = lot.env["stock.move.line"].search(
            [
                ("lot_id", "=", lot.id),
                ("state", "=", "done"),
                ("move_id.production_id", "!=", False),
            ]
        )
        result = {}
        for line in finished_line.consume_line_ids:
            result[line.lot_id.name or line.product_id.name] = (
                result.get(line.lot_id.name or line.product_id.name, 0) + line.quantity
            )
        return result


@tagged("post_install", "-at_install")
class TestAssemblyLinkingSetup(AssemblyCommon):
    def test_flag_only_for_serial_assemblies(self):
        """R000-03: linking is only for a serialized assembly."""
        paint = self._create_product("Paint mix", self.code_lot)
        with self.assertRaisesRegex(ValidationError, "Paint mix"):
            self._create_bom(paint, [(self.screws, 1)])
        kit = self._create_product("Robot kit", self.code_serial)
        with self.assertRaisesRegex(ValidationError, "Robot kit"):
            self.env["mrp.bom"].create(
                {
                    "product_tmpl_id": kit.product_tmpl_id.id,
                    "type": "phantom",
                    "link_component_tracking": True,
                }
            )
        self.assertTrue(self._create_bom(self._create_product("Robot 2", self.code_serial), []))

    def test_product_keeps_serial_tracking_while_linked(self):
        robot = self._create_product("Robot 3")
        robot.tracking = "serial"
        self._create_bom(robot, [(self.motor, 1)])
        with self.assertRefused("must stay tracked by serial number"):
            robot.product_tmpl_id.tracking = "lot"
        self.assertEqual(robot.tracking, "serial")

    def test_flag_kept_while_orders_are_planned(self):
        production = self._mo(qty=2)
        with self.assertRefused(f"orders in process with planned serials(.|\n)*{production.name}"):
            self.bom.link_component_tracking = False
        production.action_cancel()
        self.bom.link_component_tracking = False
        self.assertFalse(self.bom.link_component_tracking)

    def test_tracked_byproduct_refused_on_linked_bom(self):
        shavings = self._create_product("Shavings", self.code_lot)
        with self.assertRefused("by-products tracked", ValidationError):
            self.bom.byproduct_ids = [Command.create({"product_id": shavings.id, "product_qty": 1})]
        untracked = self._create_product("Offcuts")
        self.bom.byproduct_ids = [Command.create({"product_id": untracked.id, "product_qty": 1})]
        self.assertEqual(self.bom.byproduct_ids.product_id, untracked)

    def test_whole_units_only(self):
        """One serial per unit: half a dozen of a product counted in dozens is refused."""
        dozen = self.env.ref("uom.product_uom_dozen")
        unit = self.env.ref("uom.product_uom_unit")
        robot = self._create_product("Robot dozen", uom_id=dozen.id, uom_po_id=dozen.id)
        robot.tracking = "serial"
        bom = self._create_bom(robot, [(self.motor, 1)])
        production = self.env["mrp.production"].create(
            {"product_id": robot.id, "bom_id": bom.id, "product_qty": 6, "product_uom_id": unit.id}
        )
        with self.assertRefused("whole number of Dozens"):
            production.action_confirm()
        self.assertEqual(production.state, "draft")
        self.assertFalse(production.planned_serial_ids)

    def test_planned_serials_on_confirm(self):
        """R000-07: the final serials exist, planned, once the order is confirmed."""
        draft = self._mo(confirm=False)
        self.assertFalse(draft.planned_serial_ids)
        draft.action_confirm()
        serials = draft.planned_serial_ids.sorted("sequence")
        self.assertEqual(len(serials), 3)
        self.assertEqual(len(set(serials.lot_id.mapped("name"))), 3)
        self.assertEqual(set(serials.lot_id.mapped("tracking_status")), {"planned"})
        self.assertEqual(serials.lot_id.product_id, self.robot)
        # the next order continues the numbering
        other = self._mo(qty=1)
        names = serials.lot_id.mapped("name")
        self.assertNotIn(other.planned_serial_ids.lot_id.name, names)
        # without the flag: no planned serials (vanilla)
        plain = self._mo(qty=2, bom=self._create_bom(self.robot, [(self.motor, 1)], link=False))
        self.assertFalse(plain.planned_serial_ids)

    def test_planned_serial_renamed_and_printed(self):
        production = self._mo(qty=2)
        serial = production.planned_serial_ids.sorted("sequence")[0]
        serial.lot_name = "ROBOT-CUSTOM-1"
        self.assertEqual(serial.lot_id.name, "ROBOT-CUSTOM-1")
        action = production.action_print_planned_serials()
        self.assertEqual(action["type"], "ir.actions.act_window")  # the label layout dialog
        self._fill_and_confirm(production)
        production.button_mark_done()
        produced = self.env["stock.lot"].search([("name", "=", "ROBOT-CUSTOM-1")])
        self.assertEqual(produced.tracking_status, "received")

    def test_planned_serial_not_received_by_mistake(self):
        """A planned serial comes into stock only through its order."""
        production = self._mo(qty=1)
        lot = production.planned_serial_ids.lot_id
        receipt = self._receipt(self.robot, [{"lot_id": lot}])
        with self.assertRefused(rf"planned on manufacturing orders(.|\n)*{lot.name}"):
            receipt.button_validate()
        self.assertEqual(self._on_hand(self.robot, lot), 0)
        self._fill_and_confirm(production)
        production.button_mark_done()
        self.assertEqual(self._on_hand(self.robot, lot), 1)

    def test_quantity_change_adds_and_removes_serials(self):
        production = self._mo(qty=3)
        first = production.planned_serial_ids.sorted("sequence")
        wizard = self.env["change.production.qty"].create(
            {"mo_id": production.id, "product_qty": 5}
        )
        wizard.change_prod_qty()
        self.assertEqual(len(production.planned_serial_ids), 5)
        self.assertLessEqual(first, production.planned_serial_ids)
        dropped_lots = production.planned_serial_ids.sorted("sequence")[2:].lot_id
        wizard = self.env["change.production.qty"].create(
            {"mo_id": production.id, "product_qty": 2}
        )
        wizard.change_prod_qty()
        self.assertEqual(production.planned_serial_ids, first[:2])
        self.assertFalse(dropped_lots.exists(), "removed planned serials leave no lot behind")

    def test_cancel_leaves_no_orphan_serials(self):
        production = self._mo(qty=3)
        lots = production.planned_serial_ids.lot_id
        production.action_cancel()
        self.assertFalse(production.planned_serial_ids)
        self.assertFalse(lots.exists())

    def test_split_and_merge_move_serials(self):
        production = self._mo(qty=4)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        with Form(
            self.env["mrp.production.split"].with_context(default_production_id=production.id)
        ) as form:
            form.counter = 2
        form.record.action_split()
        orders = production.procurement_group_id.mrp_production_ids.sorted("id")
        self.assertEqual(len(orders), 2)
        self.assertEqual(orders[0].planned_serial_ids.lot_id, lots[:2])
        self.assertEqual(orders[1].planned_serial_ids.lot_id, lots[2:])
        action = orders.action_merge()
        merged = self.env["mrp.production"].browse(action["res_id"])
        self.assertEqual(merged.planned_serial_ids.lot_id, lots)
        self.assertEqual(len(merged.planned_serial_ids), 4)
        self.assertTrue(lots.exists())


@tagged("post_install", "-at_install")
class TestAssemblyLinkingDialog(AssemblyCommon):
    def test_link_refused_outside_process(self):
        """R000-09: the dialog needs the flag and an order in process, also by RPC."""
        draft = self._mo(confirm=False)
        with self.assertRefused("in-progress"):
            draft.action_link_serials()
        with self.assertRefused("in-progress"):
            self.env["mrp.production.link.serials"].create({"production_id": draft.id})
        plain = self._mo(qty=2, bom=self._create_bom(self.robot, [(self.motor, 1)], link=False))
        with self.assertRefused("in-progress"):
            plain.action_link_serials()
        done = self._mo(qty=1)
        self._fill_and_confirm(done)
        done.button_mark_done()
        self.assertEqual(done.state, "done")
        with self.assertRefused("in-progress"):
            done.action_link_serials()

    def test_fill_in_order(self):
        production = self._mo(qty=3)
        dialog = self._dialog(production)
        # one cell per component serial, one per lot component
        self.assertEqual(len(dialog.line_ids), 6)
        dialog.action_fill_in_order()
        serials = production.planned_serial_ids.sorted("sequence")
        motors = [
            dialog.line_ids.filtered(
                lambda ln, s=s: ln.serial_id == s and ln.product_id == self.motor
            ).lot_id.name
            for s in serials
        ]
        self.assertEqual(motors, ["M-001", "M-002", "M-003"])
        screws = [
            [
                (line.lot_id.name, line.quantity)
                for line in dialog.line_ids.filtered(
                    lambda ln, s=s: ln.serial_id == s and ln.product_id == self.screws
                ).sorted("id")
            ]
            for s in serials
        ]
        self.assertEqual(screws, [[("S-A", 2)], [("S-A", 2)], [("S-B", 2)]])
        dialog.action_confirm()
        self.assertEqual(len(production.planned_serial_ids.link_ids), 6)
        self.assertEqual(set(production.planned_serial_ids.mapped("link_state")), {"done"})

    def test_scan_fills_next_cell(self):
        production = self._mo(qty=2)
        serials = production.planned_serial_ids.sorted("sequence")
        with Form(self._dialog(production)) as form:
            self.assertEqual(form.current_serial_id, serials[0])
            form.scan = "M-005"
            form.scan = "S-B"
            # unit 1 is full: the next scan goes to unit 2
            self.assertEqual(form.current_serial_id, serials[1])
            form.scan = serials[0].lot_id.name
            self.assertEqual(form.current_serial_id, serials[0])
            form.scan = "M-006"
            self.assertIn("no empty cell", form.scan_message)
            form.scan = serials[1].lot_id.name
            form.scan = "M-006"
        dialog = form.record
        cells = {
            (line.serial_id.lot_id.name, line.product_id.name): line.lot_id.name
            for line in dialog.line_ids
        }
        self.assertEqual(cells[(serials[0].lot_id.name, "Motor")], "M-005")
        self.assertEqual(cells[(serials[0].lot_id.name, "Screws")], "S-B")
        self.assertEqual(cells[(serials[1].lot_id.name, "Motor")], "M-006")
        self.assertFalse(cells[(serials[1].lot_id.name, "Screws")])

    def test_wrong_quantity_refused(self):
        production = self._mo(qty=2)
        unit = production.planned_serial_ids.sorted("sequence")[0].lot_id.name
        dialog = self._link(production, {0: [(self.motors[0], 1), (self.screws_b, 3)]})
        with self.assertRefused(rf"{unit}: 3 Units of Screws linked, the BoM needs 2"):
            dialog.action_confirm()
        dialog = self._link(production, {0: [(self.motors[0], 1)]})
        with self.assertRefused(rf"{unit}: 0 Units of Screws linked, the BoM needs 2"):
            dialog.action_confirm()
        self.assertFalse(production.planned_serial_ids.link_ids)
        dialog = self._link(production, {0: [(self.motors[0], 1), (self.screws_b, 2)]})
        dialog.action_confirm()
        self.assertEqual(len(production.planned_serial_ids.link_ids), 2)

    def test_lines_given_by_finished_serial(self):
        """Integrations may name the unit by its finished serial number."""
        production = self._mo(qty=1)
        unit = production.planned_serial_ids.lot_id
        dialog = self.env["mrp.production.link.serials"].create(
            {
                "production_id": production.id,
                "line_ids": [
                    Command.create(
                        {
                            "finished_lot_id": unit.id,
                            "product_id": self.motor.id,
                            "lot_id": self.motors[2].id,
                            "quantity": 1,
                        }
                    ),
                    Command.create(
                        {
                            "finished_lot_id": unit.id,
                            "product_id": self.screws.id,
                            "lot_id": self.screws_b.id,
                            "quantity": 2,
                        }
                    ),
                ],
            }
        )
        self.assertEqual(dialog.line_ids.serial_id, production.planned_serial_ids)
        dialog.action_confirm()
        production.button_mark_done()
        self.assertEqual(self._consumed_by(unit)["M-003"], 1)
        other = self._mo(qty=1)
        with self.assertRefused("is not a finished serial planned on"):
            self.env["mrp.production.link.serials"].create(
                {
                    "production_id": other.id,
                    "line_ids": [
                        Command.create(
                            {
                                "finished_lot_id": unit.id,
                                "product_id": self.motor.id,
                                "lot_id": self.motors[3].id,
                            }
                        )
                    ],
                }
            )

    def test_serial_in_two_units_refused(self):
        production = self._mo(qty=2)
        dialog = self._link(
            production,
            {
                0: [(self.motors[0], 1), (self.screws_b, 2)],
                1: [(self.motors[0], 1), (self.screws_b, 2)],
            },
        )
        with self.assertRefused("M-001 of Motor is linked to several units"):
            dialog.action_confirm()
        self.assertFalse(production.planned_serial_ids.link_ids)

    def test_serial_linked_to_another_order_refused(self):
        first = self._mo(qty=1)
        self._link(first, {0: [(self.motors[0], 1), (self.screws_b, 2)]}).action_confirm()
        second = self._mo(qty=1)
        dialog = self._link(second, {0: [(self.motors[0], 1), (self.screws_b, 2)]})
        with self.assertRefused(f"M-001 of Motor is already linked to .* of {first.name}"):
            dialog.action_confirm()

    def test_lot_over_consumed_refused(self):
        production = self._mo(qty=3)
        dialog = self._link(
            production,
            {
                0: [(self.motors[0], 1), (self.screws_a, 2)],
                1: [(self.motors[1], 1), (self.screws_a, 2)],
                2: [(self.motors[2], 1), (self.screws_a, 2)],
            },
        )
        with self.assertRefused(r"S-A of Screws: 6 Units linked .* only 4 is reserved"):
            dialog.action_confirm()
        self.assertFalse(production.planned_serial_ids.link_ids)

    def test_not_linkable_component_refused(self):
        """R000-02: non-inventoried (and untracked) components are never linked."""
        production = self._mo(qty=1)
        glue_lot = self.env["stock.lot"].create({"name": "G-1", "product_id": self.frame.id})
        dialog = self._link(
            production, {0: [(self.motors[0], 1), (self.screws_b, 2), (glue_lot, 1)]}
        )
        with self.assertRefused("Frame is not a component to link"):
            dialog.action_confirm()
        self.assertFalse(
            self._dialog(production).line_ids.filtered(
                lambda ln: ln.product_id in (self.glue | self.frame)
            )
        )

    def test_blocked_component_refused(self):
        self.motors[0].write({"blocked": True, "blocked_reason": "Recall"})
        production = self._mo(qty=1)
        dialog = self._link(production, {0: [(self.motors[0], 1), (self.screws_b, 2)]})
        with self.assertRefused("blocked.*M-001"):
            dialog.action_confirm()

    def test_number_not_in_component_location_refused(self):
        """R000-10: only numbers on hand in the order's component location (or reserved for
        it) are used."""
        elsewhere = self.env["stock.location"].create(
            {
                "name": "Other site",
                "usage": "internal",
                "location_id": self.warehouse.view_location_id.id,
            }
        )
        far = self._create_lot(self.motor, "M-FAR")
        self._put_in_stock(
            self.motor, far, location=self.env["stock.location"].browse(elsewhere.id)
        )
        production = self._mo(qty=1)
        dialog = self._link(production, {0: [(far, 1), (self.screws_b, 2)]})
        with self.assertRefused("M-FAR of Motor: 1 Units linked .* only 0 is reserved"):
            dialog.action_confirm()
        # a serial reserved by another order can't be taken either
        other = self.env["mrp.production"].create(
            {
                "product_id": self.robot.id,
                "bom_id": self._create_bom(self.robot, [(self.motor, 1)], link=False).id,
                "product_qty": 1,
            }
        )
        other.action_confirm()
        other.action_assign()
        taken = other.move_raw_ids.move_line_ids.lot_id
        self.assertTrue(taken)
        dialog = self._link(production, {0: [(taken, 1), (self.screws_b, 2)]})
        with self.assertRefused(f"{taken.name} of Motor: 1 Units linked"):
            dialog.action_confirm()


@tagged("post_install", "-at_install")
class TestAssemblyLinkingProduction(AssemblyCommon):
    def test_produce_gives_per_unit_genealogy(self):
        production = self._mo(qty=3)
        serials = production.planned_serial_ids.sorted("sequence")
        lots = serials.lot_id
        self._fill_and_confirm(production)
        production.button_mark_done()
        orders = self.env["mrp.production"].search([("lot_producing_id", "in", lots.ids)])
        self.assertEqual(len(orders), 3)
        self.assertEqual(set(orders.mapped("state")), {"done"})
        self.assertEqual(
            [self._consumed_by(lot) for lot in lots],
            [
                {"M-001": 1, "S-A": 2, "Frame": 1, "Glue": 1},
                {"M-002": 1, "S-A": 2, "Frame": 1, "Glue": 1},
                {"M-003": 1, "S-B": 2, "Frame": 1, "Glue": 1},
            ],
        )
        # produce_line_ids the reverse
        motor_line = self.env["stock.move.line"].search(
            [
                ("lot_id", "=", self.motors[1].id),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "production"),
            ]
        )
        self.assertEqual(motor_line.produce_line_ids.lot_id, lots[1])
        self.assertEqual(set(lots.mapped("tracking_status")), {"received"})
        self.assertEqual(set(self.motors[:3].mapped("tracking_status")), {"consumed"})
        self.assertFalse(self.env["mrp.production.serial"].search([("lot_id", "in", lots.ids)]))
        # Odoo's Traceability report of unit 2 shows only its own components
        report = self.env["stock.traceability.report"].with_context(
            active_id=lots[1].id, model="stock.lot"
        )
        top = report.get_lines()
        self.assertEqual(len(top), 1)
        children = report.get_lines(
            line_id=top[0]["id"],
            model_id=top[0]["model_id"],
            model_name=top[0]["model"],
            level=top[0]["level"],
            parent_quant=False,
        )
        shown = str([line["columns"] for line in children])
        self.assertIn("M-002", shown)
        self.assertNotIn("M-001", shown)
        self.assertNotIn("M-003", shown)

    def test_genealogy_and_unit_cost_of_linked_units(self):
        """The card's direct components and the unit cost come from each unit's own links."""
        self.motor.standard_price = 100.0
        self.screws.standard_price = 3.0
        self.frame.standard_price = 10.0
        # the stock was put in without valuation: value it at the standard prices
        for product in self.motor | self.screws | self.frame:
            quants = self.env["stock.quant"].search([("product_id", "=", product.id)])
            self.env["stock.valuation.layer"].create(
                [
                    {
                        "product_id": product.id,
                        "company_id": self.env.company.id,
                        "quantity": quant.quantity,
                        "unit_cost": product.standard_price,
                        "value": quant.quantity * product.standard_price,
                        "remaining_qty": quant.quantity,
                        "remaining_value": quant.quantity * product.standard_price,
                        "lot_id": quant.lot_id.id,
                    }
                    for quant in quants
                ]
            )
        production = self._mo(qty=2)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        self._link(
            production,
            {
                0: [(self.motors[3], 1), (self.screws_b, 2)],
                1: [(self.motors[4], 1), (self.screws_a, 1), (self.screws_b, 1)],
            },
        ).action_confirm()
        production.button_mark_done()
        self.assertEqual(lots[0].component_lot_ids, self.motors[3] | self.screws_b)
        self.assertEqual(lots[1].component_lot_ids, self.motors[4] | self.screws_a | self.screws_b)
        self.assertEqual(self.motors[4].used_in_lot_ids, lots[1])
        # motor 100 + 2 screws at 3 + frame 10 (the glue is not valued)
        self.assertEqual(lots.mapped("unit_cost"), [116.0, 116.0])

    def test_linked_numbers_are_what_is_consumed(self):
        """Nothing overwrites the assignment: the reservation took M-001..M-003, the unit
        was linked to M-006, M-006 is consumed."""
        production = self._mo(qty=1)
        self.assertEqual(
            production.move_raw_ids.move_line_ids.filtered(
                lambda ln: ln.product_id == self.motor
            ).lot_id,
            self.motors[0],
        )
        self._link(
            production, {0: [(self.motors[5], 1), (self.screws_b, 1), (self.screws_a, 1)]}
        ).action_confirm()
        production.button_mark_done()
        lot = production.lot_producing_id
        self.assertEqual(
            self._consumed_by(lot), {"M-006": 1, "S-B": 1, "S-A": 1, "Frame": 1, "Glue": 1}
        )
        self.assertEqual(self._on_hand(self.motor, self.motors[0]), 1)
        self.assertEqual(self._on_hand(self.motor, self.motors[5]), 0)

    def test_mark_done_refused_until_linked(self):
        """R000-06, through each path: Produce (button_mark_done), Mass Produce, workorders,
        and the last guard before consumption."""
        production = self._mo(qty=2)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        with self.assertRefused(
            rf"can't be produced before every unit is linked(.|\n)*"
            rf"{lots[0].name}: 1 Units Motor, 2 Units Screws(.|\n)*{lots[1].name}"
        ):
            production.button_mark_done()
        with self.assertRefused("use Link Serial Numbers"):
            production.action_mass_produce()
        batch = self.env["mrp.batch.produce"].create(
            {
                "production_id": production.id,
                "production_text": f"{lots[0].name},M-001,S-A;2\n{lots[1].name},M-002,S-A;2",
            }
        )
        with self.assertRefused("use Link Serial Numbers"):
            batch.action_done()
        # one unit linked, not the other: still refused, naming the missing one only
        self._link(production, {0: [(self.motors[0], 1), (self.screws_b, 2)]}).action_confirm()
        with self.assertRefused(rf"Missing:\n{lots[1].name}: "):
            production.button_mark_done()
        with self.assertRefused("must be produced through Produce"):
            production._post_inventory()
        self.assertEqual(production.state, "confirmed")
        self.assertEqual(self._on_hand(self.motor, self.motors[0]), 1)
        self.assertEqual(len(production.planned_serial_ids), 2)

    def test_mark_done_rechecks_links(self):
        """A number linked earlier that left the component location since is refused at
        production, naming it, and nothing is consumed."""
        production = self._mo(qty=1)
        self._link(production, {0: [(self.motors[5], 1), (self.screws_b, 2)]}).action_confirm()
        self.env["stock.quant"]._update_available_quantity(
            self.motor, self.stock_location, -1, lot_id=self.motors[5]
        )
        with self.assertRefused("M-006 of Motor: 1 Units linked"):
            production.button_mark_done()
        self.assertEqual(production.state, "confirmed")

    def test_partial_production_keeps_rest_in_backorder(self):
        production = self._mo(qty=3)
        serials = production.planned_serial_ids.sorted("sequence")
        lots = serials.lot_id
        self._fill_and_confirm(production)
        production.qty_producing = 2
        self.assertIs(production.button_mark_done(), True)
        produced = self.env["mrp.production"].search(
            [("lot_producing_id", "in", lots.ids), ("state", "=", "done")]
        )
        self.assertEqual(produced.lot_producing_id, lots[:2])
        backorder = serials[2].production_id
        self.assertEqual(backorder.state, "confirmed")
        self.assertEqual(backorder.product_qty, 1)
        self.assertEqual(backorder.planned_serial_ids, serials[2])
        self.assertEqual(
            {(ln.product_id.name, ln.lot_id.name, ln.quantity) for ln in serials[2].link_ids},
            {("Motor", "M-003", 1), ("Screws", "S-B", 2)},
        )
        backorder.button_mark_done()
        self.assertEqual(backorder.state, "done")
        self.assertEqual(self._consumed_by(lots[2])["M-003"], 1)

    def test_quantity_producing_typed_in_the_form_is_kept(self):
        """Odoo forces 1 for a serial product; a linked order keeps the units typed."""
        production = self._mo(qty=3)
        with Form(production) as form:
            form.qty_producing = 2
        self.assertEqual(production.qty_producing, 2)
        plain = self._mo(qty=3, bom=self._create_bom(self.robot, [(self.motor, 1)], link=False))
        with Form(plain) as form:
            form.qty_producing = 2
        self.assertEqual(plain.qty_producing, 1)

    def test_scrapped_component_replaced(self):
        production = self._mo(qty=1)
        self._link(production, {0: [(self.motors[5], 1), (self.screws_b, 2)]}).action_confirm()
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.motor.id,
                "lot_id": self.motors[5].id,
                "production_id": production.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        scrap.do_scrap()
        self.assertFalse(
            production.planned_serial_ids.link_ids.filtered(lambda ln: ln.product_id == self.motor)
        )
        with self.assertRefused("Missing"):
            production.button_mark_done()
        dialog = self._dialog(production)
        cell = dialog.line_ids.filtered(lambda ln: ln.product_id == self.motor)
        self.assertFalse(cell.lot_id)
        cell.lot_id = self.motors[4]
        dialog.action_confirm()
        production.button_mark_done()
        self.assertEqual(self._consumed_by(production.lot_producing_id)["M-005"], 1)

    def test_unbuild_returns_own_components(self):
        production = self._mo(qty=2)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        self._fill_and_confirm(production)
        production.button_mark_done()
        order = self.env["mrp.production"].search([("lot_producing_id", "=", lots[1].id)])
        unbuild = self.env["mrp.unbuild"].create(
            {"product_id": self.robot.id, "mo_id": order.id, "lot_id": lots[1].id, "product_qty": 1}
        )
        unbuild.action_unbuild()
        self.assertEqual(self.motors[1].tracking_status, "received")
        self.assertEqual(self._on_hand(self.motor, self.motors[1]), 1)
        self.assertEqual(self.motors[0].tracking_status, "consumed")
        self.assertEqual(self._on_hand(self.motor, self.motors[0]), 0)
        self.assertEqual(lots[1].tracking_status, "consumed")
        self.assertEqual(lots[0].tracking_status, "received")

    def test_scrap_finished_serial(self):
        production = self._mo(qty=1)
        self._fill_and_confirm(production)
        production.button_mark_done()
        lot = production.lot_producing_id
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.robot.id,
                "lot_id": lot.id,
                "scrap_qty": 1,
                "location_id": self.stock_location.id,
            }
        )
        scrap.do_scrap()
        self.assertEqual(lot.tracking_status, "written_off")

    def test_multi_level(self):
        """A linked sub-assembly serial consumed by a higher-level linked order."""
        arm = self._create_product("Arm", self.code_serial)
        arm_bom = self._create_bom(arm, [(self.motor, 1)])
        arm_mo = self._mo(qty=2, bom=arm_bom)
        self._fill_and_confirm(arm_mo)
        arm_mo.button_mark_done()
        arms = self.env["stock.lot"].search([("product_id", "=", arm.id)], order="name")
        self.assertEqual(len(arms), 2)
        cell = self._create_product("Cell", self.code_serial)
        cell_bom = self._create_bom(cell, [(arm, 1), (self.screws, 1)])
        cell_mo = self._mo(qty=2, bom=cell_bom)
        self._fill_and_confirm(cell_mo)
        cell_mo.button_mark_done()
        cells = self.env["stock.lot"].search([("product_id", "=", cell.id)], order="name")
        first = self._consumed_by(cells[0])
        self.assertEqual(first, {arms[0].name: 1, "S-A": 1})
        self.assertEqual(self._consumed_by(arms[0]), {"M-001": 1})
        self.assertEqual(arms[0].tracking_status, "consumed")

    def test_workorders(self):
        workcenter = self.env["mrp.workcenter"].create({"name": "Assembly line"})
        self.bom.write(
            {
                "operation_ids": [
                    Command.create(
                        {"name": "Assemble", "workcenter_id": workcenter.id, "time_cycle": 10}
                    )
                ]
            }
        )
        production = self._mo(qty=2)
        self.assertTrue(production.workorder_ids)
        production.workorder_ids.button_start()
        with self.assertRefused("can't be produced before every unit is linked"):
            production.button_mark_done()
        self._fill_and_confirm(production)
        lots = production.planned_serial_ids.sorted("sequence").lot_id
        # starting the workorder set Quantity Producing to 1, as in vanilla: one unit now
        self.assertEqual(production.qty_producing, 1)
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(production.lot_producing_id, lots[0])
        self.assertEqual(production.workorder_ids.state, "done")
        backorder = self.env["mrp.production"].search(
            [
                ("procurement_group_id", "=", production.procurement_group_id.id),
                ("state", "!=", "done"),
            ]
        )
        self.assertEqual(backorder.planned_serial_ids.lot_id, lots[1])
        self.assertEqual(len(backorder.planned_serial_ids.link_ids), 2)
        backorder.button_mark_done()
        self.assertEqual(backorder.state, "done")
        self.assertEqual(self._consumed_by(lots[1]), {"M-002": 1, "S-A": 2, "Frame": 1, "Glue": 1})


@tagged("post_install", "-at_install")
class TestAssemblyLinkingAccess(AssemblyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mrp_user = new_test_user(
            cls.env, "sit_mrp_user", groups="mrp.group_mrp_user,stock.group_production_lot"
        )

    def test_links_only_through_the_dialog(self):
        production = self._mo(qty=1)
        serial = production.planned_serial_ids
        Link = self.env["mrp.production.serial.link"].with_user(self.mrp_user)
        with self.assertRaises(AccessError):
            Link.create(
                {"serial_id": serial.id, "product_id": self.motor.id, "lot_id": self.motors[0].id}
            )
        with self.assertRefused("only their number can be changed"):
            serial.with_user(self.mrp_user).write({"production_id": False})
        serial.with_user(self.mrp_user).lot_name = "R-RENAMED"
        self.assertEqual(serial.lot_id.name, "R-RENAMED")
        dialog = self._dialog(production.with_user(self.mrp_user))
        dialog.action_fill_in_order()
        dialog.action_confirm()
        production.with_user(self.mrp_user).button_mark_done()
        self.assertEqual(production.state, "done")

    def test_other_company_cannot_link(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        stranger = new_test_user(
            self.env,
            "sit_mrp_other",
            groups="mrp.group_mrp_user",
            company_id=other.id,
            company_ids=[other.id],
        )
        production = self._mo(qty=1)
        with self.assertRaises(AccessError):
            production.with_user(stranger).action_link_serials()
        self.assertFalse(self.env["mrp.production.serial"].with_user(stranger).search([]))
