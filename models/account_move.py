from collections import defaultdict

from odoo import fields, models
from odoo.tools.misc import formatLang

from odoo.addons.sale_stock.models.account_move import AccountMove as SaleStockAccountMove

from .account_move_line_lot import LOT_ALLOCATION_MOVE_TYPES


class AccountMove(models.Model):
    _inherit = "account.move"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "invoice_id", "Serial Numbers"
    )

    # ---- Lots/serial numbers stored on invoice lines (issue 14, item 7) ------------------

    def _post(self, soft=True):
        lines = self.invoice_line_ids._filter_lot_allocation_lines()
        edited = lines.filtered("lot_allocation_edited")
        # Refuse before anything is written: the invoice stays a draft, its lots unchanged.
        edited._check_lot_allocations()
        # The lots stored at posting: those proposed against posted invoices only.
        (lines - edited)._propose_lot_allocations(posted_only=True)
        return super()._post(soft=soft)

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reverse_moves = super()._reverse_moves(default_values_list, cancel=cancel)
        reverse_moves._link_lot_allocation_origin_lines()
        return reverse_moves

    def _link_lot_allocation_origin_lines(self):
        """Pair each product line of these credit notes with the line of the invoice it
        reverses (same product, in creation order: a copy keeps it; names may differ,
        odoo/odoo#264776) and credit that line's lots."""
        linked = self.env["account.move.line"]
        for move in self.filtered(
            lambda m: m.reversed_entry_id and m.move_type in LOT_ALLOCATION_MOVE_TYPES
        ):
            origins = defaultdict(list)
            for (
                line
            ) in move.reversed_entry_id.invoice_line_ids._filter_lot_allocation_lines().sorted(
                "id"
            ):
                origins[line.product_id].append(line)
            for line in move.invoice_line_ids._filter_lot_allocation_lines().sorted("id"):
                if origins[line.product_id]:
                    line.sudo().lot_origin_line_id = origins[line.product_id].pop(0)
                    linked |= line
        linked.filtered(lambda line: not line.lot_allocation_edited)._propose_lot_allocations()

    def _get_invoiced_lot_values(self):
        """The lots stored on the lines of a customer invoice/credit note (drafts too), with
        Odoo's keys; other moves as Odoo computes them. Replaces sale_stock's computation at
        print time (first delivered, first invoiced per product at every print)."""
        self.ensure_one()
        if self.move_type not in ("out_invoice", "out_refund"):
            return super()._get_invoiced_lot_values()
        res = self._get_invoiced_lot_values_without_sale_stock()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        for allocation in lines.lot_allocation_ids:
            if not allocation.quantity:
                continue
            # As Odoo: the lot read as superuser, for users without stock access; the
            # allocation itself was read with the user's rights (its company rule).
            lot = allocation.lot_id.sudo()
            res.append(
                {
                    "product_name": lot.product_id.display_name,
                    "quantity": formatLang(
                        self.env, allocation.quantity, dp="Product Unit of Measure"
                    ),
                    "uom_name": lot.product_uom_id.name,
                    "lot_name": lot.name,
                    # The lot id is needed by localizations to inherit the method.
                    "lot_id": lot.id,
                }
            )
        return res

    def _get_invoiced_lot_values_without_sale_stock(self):
        """What the other modules of the chain print (stock_account's [], point_of_sale's
        lots...), without sale_stock's print-time computation that the stored lots replace.
        Modules loaded between sale_stock and this add-on that override the method (e.g.
        point_of_sale, depending on the load order) are still called: then the whole chain
        runs and the rows sale_stock computed (those with a `lot_id`) are dropped."""
        mro = type(self).__mro__
        between = mro[mro.index(AccountMove) + 1 : mro.index(SaleStockAccountMove)]
        if not any("_get_invoiced_lot_values" in vars(cls) for cls in between):
            return super(SaleStockAccountMove, self)._get_invoiced_lot_values()
        return [row for row in super()._get_invoiced_lot_values() if "lot_id" not in row]
