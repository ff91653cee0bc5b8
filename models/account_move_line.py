from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration",
        "invoice_line_id",
        "Serial Numbers",
        help="Serial numbers registered in the sales process that this line invoices.",
    )
    refund_registration_ids = fields.One2many(
        "sale.serial.registration",
        "refund_line_id",
        "Credited Serial Numbers",
        help="Serial numbers of the invoice that this credit note line corrects.",
    )
    lot_allocation_ids = fields.One2many(
        "account.move.line.lot",
        "account_move_line_id",
        "Lots/Serial Numbers",
        help="Lots/serial numbers tracked in stock that this line invoices, with quantities.",
    )
