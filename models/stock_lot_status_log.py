from odoo import fields, models

from .stock_lot import TRACKING_STATUSES


class StockLotStatusLog(models.Model):
    _name = "stock.lot.status.log"
    _description = "Lot/Serial Number Status History"
    _order = "date desc, id desc"
    _rec_name = "lot_id"

    lot_id = fields.Many2one(
        "stock.lot", string="Lot/Serial Number", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one(related="lot_id.product_id")
    company_id = fields.Many2one(
        related="lot_id.company_id", store=True, index=True, precompute=True
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    old_status = fields.Selection(TRACKING_STATUSES)
    new_status = fields.Selection(TRACKING_STATUSES, required=True)
    move_line_id = fields.Many2one("stock.move.line", ondelete="set null")
    reference = fields.Char()
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user)
    note = fields.Char()
