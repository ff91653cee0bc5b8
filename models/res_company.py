from odoo import api, fields, models
from odoo.tools import SQL


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
        """Give each company a rejection location: the one an earlier installation left, if
        any, else a new one. Both accept blocked numbers."""
        companies = self.filtered(lambda company: not company.item_tracking_reject_location_id)
        if not companies:
            return
        found = companies._find_item_tracking_reject_locations()
        for company, location in found.items():
            location.sudo().item_tracking_allow_blocked = True
            company.sudo().item_tracking_reject_location_id = location
        companies = companies.filtered(lambda company: company not in found)
        if not companies:
            return
        parent = self.env.ref("stock.stock_location_locations", raise_if_not_found=False)
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

    def _find_item_tracking_reject_locations(self):
        """The rejection locations an earlier installation left, by company. Uninstalling
        drops the company's field and the location's flag, not the location (nor the stock
        rejected into it): an active internal location of the company right under Physical
        Locations, named "Rejected" in English or in an installed language, that no company
        uses as its rejection location. The oldest one when there are several."""
        parent = self.env.ref("stock.stock_location_locations", raise_if_not_found=False)
        if not parent or not self:
            return {}
        names = {"Rejected"} | {
            self.with_context(lang=code).env._("Rejected")
            for code, _name in self.env["res.lang"].get_installed()
        }
        locations = (
            self.env["stock.location"]
            .sudo()
            .search(
                [
                    ("location_id", "=", parent.id),
                    ("company_id", "in", self.ids),
                    ("usage", "=", "internal"),
                    ("name", "in", sorted(names)),
                ],
                order="id",
            )
        )
        taken = (
            self.sudo()
            .search([("item_tracking_reject_location_id", "in", locations.ids)])
            .item_tracking_reject_location_id
        )
        found = {}
        for location in locations - taken:
            found.setdefault(location.company_id, location)
        return found

    def _create_missing_item_tracking_reject_locations(self):
        self.search([])._create_item_tracking_reject_location()

    @api.model
    def _get_item_tracking_reject_locations(self):
        """The rejection locations of every company (stock there is not on hand)."""
        return self.sudo().search([]).item_tracking_reject_location_id

    @api.model
    def _get_item_tracking_reject_location_ids(self, locations):
        """The ids of `locations` that are a company's rejection location, told by the
        locations' own companies (the ORM has them at hand when it has the locations); a
        search only for internal locations without company."""
        rejects = {
            location.id
            for location in locations.sudo()
            if location.company_id.active
            and location.company_id.item_tracking_reject_location_id == location
        }
        loose = locations.filtered(
            lambda location: not location.company_id and location.usage == "internal"
        )
        if loose:
            rejects |= set(self._get_item_tracking_reject_locations().ids) & set(loose.ids)
        return rejects

    @api.model
    def _item_tracking_reject_locations_sql(self):
        """The rejection locations of every company, as an SQL subquery (ids)."""
        return SQL(
            "SELECT item_tracking_reject_location_id FROM res_company"
            " WHERE active AND item_tracking_reject_location_id IS NOT NULL"
        )
