from odoo import models
from odoo.osv import expression
from odoo.tools import float_round


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _compute_quantities_dict(
        self, lot_id, owner_id, package_id, from_date=False, to_date=False
    ):
        """On Hand keeps counting blocked and rejected stock (it is there, and valued); the
        free and forecast quantities, which sales, deliveries and reordering rules read,
        leave it out (issue 16). One query for the whole recordset, and none for products
        that can't carry a lot."""
        res = super()._compute_quantities_dict(lot_id, owner_id, package_id, from_date, to_date)
        unfree = self._get_item_tracking_unfree_quantities(lot_id, owner_id, package_id)
        for product in self.with_context(prefetch_fields=False):
            quantities = unfree.get(product._origin.id)
            if not quantities or product.id not in res:
                continue
            quantity, reserved = quantities
            rounding = product.uom_id.rounding
            values = res[product.id]
            values["free_qty"] = float_round(
                values["free_qty"] - (quantity - reserved), precision_rounding=rounding
            )
            values["virtual_available"] = float_round(
                values["virtual_available"] - quantity, precision_rounding=rounding
            )
        return res

    def _get_item_tracking_unfree_quantities(self, lot_id=None, owner_id=None, package_id=None):
        """{product id: (quantity, reserved quantity)} of the blocked and rejected stock in
        the locations of the context (the same locations the quantities are computed on)."""
        products = self._origin.filtered(lambda product: product.tracking != "none")
        if not products:
            return {}
        domain_quant_loc = self._get_domain_locations()[0]
        Quant = self.env["stock.quant"].with_context(active_test=False)
        domain = expression.AND(
            [
                [("product_id", "in", products.ids)],
                domain_quant_loc,
                Quant._get_item_tracking_unfree_domain(),
            ]
        )
        if lot_id is not None:
            domain = expression.AND([domain, [("lot_id", "=", lot_id)]])
        if owner_id is not None:
            domain = expression.AND([domain, [("owner_id", "=", owner_id)]])
        if package_id is not None:
            domain = expression.AND([domain, [("package_id", "=", package_id)]])
        return {
            product.id: (quantity, reserved)
            for product, quantity, reserved in Quant._read_group(
                domain, ["product_id"], ["quantity:sum", "reserved_quantity:sum"]
            )
        }
