from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from odoo.addons.sale_stock.models.account_move import AccountMove as SaleStockAccountMove

from .account_move_line_lot import LOT_ALLOCATION_MOVE_TYPES


class AccountMove(models.Model):
    _inherit = "account.move"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "invoice_id", "Serial Numbers"
    )
    serial_registration_count = fields.Integer(compute="_compute_serial_registration_count")
    has_registration_serials = fields.Boolean(compute="_compute_serial_registration_count")

    @api.depends("serial_registration_ids", "invoice_line_ids.product_id")
    def _compute_serial_registration_count(self):
        Registration = self.env["sale.serial.registration"]
        counts = dict(
            Registration._read_group([("invoice_id", "in", self.ids)], ["invoice_id"], ["__count"])
        )
        credited = dict(
            Registration._read_group(
                [("refund_line_id.move_id", "in", self.ids)], ["refund_line_id"], ["__count"]
            )
        )
        credited_by_move = defaultdict(int)
        for line, count in credited.items():
            credited_by_move[line.move_id] += count
        for move in self:
            move.serial_registration_count = counts.get(move, 0) + credited_by_move[move]
            move.has_registration_serials = bool(
                move.invoice_line_ids._item_tracking_registration_lines()
                or move.serial_registration_count
            )

    def action_post(self):
        """Posting by a user in front of the invoice: lines whose serials are not all
        registered (nothing was registered on the delivery, or the invoice comes first)
        open the registration dialog (R002-07). Postings without a user (scheduled,
        automatic) go through `_post` and don't stop: serial number control then applies at
        delivery."""
        dialog = self._item_tracking_registration_dialog()
        if dialog:
            return dialog
        return super().action_post()

    def _item_tracking_registration_dialog(self):
        done_ids = set(self.env.context.get("serial_registration_invoice_ids") or [])
        for move in self:
            if move.id in done_ids or move.state != "draft":
                continue
            lines = move.invoice_line_ids._item_tracking_registration_lines()
            lines.filtered(
                lambda ln: ln.sale_line_ids and not ln.serial_registration_manual
            )._item_tracking_propose_registrations()
            missing = lines.filtered(
                lambda ln: len(ln.serial_registration_ids) < ln._item_tracking_expected_serials()
                and not ln._item_tracking_blank_issue_allowed()
            )
            if missing:
                wizard = self.env["stock.picking.register.serials"].create({"invoice_id": move.id})
                return wizard._item_tracking_action()
        return False

    def action_view_serial_registrations(self):
        self.ensure_one()
        registrations = self.serial_registration_ids | self.line_ids.refund_registration_ids
        return registrations._item_tracking_action_view(
            self.env._("Serial Numbers of %(document)s", document=self.name)
        )

    def action_register_serials(self):
        self.ensure_one()
        wizard = self.env["stock.picking.register.serials"].create(
            {"invoice_id": self.id, "register_only": True}
        )
        return wizard._item_tracking_action()

    def _post(self, soft=True):
        self._item_tracking_check_invoice_registrations()
        self._item_tracking_store_lot_allocations()
        posted = super()._post(soft=soft)
        posted._item_tracking_post_registrations()
        return posted

    def _item_tracking_check_invoice_registrations(self):
        """Refuse before anything is written: a line with more serials than its quantity
        (R002-10), serials of another order line or product, and an invoice that would leave
        more than one packing slip partly invoiced (R002-19)."""
        errors = []
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            lines = move.invoice_line_ids.filtered("serial_registration_ids")
            for line in lines:
                registrations = line.serial_registration_ids
                units = line._item_tracking_expected_serials()
                if len(registrations) > units:
                    errors.append(
                        self.env._(
                            "%(invoice)s, %(product)s: %(count)s serial numbers for a quantity "
                            "of %(units)s",
                            invoice=move.display_name,
                            product=line.product_id.display_name,
                            count=len(registrations),
                            units=units,
                        )
                    )
                wrong = registrations.filtered(
                    lambda r, line=line: (
                        r.sale_line_id and r.sale_line_id not in line.sale_line_ids
                    )
                    or r.state != "registered"
                    or r.product_id not in line._item_tracking_serial_products()
                )
                if wrong:
                    errors.append(
                        self.env._(
                            "%(invoice)s, %(product)s: %(serials)s can't be invoiced by this "
                            "line (another order line or product, or already invoiced)",
                            invoice=move.display_name,
                            product=line.product_id.display_name,
                            serials=", ".join(wrong.mapped("display_name")),
                        )
                    )
            partial = move._item_tracking_partial_slips()
            if len(partial) > 1:
                errors.append(
                    self.env._(
                        "%(invoice)s invoices only part of the serial numbers of several "
                        "packing slips (%(slips)s): at most one packing slip may be invoiced "
                        "partly; invoice the others completely",
                        invoice=move.display_name,
                        slips=", ".join(partial.mapped("name")),
                    )
                )
        if errors:
            raise UserError(
                self.env._(
                    "The serial numbers of the invoice can't be posted:\n%(errors)s",
                    errors="\n".join(errors),
                )
            )

    def _item_tracking_partial_slips(self):
        """The packing slips this invoice includes only partly (R002-19): some, not all, of
        their serials that are not invoiced elsewhere."""
        self.ensure_one()
        invoiced = self.invoice_line_ids.serial_registration_ids.filtered("picking_id")
        if not invoiced:
            return self.env["stock.picking"]
        others = self.env["sale.serial.registration"].search(
            [
                ("picking_id", "in", invoiced.picking_id.ids),
                ("state", "=", "registered"),
                ("id", "not in", invoiced.ids),
                "|",
                ("invoice_line_id", "=", False),
                ("invoice_line_id.parent_state", "!=", "posted"),
            ]
        )
        return others.picking_id

    def _item_tracking_post_registrations(self):
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        invoices.invoice_line_ids.serial_registration_ids.sudo().write({"state": "invoiced"})
        self.filtered(lambda m: m.move_type == "out_refund")._item_tracking_credit_registrations()

    def _item_tracking_credit_registrations(self):
        """A credit note line (negative correction of the invoiced quantity, R002-22) locks
        the serials of the line it reverses: as many as its quantity, unless chosen."""
        for refund in self:
            origin_lines = refund.reversed_entry_id.invoice_line_ids.filtered(
                "serial_registration_ids"
            )
            for line in refund.invoice_line_ids._item_tracking_refund_lines():
                if line.refund_registration_ids:
                    continue
                origin = origin_lines.filtered(
                    lambda o, line=line: o.product_id == line.product_id
                    and (not line.sale_line_ids or o.sale_line_ids & line.sale_line_ids)
                )
                candidates = origin.serial_registration_ids.filtered(lambda r: not r.refund_line_id)
                if not refund.reversed_entry_id and line.sale_line_ids:
                    # A credit note for a return: the serials that came back first.
                    candidates = (
                        self.env["sale.serial.registration"]
                        .search(
                            [
                                ("sale_line_id", "in", line.sale_line_ids.ids),
                                ("refund_line_id", "=", False),
                                ("invoice_line_id.parent_state", "=", "posted"),
                            ]
                        )
                        .sorted(lambda r: (r.state != "reversed", r.id))
                    )
                wanted = int(line._item_tracking_units() + 1e-6)
                if origin[:1] and not line.lot_origin_line_id:
                    line.sudo().lot_origin_line_id = origin[:1]
                credited = candidates[:wanted].sudo()
                credited.write({"refund_line_id": line.id})
                # Units still at the customer whose invoicing the credit note cancels can
                # be invoiced again (a corrected invoice); their serial stays locked.
                credited.filtered(lambda r: r.state == "invoiced").write(
                    {"state": "registered", "invoice_line_id": False}
                )

    def button_draft(self):
        res = super().button_draft()
        self.filtered(
            lambda m: m.move_type == "out_invoice"
        ).invoice_line_ids.serial_registration_ids.filtered(
            lambda r: r.state == "invoiced"
        ).sudo().write({"state": "registered"})
        for line in self.filtered(lambda m: m.move_type == "out_refund").invoice_line_ids:
            credited = line.refund_registration_ids.sudo()
            origin = line.lot_origin_line_id
            released = credited.filtered(
                lambda r: r.state == "registered" and not r.invoice_line_id
            )
            if origin and origin.parent_state == "posted":
                released.write({"invoice_line_id": origin.id, "state": "invoiced"})
            credited.write({"refund_line_id": False})
        return res

    def button_cancel(self):
        res = super().button_cancel()
        registrations = self.invoice_line_ids.serial_registration_ids.sudo()
        registrations.write({"invoice_line_id": False})
        registrations.filtered(lambda r: r.state == "invoiced").write({"state": "registered"})
        return res

    # ---- Lots/serial numbers stored on invoice lines (issue 14, item 7) ------------------

    def _item_tracking_store_lot_allocations(self):
        lines = self.invoice_line_ids._filter_lot_allocation_lines()
        edited = lines.filtered("lot_allocation_edited")
        # Refuse before anything is written: the invoice stays a draft, its lots unchanged.
        edited._check_lot_allocations()
        # The lots stored at posting: those proposed against posted invoices only.
        (lines - edited)._propose_lot_allocations(posted_only=True)

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
        formatted = {}  # a serial invoice formats the same quantity (1) a thousand times
        for allocation in lines.lot_allocation_ids:
            if not allocation.quantity:
                continue
            # As Odoo: the lot read as superuser, for users without stock access; the
            # allocation itself was read with the user's rights (its company rule).
            lot = allocation.lot_id.sudo()
            quantity = formatted.get(allocation.quantity)
            if quantity is None:
                quantity = formatted[allocation.quantity] = formatLang(
                    self.env, allocation.quantity, dp="Product Unit of Measure"
                )
            res.append(
                {
                    "product_name": lot.product_id.display_name,
                    "quantity": quantity,
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
