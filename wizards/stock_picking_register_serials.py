from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero

from ..models.sale_serial_registration import NOT_READABLE_GROUP
from ..tools.serial_text import clean_serial, serial_key, split_serial_text


class StockPickingRegisterSerials(models.TransientModel):
    """Register the serial numbers of products whose serials are kept in the sales process
    only (D365 seed 002), on a delivery (packing slip) or on a customer invoice: one serial
    or one "Not readable" blank registration per unit (R002-04, R002-15), fewer when the code
    allows blank issue (R002-06), never more (R002-09). Serials are scanned (Add/Remove mode,
    Enter or Tab ends each, R002-13/14), typed, or pasted one per line."""

    _name = "stock.picking.register.serials"
    _description = "Register Serial Numbers"

    picking_id = fields.Many2one("stock.picking", "Delivery", readonly=True)
    invoice_id = fields.Many2one("account.move", readonly=True)
    register_only = fields.Boolean(
        help="Opened from the Register Serials button: registers without validating."
    )
    move_ids = fields.Many2many("stock.move", string="Delivery Lines", compute="_compute_targets")
    invoice_line_ids = fields.Many2many(
        "account.move.line", string="Invoice Lines", compute="_compute_targets"
    )
    move_id = fields.Many2one(
        "stock.move",
        "Product",
        domain="[('id', 'in', move_ids)]",
        help="The delivery line that scanned and pasted serial numbers go to.",
    )
    invoice_line_id = fields.Many2one(
        "account.move.line",
        domain="[('id', 'in', invoice_line_ids)]",
        help="The invoice line that scanned and pasted serial numbers go to.",
    )
    scan_mode = fields.Selection(
        [("add", "Add"), ("remove", "Remove")], default="add", required=True
    )
    scan = fields.Char(
        help="Scan or type a serial number and press Enter or Tab: it is added to (or, in "
        "Remove mode, removed from) the list.",
    )
    serial_text = fields.Text(
        "Paste Serial Numbers",
        help="One serial number per line; blank lines and surrounding spaces are ignored.",
    )
    line_ids = fields.One2many("stock.picking.register.serials.line", "wizard_id", "Serials")
    summary = fields.Html(compute="_compute_summary")
    can_register_later = fields.Boolean(compute="_compute_summary")
    scan_message = fields.Char(readonly=True)

    @api.depends("picking_id", "invoice_id")
    def _compute_targets(self):
        for wizard in self:
            wizard.move_ids = wizard._item_tracking_target_moves()
            wizard.invoice_line_ids = wizard._item_tracking_target_invoice_lines()

    @api.depends(
        "line_ids.name", "line_ids.not_readable", "line_ids.move_id", "line_ids.invoice_line_id"
    )
    def _compute_summary(self):
        for wizard in self:
            rows = []
            later = False
            counts = wizard._item_tracking_line_counts()
            for target in wizard._item_tracking_targets():
                units = wizard._item_tracking_target_units(target)
                count = counts.get(target.id, 0)
                remaining = max(int(round(units)) - count, 0)
                rows.append(
                    Markup("<li><b>%s</b>: %s</li>")
                    % (
                        target.product_id.display_name,
                        self.env._(
                            "%(count)s of %(units)s registered, %(remaining)s remaining%(extra)s",
                            count=count,
                            units=int(round(units)),
                            remaining=remaining,
                            extra=self.env._(", %(n)s too many", n=count - int(round(units)))
                            if count > units
                            else "",
                        ),
                    )
                )
            moves = wizard.move_ids
            later = (
                bool(moves)
                and not wizard.register_only
                and all(
                    m._item_tracking_invoiced_units() < m._item_tracking_units() - 1e-6
                    for m in moves
                )
            )
            wizard.summary = Markup("<ul class='mb-0'>%s</ul>") % Markup().join(rows)
            wizard.can_register_later = later

    # ------------------------------------------------------------------ targets

    def _item_tracking_target_moves(self):
        self.ensure_one()
        if not self.picking_id:
            return self.env["stock.move"]
        moves = self.picking_id.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel") and m.quantity and m.picked
        ) or self.picking_id.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        if self.register_only:
            moves = self.picking_id.move_ids.filtered(lambda m: m.state != "cancel")
        return moves._item_tracking_registration_moves()

    def _item_tracking_target_invoice_lines(self):
        self.ensure_one()
        if not self.invoice_id:
            return self.env["account.move.line"]
        return self.invoice_id.invoice_line_ids._item_tracking_registration_lines()

    def _item_tracking_targets(self):
        return self._item_tracking_target_moves() or self._item_tracking_target_invoice_lines()

    def _item_tracking_target_units(self, target):
        if target._name == "stock.move":
            if target.state == "done" or target.quantity:
                return target._item_tracking_units()
            return target._item_tracking_units(target.product_uom_qty)
        return target._item_tracking_expected_serials()

    def _item_tracking_target_blank_allowed(self, target):
        if target._name == "stock.move":
            return target.product_id.product_tmpl_id.item_tracking_code_id.blank_issue_allowed
        return target._item_tracking_blank_issue_allowed()

    def _item_tracking_target_product(self, target):
        """The product whose serials a line registers: for a kit invoice line, its one
        component with sales-process serials (a kit of several registers on delivery)."""
        if target._name == "stock.move":
            return target.product_id
        products = target._item_tracking_serial_products()
        if len(products) > 1:
            raise UserError(
                self.env._(
                    "%(kit)s has several components with serial numbers (%(components)s): "
                    "register them on its delivery.",
                    kit=target.product_id.display_name,
                    components=", ".join(products.mapped("display_name")),
                )
            )
        return products

    def _item_tracking_target_registrations(self, target):
        if target._name == "stock.move":
            return target._item_tracking_active_registrations()
        return target.serial_registration_ids

    @api.model
    def _item_tracking_line_target(self, line):
        return line.move_id or line.invoice_line_id

    def _item_tracking_line_counts(self):
        counts = defaultdict(int)
        for line in self.line_ids:
            if line.name or line.not_readable:
                counts[self._item_tracking_line_target(line).id] += 1
        return counts

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        for wizard in wizards:
            given = wizard.line_ids
            wizard.line_ids = wizard._item_tracking_initial_line_commands()
            wizard._item_tracking_place_lines(given)
            targets = wizard._item_tracking_targets()
            if targets and not (wizard.move_id or wizard.invoice_line_id):
                first = next(
                    (t for t in targets if wizard._item_tracking_missing(t) > 0), targets[:1]
                )
                wizard[first._name == "stock.move" and "move_id" or "invoice_line_id"] = first
            if wizard.serial_text:
                wizard._item_tracking_add_pasted()
        return wizards

    def _item_tracking_initial_line_commands(self):
        """The registrations already made, then those registered on an invoice before the
        delivery, then the serials of returned units of the same order lines proposed again
        (R002-24)."""
        commands = []
        targets = self._item_tracking_targets()
        target_field = "move_id" if targets._name == "stock.move" else "invoice_line_id"
        taken = defaultdict(int)
        for target in targets:
            for registration in self._item_tracking_target_registrations(target):
                commands.append(self._item_tracking_line_vals(target, registration))
                taken[target.id] += 1
        if target_field != "move_id":
            return [Command.create(vals) for vals in commands]
        Registration = self.env["sale.serial.registration"]
        sale_lines = targets.sale_line_id
        pending = Registration.search(
            [
                ("sale_line_id", "in", sale_lines.ids),
                ("move_id", "=", False),
                ("state", "!=", "reversed"),
            ],
            order="id",
        )
        reversed_ = Registration.search(
            [("sale_line_id", "in", sale_lines.ids), ("state", "=", "reversed")], order="id"
        )
        active_keys = {
            (r.product_id.id, serial_key(r.name))
            for r in Registration.search(
                [
                    ("product_id", "in", targets.product_id.ids),
                    ("name", "in", reversed_.mapped("name")),
                    ("state", "!=", "reversed"),
                ]
            )
        }
        for target in targets:
            room = int(round(self._item_tracking_target_units(target))) - taken[target.id]
            for registration in pending.filtered(
                lambda r, t=target: r.sale_line_id == t.sale_line_id
            ):
                if room <= 0:
                    break
                commands.append(self._item_tracking_line_vals(target, registration))
                pending -= registration
                room -= 1
            for registration in reversed_.filtered(
                lambda r, t=target: r.sale_line_id == t.sale_line_id
                and r.product_id == t.product_id
            ):
                key = (registration.product_id.id, serial_key(registration.name))
                if room <= 0:
                    break
                if key in active_keys or not registration.name:
                    continue
                active_keys.add(key)
                commands.append(
                    dict(self._item_tracking_line_vals(target, registration), proposed=True)
                )
                room -= 1
        return [Command.create(vals) for vals in commands]

    def _item_tracking_place_lines(self, lines):
        """Lines given directly (over RPC, or typed) without a document line go to the lines
        that still need serials, current first."""
        lines = lines.filtered(lambda ln: not (ln.move_id or ln.invoice_line_id))
        if not lines:
            return
        targets = self._item_tracking_targets()
        room = {t.id: self._item_tracking_missing(t) for t in targets}
        for line in lines:
            target = next((t for t in targets if room[t.id] > 0), targets[-1:])
            if not target:
                break
            room[target.id] -= 1
            line.write({target._name == "stock.move" and "move_id" or "invoice_line_id": target.id})

    @api.model
    def _item_tracking_line_vals(self, target, registration=None, name=None):
        vals = {
            "move_id" if target._name == "stock.move" else "invoice_line_id": target.id,
            "product_id": target.product_id.id,
        }
        if registration:
            vals.update(
                registration_id=registration.id,
                name=registration.name,
                not_readable=registration.not_readable,
            )
        else:
            vals["name"] = name
        return vals

    # ------------------------------------------------------------------ data entry

    def _item_tracking_current_target(self):
        return self.move_id or self.invoice_line_id or self._item_tracking_targets()[:1]

    def _item_tracking_missing(self, target):
        counts = self._item_tracking_line_counts()
        return int(round(self._item_tracking_target_units(target))) - counts.get(target.id, 0)

    def _item_tracking_add_commands(self, names, skip_listed=False):
        """Line commands adding `names` to the current line, overflowing to the other lines of
        the same product that still need serials. A scan skips a name already listed; a
        pasted list keeps its duplicates, for the check to name them."""
        listed = {
            (line.product_id.id, serial_key(line.name)) for line in self.line_ids if line.name
        }
        current = self._item_tracking_current_target()
        if not current:
            raise UserError(self.env._("Nothing on this document needs serial numbers."))
        same_product = [current] + [
            t
            for t in self._item_tracking_targets()
            if t != current and t.product_id == current.product_id
        ]
        room = {t.id: self._item_tracking_missing(t) for t in same_product}
        commands, skipped = [], []
        for name in names:
            key = (current.product_id.id, serial_key(name))
            if key in listed and skip_listed:
                skipped.append(name)
                continue
            listed.add(key)
            target = next((t for t in same_product if room[t.id] > 0), current)
            room[target.id] -= 1
            commands.append(Command.create(self._item_tracking_line_vals(target, None, name)))
        return commands, skipped

    def _item_tracking_add_pasted(self):
        names = split_serial_text(self.serial_text)
        commands, _skipped = self._item_tracking_add_commands(names)
        self.write({"line_ids": commands, "serial_text": False})

    @api.onchange("serial_text")
    def _onchange_serial_text(self):
        if not self.serial_text:
            return
        commands, _skipped = self._item_tracking_add_commands(split_serial_text(self.serial_text))
        self.line_ids = commands
        self.serial_text = False
        self.scan_message = self.env._("%(count)s serial numbers added.", count=len(commands))

    @api.onchange("scan")
    def _onchange_scan(self):
        serial = clean_serial(self.scan)
        if not serial:
            self.scan = False
            return
        if self.scan_mode == "remove":
            key = serial_key(serial)
            match = self.line_ids.filtered(lambda ln: ln.name and serial_key(ln.name) == key)
            if match:
                self.line_ids = [Command.unlink(line.id) for line in match[:1]]
                self.scan_message = self.env._("%(serial)s removed.", serial=serial)
            else:
                self.scan_message = self.env._("%(serial)s is not in the list.", serial=serial)
        else:
            commands, skipped = self._item_tracking_add_commands([serial], skip_listed=True)
            self.line_ids = commands
            self.scan_message = (
                self.env._("%(serial)s is already in the list.", serial=serial)
                if skipped
                else self.env._("%(serial)s added.", serial=serial)
            )
        self.scan = False

    # ------------------------------------------------------------------ actions

    def _item_tracking_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Register Serial Numbers"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": dict(self.env.context),
        }

    def action_confirm(self):
        """Register the listed serials and go on with the validation of the delivery (or
        the posting of the invoice)."""
        self.ensure_one()
        if self.serial_text:
            self._item_tracking_add_pasted()
        self._item_tracking_check_lines(complete=not self.register_only)
        self._item_tracking_apply()
        if self.register_only:
            return {"type": "ir.actions.act_window_close"}
        return self._item_tracking_continue()

    def action_register_later(self):
        """Validate the delivery and register the serials on the invoice (R002-07): only
        while the units are not invoiced yet (the moves check it again)."""
        self.ensure_one()
        if not self.picking_id:
            raise UserError(self.env._("An invoice registers its serial numbers when posted."))
        self._item_tracking_check_lines(complete=False)
        self._item_tracking_apply()
        return self._item_tracking_continue()

    def _item_tracking_continue(self):
        ctx = {k: v for k, v in self.env.context.items() if not k.startswith("default_")}
        if self.picking_id:
            done = list(ctx.get("serial_registration_picking_ids") or []) + [self.picking_id.id]
            ctx["serial_registration_picking_ids"] = done
            pickings = self.env["stock.picking"].browse(
                ctx.get("button_validate_picking_ids") or self.picking_id.ids
            )
            return pickings.with_env(self.env(context=ctx)).button_validate()
        done = list(ctx.get("serial_registration_invoice_ids") or []) + [self.invoice_id.id]
        ctx["serial_registration_invoice_ids"] = done
        return self.invoice_id.with_env(self.env(context=ctx)).action_post()

    def _item_tracking_check_lines(self, complete=True):
        """All the problems in one message: duplicates in the list or already registered,
        more serials than units, fewer than units under serial number control, a unit
        marked Not readable without the right, serials on lines that don't need them."""
        self.ensure_one()
        errors = []
        targets = self._item_tracking_targets()
        lines = self.line_ids.filtered(lambda ln: ln.name or ln.not_readable)
        foreign = lines.filtered(lambda ln: self._item_tracking_line_target(ln) not in targets)
        if foreign:
            errors.append(
                self.env._(
                    "Not on this document: %(serials)s",
                    serials=", ".join(foreign.mapped(lambda ln: ln.name or "-")),
                )
            )
        seen, dupes = {}, []
        for line in lines.filtered("name"):
            key = (line.product_id.id, serial_key(line.name))
            if key in seen:
                dupes.append(clean_serial(line.name))
            seen[key] = line
        if dupes:
            errors.append(
                self.env._("Listed twice: %(serials)s", serials=", ".join(sorted(set(dupes))))
            )
        new_lines = lines.filtered(
            lambda ln: ln.name
            and (
                not ln.registration_id
                or ln.registration_id.state == "reversed"
                or serial_key(ln.registration_id.name or "") != serial_key(ln.name)
            )
        )
        foreign_registrations = (
            self.line_ids.registration_id - self._item_tracking_allowed_registrations()
        )
        if foreign_registrations:
            errors.append(
                self.env._(
                    "Registered on another document: %(serials)s",
                    serials=", ".join(foreign_registrations.mapped("display_name")),
                )
            )
        company = (self.picking_id or self.invoice_id).company_id
        existing = self.env["sale.serial.registration"]._item_tracking_find_registered(
            {(company.id, ln.product_id.id, serial_key(ln.name)) for ln in new_lines},
            exclude=self.line_ids.registration_id,
        )
        if existing:
            names = sorted(
                {
                    clean_serial(ln.name)
                    for ln in new_lines
                    if (company.id, ln.product_id.id, serial_key(ln.name)) in existing
                }
            )
            errors.append(self.env._("Already registered: %(serials)s", serials=", ".join(names)))
        if lines.filtered(
            lambda ln: ln.not_readable and not ln.name and not ln.registration_id
        ) and not self.env.user.has_group(NOT_READABLE_GROUP):
            errors.append(
                self.env._(
                    'Only users of the group "Register Non-readable Serial Numbers" can '
                    "register a unit as Not readable."
                )
            )
        counts = self._item_tracking_line_counts()
        for target in targets:
            units = self._item_tracking_target_units(target)
            count = counts.get(target.id, 0)
            product = target.product_id.display_name
            if not float_is_zero(units - round(units), precision_digits=6):
                errors.append(
                    self.env._(
                        "%(product)s: %(units)s units; serial numbers are registered per whole "
                        "unit",
                        product=product,
                        units=units,
                    )
                )
            elif count > units:
                extra = lines.filtered(
                    lambda ln, t=target: self._item_tracking_line_target(ln) == t
                )
                errors.append(
                    self.env._(
                        "%(product)s: %(count)s serial numbers for %(units)s units shipped, "
                        "%(extra)s too many (%(serials)s)",
                        product=product,
                        count=count,
                        units=int(round(units)),
                        extra=count - int(round(units)),
                        serials=", ".join(
                            extra[int(round(units)) :].mapped(lambda ln: ln.name or "-")
                        ),
                    )
                )
            elif (
                complete and count < units and not self._item_tracking_target_blank_allowed(target)
            ):
                errors.append(
                    self.env._(
                        "%(product)s: %(count)s of %(units)s units registered; register "
                        "%(missing)s more (or mark them Not readable)",
                        product=product,
                        count=count,
                        units=int(round(units)),
                        missing=int(round(units)) - count,
                    )
                )
        if errors:
            raise UserError(
                self.env._(
                    "The serial numbers can't be registered:\n%(errors)s",
                    errors="\n".join(errors),
                )
            )

    def _item_tracking_allowed_registrations(self):
        """The registrations this dialog may show: those of its lines, those registered on
        an invoice of the same order lines before the delivery, and those of the same order
        lines that came back (proposed again)."""
        targets = self._item_tracking_targets()
        allowed = self.env["sale.serial.registration"].browse(
            [r.id for t in targets for r in self._item_tracking_target_registrations(t)]
        )
        if targets._name == "stock.move" and targets.sale_line_id:
            allowed |= self.env["sale.serial.registration"].search(
                [
                    ("sale_line_id", "in", targets.sale_line_id.ids),
                    "|",
                    ("move_id", "=", False),
                    ("state", "=", "reversed"),
                ]
            )
        return allowed

    def _item_tracking_apply(self):
        """Write the list: remove registrations taken off it, correct changed serials,
        attach registrations made on the invoice to the delivery line, create the new ones
        (in one batch)."""
        Registration = self.env["sale.serial.registration"]
        targets = self._item_tracking_targets()
        kept = self.line_ids.registration_id
        shown = Registration.browse(
            [r.id for t in targets for r in self._item_tracking_target_registrations(t)]
        )
        removed = shown - kept
        if removed:
            removed.unlink()
        vals_list = []
        for line in self.line_ids:
            target = self._item_tracking_line_target(line)
            registration = line.registration_id
            name = clean_serial(line.name) or False
            if registration:
                vals = {}
                if (name or False) != (registration.name or False) or (
                    line.not_readable != registration.not_readable and not name
                ):
                    vals.update(name=name, not_readable=not name)
                if target._name == "stock.move" and registration.move_id != target:
                    vals.update(move_id=target.id, picking_id=target.picking_id.id)
                if target._name == "account.move.line" and registration.invoice_line_id != target:
                    vals["invoice_line_id"] = target.id
                if registration.state == "reversed":
                    # A returned unit delivered again: its registration is reused, and
                    # keeps tracing to its invoice (R002-24).
                    registration.sudo().write(
                        dict(vals, **self._item_tracking_reactivation_vals(registration))
                    )
                elif vals:
                    registration.write(vals)
                continue
            if not name and not line.not_readable:
                continue
            vals_list.append(self._item_tracking_registration_vals(target, name))
        # Defaults come from the caller's context: registrations start clean.
        Registration = Registration.with_env(
            self.env(
                context={k: v for k, v in self.env.context.items() if not k.startswith("default_")}
            )
        )
        posted = [
            v for v in vals_list if v.get("invoice_line_id") and self.invoice_id.state == "posted"
        ]
        if posted:
            # Registered on an invoice already posted (automatically, without its serials):
            # they are invoiced at once. Rights and rules were checked above.
            Registration.sudo().create([dict(v, state="invoiced") for v in posted])
        if len(posted) < len(vals_list):
            Registration.create([v for v in vals_list if v not in posted])

    @api.model
    def _item_tracking_reactivation_vals(self, registration):
        vals = {"return_move_id": False}
        if registration.refund_line_id or registration.invoice_line_id.parent_state != "posted":
            vals.update(state="registered", invoice_line_id=False)
        else:
            vals["state"] = "invoiced"
        return vals

    def _item_tracking_registration_vals(self, target, name):
        if target._name == "stock.move":
            sale_line = target.sale_line_id
            partner = sale_line.order_id.partner_id or target.picking_id.partner_id
            vals = {
                "move_id": target.id,
                "picking_id": target.picking_id.id,
            }
        else:
            sale_line = target.sale_line_ids[:1]
            partner = target.move_id.partner_id
            vals = {"invoice_line_id": target.id}
        vals.update(
            name=name,
            not_readable=not name,
            product_id=self._item_tracking_target_product(target).id,
            company_id=target.company_id.id,
            sale_line_id=sale_line.id,
            partner_id=partner.commercial_partner_id.id,
        )
        return vals
