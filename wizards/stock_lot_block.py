from odoo import api, fields, models
from odoo.exceptions import UserError


class StockLotBlock(models.TransientModel):
    """Block lots/serial numbers with a reason: the list's Blocked toggle and the Action menu
    of the lots list open it, for one or several selected lots. The lots' own write does the
    rest (only Item Tracking Managers may block; a block always has a reason)."""

    _name = "stock.lot.block"
    _description = "Block Lots/Serial Numbers"

    lot_ids = fields.Many2many(
        "stock.lot",
        string="Lots/Serial Numbers",
        required=True,
        default=lambda self: self._default_lot_ids(),
    )
    reason = fields.Char(
        required=True,
        help="Why these lots/serial numbers can't be reserved nor moved, e.g. a quality hold. "
        "It is shown on their card and recorded in their chatter.",
    )

    @api.model
    def _default_lot_ids(self):
        if self.env.context.get("active_model", "stock.lot") != "stock.lot":
            return False
        return self.env["stock.lot"].browse(self.env.context.get("active_ids", []))

    def action_block(self):
        self.ensure_one()
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(
                self.env._(
                    "Enter the reason for blocking these lots/serial numbers: %(lots)s",
                    lots=", ".join(self.lot_ids.mapped("display_name")) or "-",
                )
            )
        if not self.lot_ids:
            raise UserError(self.env._("Select the lots/serial numbers to block."))
        self.lot_ids.write({"blocked": True, "blocked_reason": reason})
        return {"type": "ir.actions.act_window_close"}
