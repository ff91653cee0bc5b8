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
