from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def action_view_stock_lots(self):
        """Odoo's Lot/Serial Numbers button: the lots delivered to the partner, with their
        status, warranty and maintenance (the list of `stock.lot.report`), titled after the
        customer. The lines of another company's deliveries are hidden by a record rule."""
        action = super().action_view_stock_lots()
        partner = self[:1].commercial_partner_id
        action["name"] = self.env._("Serials of %(partner)s", partner=partner.display_name)
        return action
