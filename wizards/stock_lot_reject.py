from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class StockLotReject(models.TransientModel):
    _name = "stock.lot.reject"
    _description = "Reject Lots/Serial Numbers"

    reason = fields.Text(required=True)
    lot_ids = fields.Many2many(
        "stock.lot",
        string="Lots/Serial Numbers",
        default=lambda self: (
            self.env["stock.lot"].browse(self.env.context.get("active_ids", []))
            if self.env.context.get("active_model", "stock.lot") == "stock.lot"
            else False
        ),
    )

    @api.constrains("reason")
    def _check_reason(self):
        for wizard in self:
            if not (wizard.reason or "").strip():
                raise ValidationError(
                    self.env._(
                        "Enter the reason for rejecting these lots/serial numbers: %(lots)s",
                        lots=", ".join(wizard._get_lots().mapped("display_name")) or "-",
                    )
                )

    def action_confirm(self):
        """Move the on hand quantities of the lots to their company's rejection location."""
        self.ensure_one()
        lots = self._get_lots()
        if not lots:
            raise UserError(self.env._("Select the lots/serial numbers to reject."))
        self._check_not_picked(lots)
        quants = self._get_quants_to_reject(lots)
        missing = lots - quants.lot_id
        if missing:
            raise UserError(
                self.env._(
                    "These lots/serial numbers have no quantity on hand to reject: %(lots)s",
                    lots=", ".join(missing.mapped("display_name")),
                )
            )
        lots._free_blocked_reservations()
        moves = self._move_to_rejection_locations(quants)
        logs = (
            self.env["stock.lot.status.log"]
            .sudo()
            .search([("move_line_id", "in", moves.move_line_ids.ids)])
        )
        logs.write({"note": self.reason})
        body = Markup("<p>%s</p>") % self.env._("Rejected: %(reason)s", reason=self.reason)
        lots._message_log_batch(bodies={lot.id: body for lot in lots})
        return {"type": "ir.actions.act_window_close"}

    def _get_quants_to_reject(self, lots):
        """The lots' positive quants in internal locations, rejection locations excepted."""
        return self.env["stock.quant"].search(
            [
                ("lot_id", "in", lots.ids),
                ("location_id.usage", "=", "internal"),
                (
                    "location_id",
                    "not in",
                    self.env["res.company"]._get_item_tracking_reject_locations().ids,
                ),
                ("quantity", ">", 0),
            ]
        )

    def _move_to_rejection_locations(self, quants):
        """Move the quants, unpacked, to their company's rejection location with Odoo's own
        quant moves (those of `stock.quant.move_quants`, which gives no moves back); return
        the done moves."""
        quants.company_id._create_item_tracking_reject_location()
        name = self.env._("Rejection: %(reason)s", reason=self.reason)
        move_vals = []
        for quant in quants:
            vals = quant.with_context(inventory_name=name)._get_inventory_move_values(
                quant.quantity,
                quant.location_id,
                quant.company_id.item_tracking_reject_location_id,
                package_id=quant.package_id,
            )
            vals["name"] = name  # without the counting user the quant may name
            move_vals.append(vals)
        moves = self.env["stock.move"].create(move_vals)
        moves._action_done()
        return moves

    def _get_lots(self):
        return self.lot_ids or self.env["stock.lot"].browse(self.env.context.get("active_ids", []))

    def _check_not_picked(self, lots):
        """Refuse to reject numbers already picked on an open operation: the picker has them
        in hand, and validating that operation after the rejection would take stock that is
        no longer there. (Reservations not picked yet are simply dropped.)"""
        picked = lots._get_open_move_lines(picked=True).filtered(
            lambda ml: ml.location_id.usage == "internal"
        )
        if picked:
            raise UserError(
                self.env._(
                    "These lots/serial numbers are picked on open operations; unpick them "
                    "there before rejecting them:\n%(lines)s",
                    lines="\n".join(
                        f"- {ml.lot_id.display_name}: {ml.reference or ml.move_id.name}"
                        for ml in picked
                    ),
                )
            )
