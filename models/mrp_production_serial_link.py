from odoo import fields, models


class MrpProductionSerialLink(models.Model):
    """A component serial or lot (with its quantity) linked to a planned finished serial
    before production. What the Link Serial Numbers dialog stores; what production consumes."""

    _name = "mrp.production.serial.link"
    _description = "Component number linked to a planned finished serial"
    _order = "serial_id, product_id, id"
    _check_company_auto = True

    serial_id = fields.Many2one(
        "mrp.production.serial", required=True, index=True, ondelete="cascade"
    )
    production_id = fields.Many2one(related="serial_id.production_id", store=True, index=True)
    company_id = fields.Many2one(related="serial_id.company_id", store=True)
    product_id = fields.Many2one("product.product", string="Component", required=True)
    lot_id = fields.Many2one(
        "stock.lot", string="Lot/Serial Number", required=True, index=True, check_company=True
    )
    quantity = fields.Float(digits="Product Unit of Measure", required=True, default=1.0)
