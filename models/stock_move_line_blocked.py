from odoo import api, models


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    @api.onchange("lot_id", "quant_id")
    def _onchange_item_tracking_blocked_lot(self):
        """Warn as soon as a line picks a blocked lot/serial (UI comfort only: saving such
        a line is refused by ``_check_item_tracking_reservations``, whatever the path)."""
        lot = self.quant_id.lot_id or self.lot_id
        if not lot.blocked:
            return None
        if self._item_tracking_blocked_move_allowed(
            self.quant_id.location_id or self.location_id, self.location_dest_id
        ):
            return None
        return {
            "warning": {
                "title": self.env._("Blocked lot/serial number"),
                "message": self.env._(
                    "%(lot)s of %(product)s is blocked (%(reason)s): it isn't available and "
                    "can't be reserved nor moved.",
                    lot=lot.name,
                    product=lot.product_id.display_name,
                    reason=(lot.blocked_reason or "").strip() or self.env._("no reason given"),
                ),
            }
        }
