from odoo import models
from odoo.exceptions import UserError


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    def pre_button_mark_done(self):
        """Check the item tracking rules before any confirmation wizard (product_expiry's
        expired lots question, backorders) and before anything is consumed: components
        (strict expiration replaces product_expiry's question, R001-15) and the number
        being produced."""
        errors = self.move_raw_ids.move_line_ids._get_item_tracking_errors()
        errors += self._get_item_tracking_output_errors()
        if errors:
            raise UserError("\n\n".join(errors))
        return super().pre_button_mark_done()

    def _get_item_tracking_output_errors(self):
        """The produced lot/serial (`lot_producing_id`) is only put on the finished move line
        once the components are consumed, so its rules are checked here: blocked (R001-22),
        manual expiration date (R001-16)."""
        productions = self.filtered("lot_producing_id")
        blocked = productions.filtered(lambda mo: mo.lot_producing_id.blocked)
        undated = productions.filtered(
            lambda mo: (
                mo.product_id.item_tracking_code_id.scope == "inventory"
                and mo.product_id.item_tracking_code_id.expiration_date_required
                and not mo.lot_producing_id.expiration_date
            )
        )
        Line = self.env["stock.move.line"]
        errors = []
        for rule, failing in (("blocked", blocked), ("undated", undated)):
            if failing:
                errors.append(
                    Line._get_item_tracking_message(
                        rule, [(mo.product_id, mo.lot_producing_id.name) for mo in failing]
                    )
                )
        return errors
