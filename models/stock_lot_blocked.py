from odoo import api, models


class StockLot(models.Model):
    _inherit = "stock.lot"

    @api.depends("name", "blocked")
    @api.depends_context("active_picking_id", "item_tracking_mark_blocked")
    def _compute_display_name(self):
        """Where a user picks a lot/serial for an operation (the lot fields of the detailed
        operations pass ``active_picking_id``), a blocked one reads "... (Blocked)"."""
        res = super()._compute_display_name()
        context = self.env.context
        if context.get("active_picking_id") or context.get("item_tracking_mark_blocked"):
            for lot in self.filtered("blocked"):
                lot.display_name = self.env._("%(name)s (Blocked)", name=lot.display_name)
        return res
