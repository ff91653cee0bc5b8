from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "sale_line_id", "Serial Numbers"
    )
