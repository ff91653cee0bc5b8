from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "picking_id", "Serial Numbers"
    )

    def _pre_action_done_hook(self):
        """Refuse before any wizard (backorder, expired lots) when a rule is broken. The
        lines' `_action_done` checks them again: that covers every other path that moves
        stock, and costs two small queries per validation."""
        self._get_lines_to_validate()._check_item_tracking_rules()
        return super()._pre_action_done_hook()

    def _get_lines_to_validate(self):
        """The move lines that validating the pickings will process: those of the picked moves,
        or all of them when nothing is picked (as `_pre_action_done_hook` then picks all)."""
        lines = self.env["stock.move.line"]
        for picking in self:
            moves = picking.move_ids.filtered(lambda m: m.picked and not m.scrapped)
            lines |= (moves or picking.move_ids).move_line_ids
        return lines
