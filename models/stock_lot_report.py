from odoo import fields, models


class StockLotReport(models.Model):
    _inherit = "stock.lot.report"

    # The company of the delivery: a record rule shows each reader the deliveries of his
    # allowed companies only (a lot shared between companies is delivered by several).
    company_id = fields.Many2one("res.company", readonly=True)
    tracking_status = fields.Selection(related="lot_id.tracking_status")
    warranty_date = fields.Date(related="lot_id.warranty_date")
    amc_expiry_date = fields.Date(related="lot_id.amc_expiry_date")
    maintenance_status = fields.Selection(related="lot_id.maintenance_status")
    blocked = fields.Boolean(related="lot_id.blocked")

    def _select(self):
        return super()._select() + ", picking.company_id AS company_id"

    def _group_by(self):
        return super()._group_by() + ", picking.company_id"
