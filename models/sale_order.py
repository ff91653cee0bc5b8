from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "order_id", "Serial Numbers"
    )
