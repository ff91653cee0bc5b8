from odoo import models
from odoo.osv import expression


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _get_gather_domain(
        self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False
    ):
        """Leave out the quants of blocked lots/serials when reserving (R001-22).

        Reservation gathers quants once per move and once more per move line it
        creates, so the filter stays cheap: a given lot is checked in memory, and only
        an open search (any lot) gets a condition, on the few blocked lots (indexed).
        Quants taken from the reservation's ``quants_cache`` are filtered in ``_gather``.
        """
        domain = super()._get_gather_domain(
            product_id, location_id, lot_id, package_id, owner_id, strict
        )
        # Also for products no longer tracked: their quants may still carry a blocked lot.
        if not self.env.context.get("exclude_blocked_lots"):
            return domain
        if lot_id:
            # Only this lot's quants (or quants without a lot) can match.
            if lot_id.blocked:
                domain = expression.AND([domain, [("lot_id", "!=", lot_id.id)]])
        elif not strict:
            domain = expression.AND([domain, [("lot_id", "not any", [("blocked", "=", True)])]])
        return domain

    def _gather(
        self,
        product_id,
        location_id,
        lot_id=None,
        package_id=None,
        owner_id=None,
        strict=False,
        qty=0,
    ):
        quants = super()._gather(product_id, location_id, lot_id, package_id, owner_id, strict, qty)
        context = self.env.context
        if context.get("exclude_blocked_lots") and context.get("quants_cache") is not None:
            # Chained moves reserve from a cache that bypasses the gather domain.
            quants = quants.filtered(lambda quant: not quant.lot_id.blocked)
        return quants
