import math

from odoo import api, fields, models
from odoo.exceptions import UserError


class MrpProductionLinkSerialsLine(models.TransientModel):
    """One cell of the Link Serial Numbers dialog: a component number (and its quantity)
    going into one finished serial."""

    _name = "mrp.production.link.serials.line"
    _description = "Component number of a finished serial in Link Serial Numbers"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "mrp.production.link.serials", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer()
    serial_id = fields.Many2one("mrp.production.serial", string="Unit", required=True)
    finished_lot_id = fields.Many2one(
        related="serial_id.lot_id", string="Finished Serial Number", readonly=True
    )
    finished_lot_name = fields.Char(related="serial_id.lot_id.name", string="Finished Serial")
    product_id = fields.Many2one("product.product", string="Component", required=True)
    tracking = fields.Selection(related="product_id.tracking")
    lot_id = fields.Many2one(
        "stock.lot",
        string="Lot/Serial Number",
        domain="[('product_id', '=', product_id)]",
    )
    quantity = fields.Float(digits="Product Unit of Measure", default=1.0)
    uom_id = fields.Many2one(related="product_id.uom_id")
    lot_blocked = fields.Boolean(related="lot_id.blocked")

    @api.model_create_multi
    def create(self, vals_list):
        """A line may name its unit by the finished serial (`finished_lot_id`) instead of the
        planned serial record."""
        Serial = self.env["mrp.production.serial"]
        for vals in vals_list:
            self._check_quantity_value(vals)
            lot_id = vals.pop("finished_lot_id", False)
            if lot_id and not vals.get("serial_id") and vals.get("wizard_id"):
                wizard = self.env["mrp.production.link.serials"].browse(vals["wizard_id"])
                serial = Serial.search(
                    [("production_id", "=", wizard.production_id.id), ("lot_id", "=", lot_id)],
                    limit=1,
                )
                if not serial:
                    raise UserError(
                        self.env._(
                            "%(lot)s is not a finished serial planned on %(order)s.",
                            lot=self.env["stock.lot"].browse(lot_id).display_name,
                            order=wizard.production_id.display_name,
                        )
                    )
                vals["serial_id"] = serial.id
        return super().create(vals_list)

    def write(self, vals):
        self._check_quantity_value(vals)
        return super().write(vals)

    def _check_quantity_value(self, vals):
        """A quantity that is not a number (NaN, infinity: JSON-RPC accepts them) is refused
        before the ORM chokes on it."""
        quantity = vals.get("quantity")
        if isinstance(quantity, float) and not math.isfinite(quantity):
            raise UserError(self.env._("Enter a quantity (a number) on each line."))

    @api.onchange("lot_id")
    def _onchange_lot_id(self):
        if self.tracking == "serial":
            self.quantity = 1.0
