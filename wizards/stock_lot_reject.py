from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
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
        self._check_reason()
        self._check_not_picked(lots)
        lots._free_blocked_reservations()
        companies = lots.company_id | self.env.company
        companies._create_item_tracking_reject_location()
        reject_locations = companies.item_tracking_reject_location_id
        quants = self.env["stock.quant"].search(
            [
                ("lot_id", "in", lots.ids),
                ("location_id.usage", "=", "internal"),
                ("location_id", "not in", reject_locations.ids),
                ("quantity", ">", 0),
            ]
        )
        missing = lots - quants.lot_id
        if missing:
            raise UserError(
                self.env._(
                    "These lots/serial numbers have no quantity on hand to reject: %(lots)s",
                    lots=", ".join(missing.mapped("display_name")),
                )
            )
        by_move = defaultdict(lambda: self.env["stock.quant"])
        for quant in quants:
            by_move[quant.product_id, quant.location_id] |= quant
        name = self.env._("Rejection: %(reason)s", reason=self.reason)
        move_vals = []
        for (product, location), product_quants in by_move.items():
            company = location.company_id or self.env.company
            destination = company.item_tracking_reject_location_id
            move_vals.append(
                {
                    "name": name,
                    "product_id": product.id,
                    "product_uom": product.uom_id.id,
                    "product_uom_qty": sum(product_quants.mapped("quantity")),
                    "location_id": location.id,
                    "location_dest_id": destination.id,
                    "company_id": company.id,
                    "origin": name,
                    "picked": True,
                    "move_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_id": product.uom_id.id,
                                "lot_id": quant.lot_id.id,
                                "package_id": quant.package_id.id,
                                "result_package_id": False,
                                "owner_id": quant.owner_id.id,
                                "quantity": quant.quantity,
                                "location_id": location.id,
                                "location_dest_id": destination.id,
                                "company_id": company.id,
                                "picked": True,
                            }
                        )
                        for quant in product_quants
                    ],
                }
            )
        moves = self.env["stock.move"].create(move_vals)
        moves._action_confirm(merge=False)
        moves._action_done()
        logs = (
            self.env["stock.lot.status.log"]
            .sudo()
            .search([("move_line_id", "in", moves.move_line_ids.ids)])
        )
        logs.write({"note": self.reason})
        body = Markup("<p>%s</p>") % self.env._("Rejected: %(reason)s", reason=self.reason)
        lots._message_log_batch(bodies={lot.id: body for lot in lots})
        return {"type": "ir.actions.act_window_close"}

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
