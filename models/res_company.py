from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    default_item_tracking_code_id = fields.Many2one(
        "item.tracking.code",
        domain="[('company_id', 'in', [id, False])]",
        help="Item tracking code given to new storable products.",
    )
    item_tracking_reject_location_id = fields.Many2one(
        "stock.location",
        string="Rejection Location",
        check_company=True,
        help="Where rejected lots/serial numbers go. An internal location outside every "
        "warehouse: its stock is not counted in the products' on hand quantity nor reserved by "
        "the warehouses' operations, and can be scrapped from there.",
    )

    def _create_per_company_locations(self):
        res = super()._create_per_company_locations()
        self._create_item_tracking_reject_location()
        return res

    def _create_item_tracking_reject_location(self):
        parent = self.env.ref("stock.stock_location_locations", raise_if_not_found=False)
        companies = self.filtered(lambda company: not company.item_tracking_reject_location_id)
        if not companies:
            return
        locations = (
            self.env["stock.location"]
            .sudo()
            .create(
                [
                    {
                        "name": self.env._("Rejected"),
                        "usage": "internal",
                        "location_id": parent.id if parent else False,
                        "company_id": company.id,
                        "item_tracking_allow_blocked": True,
                    }
                    for company in companies
                ]
            )
        )
        for company, location in zip(companies, locations, strict=True):
            company.sudo().item_tracking_reject_location_id = location

    def _create_missing_item_tracking_reject_locations(self):
        self.search([])._create_item_tracking_reject_location()

    @api.model
    def _get_item_tracking_reject_locations(self):
        """The rejection locations of every company (stock there is not on hand)."""
        return self.sudo().search([]).item_tracking_reject_location_id
