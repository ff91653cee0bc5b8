from odoo import api, fields, models


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

    @api.onchange("lot_id")
    def _onchange_lot_id(self):
        if self.tracking == "serial":
            self.quantity = 1.0
