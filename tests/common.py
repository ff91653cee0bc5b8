from contextlib import contextmanager

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user


class ItemTrackingCommon(TransactionCase):
    """Fixtures: one warehouse, tracking codes, serial and lot products, stock helpers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env.user.groups_id += cls.env.ref("stock.group_production_lot")
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customer_location = cls.env.ref("stock.stock_location_customers")
        cls.supplier_location = cls.env.ref("stock.stock_location_suppliers")
        cls.scrap_location = cls.env["stock.location"].search(
            [("scrap_location", "=", True), ("company_id", "in", [cls.env.company.id, False])],
            limit=1,
        )
        cls.partner = cls.env["res.partner"].create({"name": "Contoso Customer"})
        cls.vendor = cls.env["res.partner"].create({"name": "Fabrikam Vendor"})
        Code = cls.env["item.tracking.code"]
        cls.code_serial = Code.create({"name": "SN plain", "tracking": "serial"})
        cls.code_lot = Code.create({"name": "LOT plain", "tracking": "lot"})
        cls.product_serial = cls._create_product("Drill (SN)", cls.code_serial)
        cls.product_lot = cls._create_product("Paint (LOT)", cls.code_lot)
        # The lowest user that reaches lots and operations, and an Item Tracking Manager.
        cls.lowest_user = new_test_user(
            cls.env, "sit_lowest", groups="stock.group_stock_user,stock.group_production_lot"
        )
        cls.tracking_manager = new_test_user(
            cls.env,
            "sit_tracking_manager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )

    @contextmanager
    def assertRefused(self, regex, exception=UserError):
        """Like assertRaisesRegex, and what the refused call wrote is rolled back as the
        request's transaction would be (assertRaisesRegex alone keeps it)."""
        with self.assertRaisesRegex(exception, regex), self.env.cr.savepoint():
            yield

    @classmethod
    def _create_product(cls, name, code=None, **vals):
        return cls.env["product.product"].create(
            {
                "name": name,
                "is_storable": True,
                "item_tracking_code_id": code.id if code else False,
                **vals,
            }
        )

    @classmethod
    def _create_lot(cls, product, name, **vals):
        return cls.env["stock.lot"].create({"name": name, "product_id": product.id, **vals})

    @classmethod
    def _put_in_stock(cls, product, lot, quantity=1.0, location=None):
        cls.env["stock.quant"]._update_available_quantity(
            product, location or cls.stock_location, quantity, lot_id=lot
        )

    @classmethod
    def _receive_from_vendor(cls, product, lots, price=None):
        """A done receipt of `lots` ({name: quantity}, new numbers) of `product` from the
        vendor, at `price` a unit when given; return the picking."""
        move_vals = {
            "name": product.name,
            "product_id": product.id,
            "product_uom_qty": sum(lots.values()),
            "product_uom": product.uom_id.id,
            "location_id": cls.supplier_location.id,
            "location_dest_id": cls.stock_location.id,
        }
        if price is not None:
            move_vals["price_unit"] = price
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.in_type_id.id,
                "partner_id": cls.vendor.id,
                "location_id": cls.supplier_location.id,
                "location_dest_id": cls.stock_location.id,
                "move_ids": [Command.create(move_vals)],
            }
        )
        picking.action_confirm()
        move = picking.move_ids
        move.move_line_ids.unlink()
        cls.env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": product.id,
                    "product_uom_id": product.uom_id.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "lot_name": name,
                    "quantity": quantity,
                }
                for name, quantity in lots.items()
            ]
        )
        move.picked = True
        picking.button_validate()
        return picking

    def _on_hand(self, product, lot=None, location=None):
        """Quantity (reserved or not) of `product`/`lot` in `location` and its children."""
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", product.id),
                ("lot_id", "=", lot.id if lot else False),
                ("location_id", "child_of", (location or self.stock_location).id),
            ]
        )
        return sum(quants.mapped("quantity"))

    def _create_picking(self, picking_type, product, quantity, location=None, location_dest=None):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.partner.id,
                "location_id": (location or picking_type.default_location_src_id).id,
                "location_dest_id": (location_dest or picking_type.default_location_dest_id).id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": (location or picking_type.default_location_src_id).id,
                            "location_dest_id": (
                                location_dest or picking_type.default_location_dest_id
                            ).id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        return picking

    def _set_lines(self, picking, lines):
        """Replace the picking's move lines: `lines` is a list of dicts with `lot_id` (a lot
        record) or `lot_name`, and optional `quantity` (1) and other move line values."""
        move = picking.move_ids
        move.move_line_ids.unlink()
        vals_list = []
        for line in lines:
            vals = {
                "move_id": move.id,
                "picking_id": picking.id,
                "product_id": move.product_id.id,
                "product_uom_id": move.product_uom.id,
                "location_id": move.location_id.id,
                "location_dest_id": move.location_dest_id.id,
                "quantity": 1.0,
                **line,
            }
            if "lot_id" in vals and not isinstance(vals["lot_id"], int):
                vals["lot_id"] = vals["lot_id"].id
            vals_list.append(vals)
        self.env["stock.move.line"].create(vals_list)
        move.picked = True
        return picking

    def _receipt(self, product, lines):
        picking = self._create_picking(
            self.warehouse.in_type_id, product, sum(line.get("quantity", 1.0) for line in lines)
        )
        return self._set_lines(picking, lines)

    def _delivery(self, product, lines):
        picking = self._create_picking(
            self.warehouse.out_type_id, product, sum(line.get("quantity", 1.0) for line in lines)
        )
        return self._set_lines(picking, lines)

    def _validate(self, picking):
        res = picking.button_validate()
        self.assertIs(res, True, "validation should not open a wizard")
        self.assertEqual(picking.state, "done")
        return res

    @staticmethod
    def _now():
        return fields.Datetime.now()


class GenealogyCommon(ItemTrackingCommon):
    """A three-level assembly: purchased chips (serial, standard cost 100) and cells (lot,
    average cost) go into modules (serial, one chip and two cells, a 30-minute operation at
    60 an hour), modules into robots (serial, one module, extra unit cost 4). Orders are
    produced per unit with Odoo's Mass Produce wizard, which gives each finished serial its
    own component lines in `consume_line_ids`."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Category = cls.env["product.category"]
        cls.categ_standard = Category.create(
            {"name": "Standard cost", "property_cost_method": "standard"}
        )
        cls.categ_average = Category.create(
            {"name": "Average cost", "property_cost_method": "average"}
        )
        cls.chip = cls._create_product(
            "Chip", cls.code_serial, categ_id=cls.categ_standard.id, standard_price=100.0
        )
        cls.cell = cls._create_product("Cell", cls.code_lot, categ_id=cls.categ_average.id)
        cls.module = cls._create_product("Module", cls.code_serial, categ_id=cls.categ_average.id)
        cls.robot = cls._create_product("Robot", cls.code_serial, categ_id=cls.categ_average.id)
        cls.workcenter = cls.env["mrp.workcenter"].create(
            {"name": "Assembly bench", "costs_hour": 60.0, "time_start": 0, "time_stop": 0}
        )
        cls.module_bom = cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.module.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [
                    Command.create({"product_id": cls.chip.id, "product_qty": 1}),
                    Command.create({"product_id": cls.cell.id, "product_qty": 2}),
                ],
                "operation_ids": [
                    Command.create(
                        {
                            "name": "Assemble",
                            "workcenter_id": cls.workcenter.id,
                            "time_mode": "manual",
                            "time_cycle_manual": 30.0,
                        }
                    )
                ],
            }
        )
        cls.robot_bom = cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.robot.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [Command.create({"product_id": cls.module.id, "product_qty": 1})],
            }
        )

    @classmethod
    def _receive(cls, product, lots, price):
        """Receive `lots` ({name: quantity}) of `product` from the vendor at `price` a unit;
        return the lots."""
        return cls._receive_from_vendor(product, lots, price).move_line_ids.lot_id

    @classmethod
    def _mass_produce(cls, bom, units, extra_cost=0.0):
        """Produce len(units) serials of `bom` in one order split per unit by Odoo's Mass
        Produce wizard: `units` are its text lines ("FIN,COMP1|COMP2,..."). Return the
        orders."""
        production = cls.env["mrp.production"].create(
            {
                "product_id": bom.product_id.id or bom.product_tmpl_id.product_variant_id.id,
                "bom_id": bom.id,
                "product_qty": len(units),
                "extra_cost": extra_cost,
            }
        )
        production.action_confirm()
        wizard = cls.env["mrp.batch.produce"].create(
            {"production_id": production.id, "production_text": "\n".join(units)}
        )
        wizard.action_done()
        productions = production.procurement_group_id.mrp_production_ids
        assert set(productions.mapped("state")) == {"done"}, productions.mapped("state")
        return productions

    @classmethod
    def _build_robots(cls, count=2):
        """Chips CHIP-i, cells CELL-A (2 at 10) and CELL-B (2 at 16) make MOD-i (MOD-1 with
        CELL-A, MOD-2 with CELL-B...), which make ROB-i."""
        cls.chips = cls._receive(cls.chip, {f"CHIP-{i}": 1 for i in range(1, count + 1)}, 100.0)
        cls.cell_a = cls._receive(cls.cell, {"CELL-A": count}, 10.0)
        cls.cell_b = cls._receive(cls.cell, {"CELL-B": count}, 16.0)
        cells = ["CELL-A;2" if i % 2 else "CELL-B;2" for i in range(1, count + 1)]
        cls.module_orders = cls._mass_produce(
            cls.module_bom,
            [f"MOD-{i},CHIP-{i},{cells[i - 1]}" for i in range(1, count + 1)],
        )
        cls.robot_orders = cls._mass_produce(
            cls.robot_bom, [f"ROB-{i},MOD-{i}" for i in range(1, count + 1)], extra_cost=4.0
        )
        Lot = cls.env["stock.lot"]
        cls.modules = Lot.search([("product_id", "=", cls.module.id)], order="name")
        cls.robots = Lot.search([("product_id", "=", cls.robot.id)], order="name")
