from odoo import api, models
from odoo.osv import expression
from odoo.tools import OrderedSet


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

    @api.model
    def _get_quants_by_products_locations(self, product_ids, location_ids, extra_domain=False):
        """Read the quants of lots in Odoo's quants cache, and their lots' properties, at once.

        Odoo's cache (built when move lines are done) holds one recordset per product,
        location, lot, package and owner, each prefetching only itself: validating N serials
        read their N quants one query each, and creating each destination quant read its
        lot's properties one query each (the related ``lot_properties`` is not prefetched).
        Both are read here in one query each (by batches of 1,000), as the superuser like
        Odoo's quant updates that use them. Only for the call that Odoo makes when move lines
        are done, which restricts the cache to the lots of the lines (``extra_domain``), and only
        the quants with a lot: the quants without one, and the reservation's cache of every quant
        under the locations of chained moves (no ``extra_domain``), may be many while a line uses
        a few, and are left to be read as Odoo reads them.
        """
        quants_by_key = super()._get_quants_by_products_locations(
            product_ids, location_ids, extra_domain
        )
        if not extra_domain:
            return quants_by_key
        quant_ids = OrderedSet(
            quant_id for key, quants in quants_by_key.items() if key[2] for quant_id in quants._ids
        )
        if quant_ids:
            lots = self.sudo().browse(quant_ids).mapped("lot_id")
            lots.fetch(["lot_properties"])
        return quants_by_key
