from odoo import fields, models


class StockLocation(models.Model):
    _inherit = "stock.location"

    item_tracking_allow_blocked = fields.Boolean(
        string="Accepts Blocked Numbers",
        help="Blocked lots/serial numbers may be moved into this location (quality control: "
        "block, inspect, reject) and scrapped from it. Every other move of a blocked number "
        "stays refused. Set on each company's rejection location.",
    )
