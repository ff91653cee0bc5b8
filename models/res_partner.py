from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    item_tracking_lot_count = fields.Integer(
        string="Serials", compute="_compute_item_tracking_lot_count"
    )

    def _item_tracking_lot_domain(self):
        self.ensure_one()
        return [("customer_id", "child_of", self.commercial_partner_id.id)]

    @api.depends_context("uid", "company", "allowed_company_ids")
    def _compute_item_tracking_lot_count(self):
        """Lots the user may read whose customer (in the current company) is the partner."""
        Lot = self.env["stock.lot"]
        if not Lot.has_access("read"):
            self.item_tracking_lot_count = 0
            return
        for partner in self:
            partner.item_tracking_lot_count = (
                Lot.search_count(partner._item_tracking_lot_domain()) if partner.id else 0
            )

    def action_view_item_tracking_lots(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock.action_production_lot_form")
        list_view = self.env.ref("stock_item_tracking.view_stock_lot_list_customer")
        action.update(
            name=self.env._("Serials of %(partner)s", partner=self.commercial_partner_id.name),
            domain=self._item_tracking_lot_domain(),
            context={"create": False, "search_default_group_by_location": False},
            views=[(list_view.id, "list"), (False, "form")],
            view_mode="list,form",
        )
        return action
