from collections import defaultdict

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.lot_number import companies_conflict, lot_number_key


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        """Giving an item tracking code makes the lots' numbers compare trimmed and
        case-insensitively: refused while the product's lots hold such variants (listed)."""
        changed = self.browse()
        if "item_tracking_code_id" in vals:
            gaining = self.browse()
            for template in self.sudo():
                if bool(template.item_tracking_code_id) != bool(vals["item_tracking_code_id"]):
                    changed |= template
                    if vals["item_tracking_code_id"]:
                        gaining |= template
            gaining._check_item_tracking_lot_variants()
        res = super().write(vals)
        if changed:
            products = changed.with_context(active_test=False).product_variant_ids
            lots = self.env["stock.lot"].sudo().search([("product_id", "in", products.ids)])
            lots._item_tracking_set_name_keys(keyed_only=True)
        return res

    def _check_item_tracking_lot_variants(self):
        """Refuse when lots of these templates' variants would be one number once compared
        trimmed and case-insensitively (Odoo's company rule), naming them all."""
        if not self:
            return
        products = self.with_context(active_test=False).product_variant_ids
        self.env["stock.lot"].flush_model(["name", "product_id", "company_id"])
        self.env.cr.execute(
            SQL(
                "SELECT product_id, company_id, name FROM stock_lot WHERE product_id = ANY(%s)",
                products.ids,
            )
        )
        groups = defaultdict(list)
        for product_id, company_id, name in self.env.cr.fetchall():
            groups[product_id, lot_number_key(name)].append((company_id, name))
        lines = []
        for (product_id, _key), rows in groups.items():
            clashing = sorted(
                {
                    name
                    for index, (company, name) in enumerate(rows)
                    for other_company, _other in rows[:index] + rows[index + 1 :]
                    if companies_conflict(company, other_company)
                }
            )
            if len(clashing) > 1 or (clashing and len(rows) > 1):
                product = self.env["product.product"].browse(product_id)
                lines.append(f"{product.display_name}: {', '.join(repr(n) for n in clashing)}")
        if lines:
            raise UserError(
                self.env._(
                    "An item tracking code compares lot/serial numbers without surrounding "
                    "spaces and case: these lots would be the same number. Merge or rename them "
                    "first:\n%(lots)s",
                    lots="\n".join(sorted(lines)),
                )
            )
