from odoo import models
from odoo.osv import expression


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _get_gather_domain(
        self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False
    ):
        domain = super()._get_gather_domain(
            product_id, location_id, lot_id, package_id, owner_id, strict
        )
        if self.env.context.get("exclude_blocked_lots") and product_id.tracking != "none":
            domain = expression.AND(
                [domain, ["|", ("lot_id", "=", False), ("lot_id.blocked", "=", False)]]
            )
        return domain
