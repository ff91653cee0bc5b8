from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration",
        "invoice_line_id",
        "Serial Numbers",
        help="Serial numbers registered in the sales process that this line invoices.",
    )
    refund_registration_ids = fields.One2many(
        "sale.serial.registration",
        "refund_line_id",
        "Credited Serial Numbers",
        help="Serial numbers of the invoice that this credit note line corrects.",
    )
    lot_allocation_ids = fields.One2many(
        "account.move.line.lot",
        "account_move_line_id",
        "Lots/Serial Numbers",
        help="Lots/serial numbers tracked in stock that this line invoices, with quantities.",
    )
    serial_registration_manual = fields.Boolean(
        copy=False,
        help="The user chose the serial numbers of this line: they no longer follow its quantity.",
    )

    # ------------------------------------------------ serials registered in the sales process

    def _item_tracking_registration_lines(self):
        """Customer invoice lines of products whose serials are registered in the sales
        process (scope "sales")."""
        return self.filtered(
            lambda ln: ln.display_type == "product"
            and ln.move_id.move_type == "out_invoice"
            and ln.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
        )

    def _item_tracking_units(self):
        self.ensure_one()
        return self.product_uom_id._compute_quantity(
            self.quantity, self.product_id.uom_id, round=False
        )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._item_tracking_registration_lines().filtered(
            lambda ln: ln.parent_state == "draft" and ln.sale_line_ids
        )._item_tracking_propose_registrations()
        return lines

    def write(self, vals):
        manual = "serial_registration_ids" in vals and not self.env.context.get(
            "item_tracking_proposal"
        )
        if manual:
            vals = dict(vals, serial_registration_manual=True)
        res = super().write(vals)
        if {"quantity", "product_uom_id", "product_id"} & vals.keys() and not manual:
            self._item_tracking_registration_lines().filtered(
                lambda ln: ln.parent_state == "draft"
                and ln.sale_line_ids
                and not ln.serial_registration_manual
            )._item_tracking_propose_registrations()
        return res

    def _item_tracking_propose_registrations(self):
        """Link to each line the serials of its sales order line that were delivered and
        are not invoiced yet, in delivery order, as many as its quantity (R002-08, R002-17);
        the line's earlier proposal is replaced."""
        Registration = self.env["sale.serial.registration"]
        available = Registration.search(
            [
                ("sale_line_id", "in", self.sale_line_ids.ids),
                ("state", "=", "registered"),
                ("move_id.state", "=", "done"),
                "|",
                ("invoice_line_id", "=", False),
                ("invoice_line_id", "in", self.ids),
            ]
        ).sorted(lambda r: (r.move_id.date, r.move_id.id, r.id))
        for line in self:
            wanted = int(line._item_tracking_units() + 1e-6)
            mine = available.filtered(
                lambda r, line=line: r.sale_line_id in line.sale_line_ids
                and r.product_id == line.product_id
            )[: max(wanted, 0)]
            available -= mine
            current = line.serial_registration_ids
            if current == mine:
                continue
            (current - mine).with_context(item_tracking_proposal=True).write(
                {"invoice_line_id": False}
            )
            (mine - current).with_context(item_tracking_proposal=True).write(
                {"invoice_line_id": line.id}
            )

    def _item_tracking_refund_lines(self):
        return self.filtered(
            lambda ln: ln.display_type == "product"
            and ln.move_id.move_type == "out_refund"
            and ln.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
        )
