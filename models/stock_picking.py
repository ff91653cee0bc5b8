from odoo import models

from .stock_move_line import CHECKED_LINES_KEY


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def button_validate(self):
        """The rules are checked once per validation: the lines that passed them in
        `_pre_action_done_hook` are remembered for the `_action_done` of this same call
        only (a change to them in between means a new check)."""
        cache = self.env.cr.cache
        cache[CHECKED_LINES_KEY] = set()  # a validation is under way (nested ones: see below)
        try:
            return super().button_validate()
        finally:
            # A nested validation ends the outer one's record too: its lines get a full check.
            cache.pop(CHECKED_LINES_KEY, None)

    def _pre_action_done_hook(self):
        """Refuse before any wizard (backorder, expired lots) when a rule is broken."""
        lines = self._get_lines_to_validate()
        lines._check_item_tracking_rules()
        lines._remember_checked_for_validation()
        return super()._pre_action_done_hook()

    def _get_lines_to_validate(self):
        """The move lines that validating the pickings will process: those of the picked moves,
        or all of them when nothing is picked (as `_pre_action_done_hook` then picks all)."""
        lines = self.env["stock.move.line"]
        for picking in self:
            moves = picking.move_ids.filtered(lambda m: m.picked and not m.scrapped)
            lines |= (moves or picking.move_ids).move_line_ids
        return lines
