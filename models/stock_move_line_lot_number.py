from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL

from ..tools.lot_number import companies_conflict, lot_number_key
from ..tools.lot_status import STOCK_USAGES


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    @api.model_create_multi
    def create(self, vals_list):
        self._item_tracking_clean_lot_name_vals(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("lot_name"):
            product_ids = (
                {vals["product_id"]} if vals.get("product_id") else set(self.product_id.ids)
            )
            coded = self.env["stock.lot"]._item_tracking_coded_products(product_ids)
            if coded:
                clean = self.env["stock.lot"]._item_tracking_clean_numbers([vals["lot_name"]])[0]
                targets = self.filtered(
                    lambda ml: (vals.get("product_id") or ml.product_id.id) in coded.ids
                )
                if targets != self:
                    res = super(StockMoveLine, self - targets).write(vals)
                    return targets.write({**vals, "lot_name": clean}) and res
                vals = {**vals, "lot_name": clean}
        return super().write(vals)

    @api.model
    def _item_tracking_clean_lot_name_vals(self, vals_list):
        """Typed, scanned, pasted or generated `lot_name`s of products with a code: cleaned,
        bad ones refused, a serial given twice in the batch refused (all named)."""
        with_names = [vals for vals in vals_list if vals.get("lot_name")]
        if not with_names:
            return
        move_products = {}
        move_ids = {vals["move_id"] for vals in with_names if vals.get("move_id")}
        if move_ids:
            move_products = {
                move.id: move.product_id.id for move in self.env["stock.move"].browse(move_ids)
            }
        Lot = self.env["stock.lot"]
        product_of = [
            vals.get("product_id") or move_products.get(vals.get("move_id")) for vals in with_names
        ]
        coded = Lot._item_tracking_coded_products(set(product_of) - {None, False})
        if not coded:
            return
        serial_names = defaultdict(list)
        targets = [
            (vals, pid)
            for vals, pid in zip(with_names, product_of, strict=True)
            if pid in coded.ids
        ]
        cleaned = Lot._item_tracking_clean_numbers(
            [vals["lot_name"] for vals, _pid in targets], unique=False
        )
        for (vals, product_id), clean in zip(targets, cleaned, strict=True):
            vals["lot_name"] = clean
            serial_names[product_id].append(clean)
        for product in coded.filtered(lambda p: p.tracking == "serial"):
            if product.id in serial_names:
                Lot._item_tracking_check_no_repeats(serial_names[product.id], product)

    def _action_done(self):
        self._item_tracking_resolve_lot_names()
        return super()._action_done()

    def _create_and_assign_production_lot(self):
        """The numbers that a validation brings into stock from outside (from a vendor, a
        customer, production or an inventory location to a stock location) get no "created"
        note in their chatter: their first status history line records the operation that
        created them, with its date and user (`stock.lot.status.log`, written by the same
        validation). Odoo's note is one `mail.message` per number, most of the time that a
        receipt of many serials takes. The other numbers keep it: typed on an operation that
        takes them out of stock or that doesn't bring them into stock (whose status may not
        change), of a product that isn't storable (no status), and the lots created otherwise
        (form, import, generator, inventory adjustment). A number is created once for all its
        lines, as Odoo does: a number with any line of the second kind keeps its note."""
        kept = {
            (ml.product_id.id, ml.lot_name)
            for ml in self
            if ml.location_id.usage in STOCK_USAGES
            or ml.location_dest_id.usage not in STOCK_USAGES
            or not ml.product_id.is_storable
        }
        quiet = self.filtered(lambda ml: (ml.product_id.id, ml.lot_name) not in kept)
        res = None
        if quiet:
            res = super(
                StockMoveLine, quiet.with_context(mail_create_nolog=True)
            )._create_and_assign_production_lot()
        if quiet != self:
            res = super(StockMoveLine, self - quiet)._create_and_assign_production_lot()
        return res

    def _item_tracking_resolve_lot_names(self):
        """A typed number of a product with a code that is an existing lot's number once
        compared trimmed and case-insensitively (` sn1 ` for `SN1`) gets that lot's number,
        so that Odoo's own lookup finds the lot instead of creating a second one."""
        lines = self.filtered(lambda ml: ml.lot_name and not ml.lot_id and ml.state != "done")
        if not lines:
            return
        coded = self.env["stock.lot"]._item_tracking_coded_products(lines.product_id.ids)
        lines = lines.filtered(lambda ml: ml.product_id in coded)
        if not lines:
            return
        keys = {ml.id: lot_number_key(ml.lot_name) for ml in lines}
        self.env["stock.lot"].flush_model(["name", "product_id", "company_id"])
        self.env.cr.execute(
            SQL(
                """SELECT product_id, name_key, company_id, name FROM stock_lot
                    WHERE product_id = ANY(%s) AND name_key = ANY(%s)""",
                coded.ids,
                list(set(keys.values())),
            )
        )
        existing = defaultdict(list)
        for product_id, key, company_id, name in self.env.cr.fetchall():
            existing[product_id, key].append((company_id, name))
        for ml in lines:
            for company_id, name in existing.get((ml.product_id.id, keys[ml.id]), []):
                if companies_conflict(company_id, ml.company_id.id) and name != ml.lot_name:
                    ml.lot_name = name
                    break
