from odoo import api, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # Variants of an existing template (e.g. from its attributes) keep its code.
            if not vals.get("product_tmpl_id"):
                self.env["product.template"]._prepare_item_tracking_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        # Inherited fields are written on the template without calling its write().
        self.product_tmpl_id._check_tracking_write(vals)
        return super().write(vals)
