from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "invoice_id", "Serial Numbers"
    )
