from odoo import api, fields, models


class StockPickingRegisterSerialsLine(models.TransientModel):
    _name = "stock.picking.register.serials.line"
    _description = "Serial Number to Register"
    _order = "sequence, id"

    wizard_id = fields.Many2one("stock.picking.register.serials", required=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Serial Number")
    not_readable = fields.Boolean()
    move_id = fields.Many2one("stock.move", "Delivery Line")
    invoice_line_id = fields.Many2one("account.move.line")
    product_id = fields.Many2one(
        "product.product", compute="_compute_product_id", store=True, readonly=False
    )
    registration_id = fields.Many2one(
        "sale.serial.registration",
        help="The registration this line shows (empty for a serial to register).",
    )
    proposed = fields.Boolean(
        help="Proposed again: registered on an earlier delivery of this order line that came "
        "back (R002-24)."
    )

    @api.depends("move_id", "invoice_line_id")
    def _compute_product_id(self):
        for line in self:
            line.product_id = line.move_id.product_id or line.invoice_line_id.product_id
