from odoo import fields, models


class AccountMoveLineLot(models.Model):
    """A lot/serial number tracked in stock and the quantity of it that an invoice line
    invoices (or a vendor bill line bills), stored so that a reprinted invoice never changes."""

    _name = "account.move.line.lot"
    _description = "Invoiced Lot/Serial Number"
    _order = "account_move_line_id, id"
    _check_company_auto = True

    account_move_line_id = fields.Many2one(
        "account.move.line", "Invoice Line", required=True, index=True, ondelete="cascade"
    )
    account_move_id = fields.Many2one(
        related="account_move_line_id.move_id", string="Invoice", store=True, index=True
    )
    company_id = fields.Many2one(related="account_move_line_id.company_id", store=True, index=True)
    product_id = fields.Many2one(related="account_move_line_id.product_id", store=True)
    lot_id = fields.Many2one(
        "stock.lot",
        "Lot/Serial Number",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    quantity = fields.Float(digits="Product Unit of Measure", required=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
