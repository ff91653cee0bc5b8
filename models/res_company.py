from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    default_item_tracking_code_id = fields.Many2one(
        "item.tracking.code",
        domain="[('company_id', 'in', [id, False])]",
        help="Item tracking code given to new storable products.",
    )
