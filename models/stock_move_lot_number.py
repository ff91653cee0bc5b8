from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL

from ..tools.lot_number import check_lot_number, companies_conflict, lot_number_key


class StockMove(models.Model):
    _inherit = "stock.move"

    def _generate_serial_numbers(self, next_serial, next_serial_count=False, location_id=False):
        """Odoo's generator, for products with a code: the first number cleaned, every
        generated number checked (a padding that grows past 128 characters...)."""
        count = next_serial_count or self.next_serial_count
        if self.product_id.product_tmpl_id.item_tracking_code_id and count:
            Lot = self.env["stock.lot"]
            next_serial = Lot._item_tracking_clean_numbers([next_serial])[0]
            names = Lot.generate_lot_names(next_serial, count)
            Lot._item_tracking_clean_numbers([vals["lot_name"] for vals in names])
        return super()._generate_serial_numbers(next_serial, next_serial_count, location_id)

    @api.model
    def action_generate_lot_line_vals(self, context, mode, first_lot, count, lot_text):
        """Generate and Import (paste) of Serials/Lots on a receipt, for products with a code:
        bad numbers and numbers pasted twice are refused, all named in one error."""
        Lot = self.env["stock.lot"]
        product_id = context.get("default_product_id")
        if product_id and Lot._item_tracking_coded_products([product_id]):
            if mode == "generate":
                first_lot = Lot._item_tracking_clean_numbers([first_lot])[0]
                names = Lot.generate_lot_names(first_lot, max(count or 0, 1))
                Lot._item_tracking_clean_numbers([vals["lot_name"] for vals in names])
            elif mode == "import":
                names = [vals["lot_name"] for vals in self.split_lots(lot_text)]
                Lot._item_tracking_clean_numbers(names)
            res = super().action_generate_lot_line_vals(context, mode, first_lot, count, lot_text)
            for vals in res:
                if isinstance(vals.get("lot_name"), str):
                    vals["lot_name"] = check_lot_number(vals["lot_name"])[0] or vals["lot_name"]
            return res
        return super().action_generate_lot_line_vals(context, mode, first_lot, count, lot_text)

    def _create_lot_ids_from_move_line_vals(self, vals_list, product_id, company_id=False):
        """For a product with a code, a number that is an existing lot's (trimmed,
        case-insensitive) takes that lot instead of creating a second one."""
        Lot = self.env["stock.lot"]
        if Lot._item_tracking_coded_products([product_id]):
            named = [vals for vals in vals_list if vals.get("lot_name")]
            cleaned = Lot._item_tracking_clean_numbers([vals["lot_name"] for vals in named])
            for vals, clean in zip(named, cleaned, strict=True):
                vals["lot_name"] = clean
            existing = self._item_tracking_existing_names(product_id, company_id, cleaned)
            for vals in named:
                vals["lot_name"] = existing.get(lot_number_key(vals["lot_name"]), vals["lot_name"])
        return super()._create_lot_ids_from_move_line_vals(vals_list, product_id, company_id)

    @api.model
    def _item_tracking_existing_names(self, product_id, company_id, names):
        """{key: name of the existing lot} of `product_id` visible to `company_id`."""
        keys = {lot_number_key(name) for name in names}
        self.env["stock.lot"].flush_model(["name", "product_id", "company_id"])
        self.env.cr.execute(
            SQL(
                """SELECT name_key, company_id, name FROM stock_lot
                    WHERE product_id = %s AND name_key = ANY(%s)""",
                product_id,
                list(keys),
            )
        )
        existing = defaultdict(str)
        for key, lot_company, name in self.env.cr.fetchall():
            if companies_conflict(lot_company, company_id):
                existing[key] = name
        return dict(existing)
