from odoo import api, fields, models
from odoo.exceptions import AccessError

from .stock_lot import MANAGER_GROUP


class StockLocation(models.Model):
    _inherit = "stock.location"

    item_tracking_allow_blocked = fields.Boolean(
        string="Accepts Blocked Numbers",
        copy=False,
        help="Blocked lots/serial numbers may be moved into this location (quality control: "
        "block, inspect, reject) and scrapped from it. Every other move of a blocked number "
        "stays refused. Set on each company's rejection location.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("item_tracking_allow_blocked") for vals in vals_list):
            self._check_allow_blocked_access(
                [
                    vals.get("name") or "-"
                    for vals in vals_list
                    if vals.get("item_tracking_allow_blocked")
                ]
            )
        return super().create(vals_list)

    def write(self, vals):
        if "item_tracking_allow_blocked" in vals:
            changed = self.filtered(
                lambda location: (
                    location.item_tracking_allow_blocked
                    != bool(vals["item_tracking_allow_blocked"])
                )
            )
            if changed:
                self._check_allow_blocked_access(changed.mapped("display_name"))
        return super().write(vals)

    @api.model
    def _check_allow_blocked_access(self, names):
        """Whether a location accepts blocked numbers is for Item Tracking Managers only,
        whatever the caller sends (no context key lifts it; the superuser passes)."""
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only Item Tracking Managers can change whether these locations accept "
                    "blocked lots/serial numbers: %(locations)s",
                    locations=", ".join(names),
                )
            )
