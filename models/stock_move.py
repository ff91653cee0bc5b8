from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _update_reserved_quantity(
        self, need, location_id, lot_id=None, package_id=None, owner_id=None, strict=True
    ):
        """Blocked lots/serials are never reserved (R001-22)."""
        return super(
            StockMove, self.with_context(exclude_blocked_lots=True)
        )._update_reserved_quantity(need, location_id, lot_id, package_id, owner_id, strict)

    def _get_available_quantity(
        self,
        location_id,
        lot_id=None,
        package_id=None,
        owner_id=None,
        strict=False,
        allow_negative=False,
    ):
        return super(
            StockMove, self.with_context(exclude_blocked_lots=True)
        )._get_available_quantity(location_id, lot_id, package_id, owner_id, strict, allow_negative)
