from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "move_id", "Registered Serial Numbers"
    )
    return_registration_ids = fields.Many2many(
        "sale.serial.registration",
        "stock_move_return_serial_registration_rel",
        "move_id",
        "registration_id",
        "Returned Serial Numbers",
        help="On a customer return: the registered serial numbers that come back.",
    )

    def _update_reserved_quantity(
        self, need, location_id, lot_id=None, package_id=None, owner_id=None, strict=True
    ):
        """Blocked lots/serials are never reserved (R001-22)."""
        return super(
            StockMove, self.with_context(exclude_blocked_lots=True)
        )._update_reserved_quantity(need, location_id, lot_id, package_id, owner_id, strict)

    def _get_available_quantity(
        self,
        location_id,
        lot_id=None,
        package_id=None,
        owner_id=None,
        strict=False,
        allow_negative=False,
    ):
        return super(
            StockMove, self.with_context(exclude_blocked_lots=True)
        )._get_available_quantity(location_id, lot_id, package_id, owner_id, strict, allow_negative)

    def _generate_serial_move_line_commands(
        self, field_data, location_dest_id=False, origin_move_line=None
    ):
        """No default expiration date on generated serials whose code asks for a manual
        date (R001-16) or none (R001-17): product_expiry adds one; a date the user gave
        (e.g. pasted with the numbers) is kept."""
        typed = [bool(data.get("expiration_date")) for data in field_data]
        commands = super()._generate_serial_move_line_commands(
            field_data, location_dest_id, origin_move_line
        )
        code = self.product_id.item_tracking_code_id
        if code.expiration_date_required or code.ignore_expiration:
            for command, has_date in zip(commands, typed, strict=True):
                if not has_date:
                    command[2].pop("expiration_date", None)
        return commands

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        moves._fill_invoice_lot_allocations()
        return moves

    def _fill_invoice_lot_allocations(self):
        """Invoices posted (or drafted) before their goods moved get the lots now: the lines
        of these moves' order lines still short, whose lots no user edited (issue 14, item
        7). A system write, batched: one search of the invoice lines."""
        moves = self.filtered(
            lambda m: m.state == "done"
            and (m.sale_line_id or m.purchase_line_id)
            and m.product_id.tracking != "none"
        )
        if not moves:
            return
        domain = [
            ("display_type", "=", "product"),
            ("parent_state", "!=", "cancel"),
            ("lot_allocation_edited", "=", False),
        ]
        sale_lines = moves.sale_line_id
        purchase_lines = moves.purchase_line_id
        if sale_lines and purchase_lines:
            domain += [
                "|",
                "&",
                ("move_id.move_type", "in", ("out_invoice", "out_refund")),
                ("sale_line_ids", "in", sale_lines.ids),
                "&",
                ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                ("purchase_line_id", "in", purchase_lines.ids),
            ]
        elif sale_lines:
            domain += [
                ("move_id.move_type", "in", ("out_invoice", "out_refund")),
                ("sale_line_ids", "in", sale_lines.ids),
            ]
        else:
            domain += [
                ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                ("purchase_line_id", "in", purchase_lines.ids),
            ]
        lines = self.env["account.move.line"].sudo().search(domain)
        lines = lines._filter_lot_allocation_lines()
        posted = lines.filtered(lambda line: line.parent_state == "posted")
        # Posted invoices first: they are what was sent to the customer.
        posted._propose_lot_allocations(fill=True)
        (lines - posted)._propose_lot_allocations(fill=True)
