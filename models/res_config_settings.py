from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    item_tracking_default_code_id = fields.Many2one(
        related="company_id.default_item_tracking_code_id", readonly=False
    )
