from dateutil.relativedelta import relativedelta

from odoo import Command, fields, models
from odoo.exceptions import UserError


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
        copy=False,
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

    # ------------------------------------------------ serials registered in the sales process

    def _item_tracking_registration_moves(self):
        """Moves of products whose serials are registered in the sales process (scope
        "sales") that deliver to a customer: in a multi-step delivery, the step that reaches
        the customer."""
        return self.filtered(
            lambda m: m.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
            and m.location_dest_id.usage == "customer"
            and m.location_id.usage != "customer"
            and not m.scrapped
        )

    def _item_tracking_registration_returns(self):
        """Customer returns of deliveries that have registered serials."""
        return self.filtered(
            lambda m: m.location_id.usage == "customer"
            and m.origin_returned_move_id.serial_registration_ids
        )

    def _item_tracking_units(self, quantity=None):
        """The quantity of the move (or `quantity`, in the move's unit) in the product's
        unit: a line of 2 dozens is 24 units, each needing a serial."""
        self.ensure_one()
        qty = self.quantity if quantity is None else quantity
        return self.product_uom._compute_quantity(qty, self.product_id.uom_id, round=False)

    def _item_tracking_active_registrations(self):
        return self.serial_registration_ids.filtered(lambda r: r.state != "reversed")

    def _item_tracking_registrations_needed(self):
        """{move: units still to register} of these delivery moves (whole units)."""
        needed = {}
        for move in self._item_tracking_registration_moves():
            units = move._item_tracking_units()
            missing = int(round(units)) - len(move._item_tracking_active_registrations())
            if units > 0 and missing > 0:
                needed[move] = missing
        return needed

    def _item_tracking_invoiced_units(self):
        """Units of the move's sales order line already invoiced by posted invoices net of
        credit notes, beyond what was delivered before this move: when positive, the
        invoice came first and the serials must be registered at delivery."""
        self.ensure_one()
        sale_line = self.sale_line_id
        if not sale_line:
            return 0.0
        invoiced = sale_line.product_uom._compute_quantity(
            sale_line.qty_invoiced, self.product_id.uom_id, round=False
        )
        delivered_before = sum(
            m._item_tracking_units(m.quantity)
            for m in sale_line.move_ids._item_tracking_registration_moves()
            if m.state == "done" and m != self
        )
        return invoiced - delivered_before

    def _action_done(self, cancel_backorder=False):
        deliveries = self._item_tracking_registration_moves().filtered(
            lambda m: m.state not in ("done", "cancel") and m.quantity
        )
        deliveries._item_tracking_take_invoice_registrations()
        deliveries._item_tracking_check_delivery_registrations()
        returns = self._item_tracking_registration_returns().filtered(
            lambda m: m.state not in ("done", "cancel") and m.quantity
        )
        returned = returns._item_tracking_returned_registrations()
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        for move, registrations in returned.items():
            if move.state == "done":
                registrations.sudo().write({"state": "reversed", "return_move_id": move.id})
        moves._fill_invoice_lot_allocations()
        return moves

    def _item_tracking_take_invoice_registrations(self):
        """Serials registered on an invoice before the goods left (no delivery move yet) are
        the serials of the delivery of the same sales order line, in invoice order."""
        if not self.sale_line_id:
            return
        Registration = self.env["sale.serial.registration"]
        pending = Registration.search(
            [
                ("sale_line_id", "in", self.sale_line_id.ids),
                ("move_id", "=", False),
                ("state", "!=", "reversed"),
            ],
            order="id",
        )
        if not pending:
            return
        by_line = {}
        for registration in pending:
            by_line.setdefault(registration.sale_line_id, []).append(registration)
        for move in self:
            available = by_line.get(move.sale_line_id)
            missing = int(round(move._item_tracking_units())) - len(
                move._item_tracking_active_registrations()
            )
            if not available or missing <= 0:
                continue
            taken = Registration.browse([r.id for r in available[:missing]])
            del available[:missing]
            taken.sudo().write({"move_id": move.id, "picking_id": move.picking_id.id})

    def _item_tracking_check_delivery_registrations(self, check_missing=True):
        """R002-09/10: never more serials than units shipped. When the units were invoiced
        before the delivery (no dialog stopped the posting), serial number control applies
        here: one serial or one Not readable registration per unit (R002-04, R002-15),
        unless the code allows blank issue (R002-06, R002-16)."""
        over, missing = [], []
        for move in self:
            units = move._item_tracking_units()
            count = len(move._item_tracking_active_registrations())
            if count > units + 1e-6:
                over.append(
                    self.env._(
                        "%(product)s: %(count)s serial numbers for %(units)s units",
                        product=move.product_id.display_name,
                        count=count,
                        units=units,
                    )
                )
                continue
            code = move.product_id.product_tmpl_id.item_tracking_code_id
            required = min(int(round(units)), int(move._item_tracking_invoiced_units() + 1e-6))
            if check_missing and count < required and not code.blank_issue_allowed:
                missing.append(
                    self.env._(
                        "%(product)s: %(count)s of %(units)s invoiced units registered",
                        product=move.product_id.display_name,
                        count=count,
                        units=required,
                    )
                )
        if over:
            raise UserError(
                self.env._(
                    "More serial numbers are registered than the quantity shipped; remove the "
                    "extra ones:\n%(lines)s",
                    lines="\n".join(over),
                )
            )
        if missing:
            raise UserError(
                self.env._(
                    "These units are already invoiced, so their serial numbers must be "
                    "registered on the delivery (one per unit, or Not readable):\n%(lines)s",
                    lines="\n".join(missing),
                )
            )

    def _item_tracking_check_registration_count(self):
        """Done deliveries never hold more serials than units (R002-09), whichever record
        was written."""
        self.filtered(
            lambda m: m.state == "done"
        )._item_tracking_registration_moves()._item_tracking_check_delivery_registrations(
            check_missing=False
        )

    def _action_cancel(self):
        """A cancelled delivery line releases its serials: those registered on it are
        removed; those an invoice already holds go back to waiting for their delivery."""
        open_moves = self.filtered(lambda m: m.state not in ("done", "cancel"))
        registrations = open_moves.serial_registration_ids.filtered(lambda r: r.state != "reversed")
        res = super()._action_cancel()
        if not registrations:
            return res
        cancelled = registrations.filtered(lambda r: r.move_id.state == "cancel").sudo()
        cancelled.filtered("invoice_line_id").write({"move_id": False, "picking_id": False})
        cancelled.filtered(lambda r: not r.invoice_line_id).unlink()
        return res

    def _item_tracking_returned_registrations(self):
        """{return move: registrations that come back} (R002-23, R002-24). A return says
        which registered serials come back; without a choice only the whole remaining line
        can come back (all its registrations), a part of it is refused."""
        result = {}
        errors = []
        for move in self:
            origin = move.origin_returned_move_id
            active = origin._item_tracking_active_registrations()
            units = move._item_tracking_units()
            chosen = move.return_registration_ids
            if chosen:
                wrong = chosen - active
                if wrong:
                    errors.append(
                        self.env._(
                            "%(serials)s: not delivered by %(delivery)s or already returned",
                            serials=", ".join(wrong.mapped("display_name")),
                            delivery=origin.reference,
                        )
                    )
                elif len(chosen) != int(round(units)):
                    errors.append(
                        self.env._(
                            "%(product)s: %(count)s serial numbers chosen for %(units)s units "
                            "returned",
                            product=move.product_id.display_name,
                            count=len(chosen),
                            units=units,
                        )
                    )
                else:
                    result[move] = chosen
                continue
            returned_before = sum(
                m._item_tracking_units()
                for m in origin.returned_move_ids
                if m.state == "done" and m != move
            )
            remaining = origin._item_tracking_units() - returned_before
            if units < remaining - 1e-6:
                errors.append(
                    self.env._(
                        "%(product)s: %(units)s of %(remaining)s units returned; say which "
                        "registered serial numbers come back (%(serials)s)",
                        product=move.product_id.display_name,
                        units=units,
                        remaining=remaining,
                        serials=", ".join(active.mapped("display_name")),
                    )
                )
            else:
                result[move] = active
        if errors:
            raise UserError(
                self.env._(
                    "A return of a delivery with registered serial numbers must say which come "
                    "back:\n%(lines)s",
                    lines="\n".join(errors),
                )
            )
        return result

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

    # ------------------------------------------------------------------
    # Demo data only (demo/*.xml): operations done on past days
    # ------------------------------------------------------------------
    def _item_tracking_demo_done(self, lot_quantities, days):
        """Demo data only: give these moves of one transfer the lots/serial numbers
        `lot_quantities` ([[lot id, quantity], ...], each on the move of its product),
        validate the transfer and date it `days` days back (`_item_tracking_demo_backdate`)."""
        Lot = self.env["stock.lot"]
        for move in self:
            pairs = [
                (Lot.browse(lot_id), quantity)
                for lot_id, quantity in lot_quantities
                if Lot.browse(lot_id).product_id == move.product_id
            ]
            move.move_line_ids.unlink()
            move.write(
                {
                    "move_line_ids": [
                        Command.create(
                            {**move._prepare_move_line_vals(quantity=quantity), "lot_id": lot.id}
                        )
                        for lot, quantity in pairs
                    ],
                    "picked": True,
                }
            )
        pickings = self.picking_id
        # done in the past: a lot expired since then was not expired yet (skip_expired)
        pickings.with_context(
            skip_backorder=True, picking_ids_not_to_backorder=pickings.ids, skip_expired=True
        ).button_validate()
        not_done = pickings.filtered(lambda picking: picking.state != "done")
        if not_done:
            raise UserError(
                self.env._(
                    "Demo data: these transfers could not be validated: %(pickings)s",
                    pickings=", ".join(not_done.mapped("display_name")),
                )
            )
        self._item_tracking_demo_backdate(days)

    def _item_tracking_demo_backdate(self, days):
        """Demo data only: date these done moves, their lines, transfers, scraps and status
        changes `days` days back (and their orders, when confirmed later), then redo their
        lots' sources and warranty dates from the new dates (so the demo's history is spread
        over several days)."""
        date = fields.Datetime.now() - relativedelta(days=days)
        moves = self.sudo().filtered(lambda move: move.state == "done")
        lines = moves.move_line_ids.filtered(lambda line: line.state == "done")
        moves.write({"date": date})
        lines.write({"date": date})  # redoes the lots' status and sources from their history
        moves.picking_id.write({"date_done": date})
        moves.scrap_id.write({"date_done": date})
        # confirming set the orders' dates to now: no order is later than its transfer
        moves.sale_line_id.order_id.filtered(lambda order: order.date_order > date).write(
            {"date_order": date}
        )
        moves.purchase_line_id.order_id.filtered(
            lambda order: order.date_approve and order.date_approve > date
        ).write({"date_approve": date})
        logs = self.env["stock.lot.status.log"].sudo().search([("move_line_id", "in", lines.ids)])
        logs.write({"date": date})
        self.env["stock.lot"]._item_tracking_set_warranty_dates(
            lines._get_item_tracking_lot_moves()
        )
