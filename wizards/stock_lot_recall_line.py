from odoo import fields, models
from odoo.exceptions import UserError


class StockLotRecallLine(models.TransientModel):
    _name = "stock.lot.recall.line"
    _description = "Number Affected by a Recall"
    _order = "level, product_id, lot_id"
    _rec_name = "lot_id"

    recall_id = fields.Many2one("stock.lot.recall", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="recall_id.company_id", store=True)
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial Number", required=True)
    product_id = fields.Many2one("product.product", required=True)
    level = fields.Integer(help="1: made directly from a recalled number; 2: from those...")
    tracking_status = fields.Selection(related="lot_id.tracking_status")
    blocked = fields.Boolean(related="lot_id.blocked")
    location_id = fields.Many2one("stock.location", string="Current Location")
    quantity = fields.Float(string="On Hand", digits="Product Unit of Measure")
    in_stock = fields.Boolean(string="In Company Stock")
    customer_id = fields.Many2one("res.partner")
    customer_address = fields.Char(compute="_compute_customer_address")
    picking_ids = fields.Many2many(
        "stock.picking",
        "stock_lot_recall_line_picking_rel",
        "line_id",
        "picking_id",
        string="Open Deliveries",
        help="Open deliveries reserving the number.",
    )
    sale_order_ids = fields.Many2many(
        "sale.order",
        "stock_lot_recall_line_sale_order_rel",
        "line_id",
        "order_id",
        string="Open Sales Orders",
        help="Sales orders of those deliveries.",
    )

    def _compute_customer_address(self):
        for line in self:
            line.customer_address = (
                line.customer_id._display_address(without_company=True)
                if line.customer_id
                else False
            )

    def action_open_block_affected(self):
        """The list's "Block Affected" button: ask the reason (`stock.lot.recall`)."""
        recall = (
            self.recall_id[:1]
            or self.env["stock.lot.recall"]
            .browse(self.env.context.get("item_tracking_recall_id"))
            .exists()
        )
        if not recall:
            raise UserError(self.env._("Open the recall impact of lots/serial numbers first."))
        return recall._get_block_action()
