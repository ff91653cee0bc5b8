from odoo import api, fields, models
from odoo.exceptions import AccessError

MANAGER_GROUP = "stock_item_tracking.group_item_tracking_manager"


class StockLot(models.Model):
    _inherit = "stock.lot"

    item_tracking_code_id = fields.Many2one(related="product_id.item_tracking_code_id")
    blocked = fields.Boolean(
        tracking=True,
        copy=False,
        index=True,
        help="A blocked lot/serial number can't be reserved nor moved by any stock operation. "
        "Only Item Tracking Managers can block or unblock.",
    )
    blocked_reason = fields.Char(tracking=True, copy=False)
    can_block = fields.Boolean(compute="_compute_can_block")
    warranty_date = fields.Date(
        tracking=True,
        copy=False,
        help="Last day of warranty: set on delivery to a customer from the item tracking code's "
        "warranty date formula, or from the date entered on the delivery operation.",
    )

    @api.depends_context("uid")
    def _compute_can_block(self):
        self.can_block = self.env.user.has_group(MANAGER_GROUP)

    @api.depends("product_id")
    def _compute_expiration_date(self):
        """Lots of products whose code asks for manual or no expiration dates get no default."""
        manual = self.filtered(
            lambda lot: lot.item_tracking_code_id.expiration_date_required
            or lot.item_tracking_code_id.ignore_expiration
        )
        for lot in manual:
            lot.expiration_date = lot.expiration_date
        return super(StockLot, self - manual)._compute_expiration_date()

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("blocked") for vals in vals_list):
            self._check_block_access()
        return super().create(vals_list)

    def write(self, vals):
        if "blocked" in vals:
            to_change = self.filtered(lambda lot: lot.blocked != bool(vals["blocked"]))
            if to_change:
                self._check_block_access()
                res = super().write(vals)
                if vals["blocked"]:
                    to_change._free_blocked_reservations()
                return res
        return super().write(vals)

    def _check_block_access(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Item Tracking Managers can block or unblock lots/serial numbers.")
            )

    def _free_blocked_reservations(self):
        """Drop the open reservations of lots that were just blocked (R001-22)."""
        lines = (
            self.env["stock.move.line"]
            .sudo()
            .search(
                [
                    ("lot_id", "in", self.ids),
                    ("state", "not in", ("done", "cancel")),
                    ("picked", "=", False),
                ]
            )
        )
        if lines:
            moves = lines.move_id
            lines.unlink()
            moves._recompute_state()
