from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL


class StockQuant(models.Model):
    """Blocked and rejected stock is on hand but not free to use (issue 16 item 1)."""

    _inherit = "stock.quant"

    item_tracking_lot_blocked = fields.Boolean(related="lot_id.blocked", string="Blocked")
    item_tracking_lot_blocked_reason = fields.Text(
        related="lot_id.blocked_reason", string="Blocked Reason"
    )

    @api.depends("location_id", "lot_id", "package_id", "owner_id", "lot_id.blocked")
    def _compute_display_name(self):
        """The detailed operations' "Pick From" shows a blocked number as such."""
        res = super()._compute_display_name()
        for quant in self.filtered("lot_id.blocked"):
            quant.display_name = self.env._("%(name)s (Blocked)", name=quant.display_name)
        return res

    @api.model
    def _get_item_tracking_unfree_domain(self):
        """Quants that are on hand but not free to use: those of a blocked lot/serial and
        those in a company's rejection location. One domain, evaluated inside the caller's
        query (no query of its own)."""
        return [
            "|",
            ("lot_id", "any", [("blocked", "=", True)]),
            ("location_id", "in", self._get_item_tracking_reject_location_sql()),
        ]

    @api.model
    def _get_item_tracking_free_domain(self):
        return [
            ("lot_id", "not any", [("blocked", "=", True)]),
            ("location_id", "not in", self._get_item_tracking_reject_location_sql()),
        ]

    @api.model
    def _get_item_tracking_reject_location_sql(self):
        return SQL(
            "(SELECT item_tracking_reject_location_id FROM res_company"
            " WHERE item_tracking_reject_location_id IS NOT NULL)"
        )

    @api.model
    def _read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None
    ):
        """With ``item_tracking_free_stock_only`` (set by the add-on around the forecast's
        computation of the stock it can promise), leave out the stock that isn't free."""
        if self.env.context.get("item_tracking_free_stock_only"):
            domain = expression.AND([domain, self._get_item_tracking_free_domain()])
        return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)
