from collections import defaultdict
from contextlib import contextmanager

import psycopg2.errors
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..tools.serial_text import clean_serial, serial_key

CORRECTION_GROUP = "stock_item_tracking.group_serial_correction"
NOT_READABLE_GROUP = "stock_item_tracking.group_serial_not_readable"
UNIQUE_INDEX = "sale_serial_registration_unique_serial"


class SaleSerialRegistration(models.Model):
    """A serial number registered in the sales process (on a delivery or an invoice) for a
    product whose item tracking code has the scope "Sales process only" (D365 seed 002): the
    product is not tracked in stock, the serial only records which unit a customer got."""

    _name = "sale.serial.registration"
    _description = "Serial Number Registration"
    _order = "date desc, id desc"
    _rec_names_search = ["name"]
    _check_company_auto = True

    name = fields.Char(
        string="Serial Number",
        index="trigram",
        help='Empty on a "Not readable" registration until the number is completed.',
    )
    not_readable = fields.Boolean(
        help="Blank registration of a unit whose serial number couldn't be read or scanned.",
    )
    product_id = fields.Many2one(
        "product.product", required=True, index=True, check_company=True, ondelete="restrict"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    sale_line_id = fields.Many2one(
        "sale.order.line", "Sales Order Line", index=True, check_company=True
    )
    order_id = fields.Many2one(
        related="sale_line_id.order_id", string="Sales Order", store=True, index=True
    )
    move_id = fields.Many2one(
        "stock.move", "Delivery Move", index=True, check_company=True, ondelete="restrict"
    )
    picking_id = fields.Many2one(
        "stock.picking", "Delivery", index=True, check_company=True, ondelete="restrict"
    )
    delivery_date = fields.Datetime(related="move_id.date")
    invoice_line_id = fields.Many2one(
        "account.move.line", index=True, check_company=True, ondelete="set null"
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id", string="Invoice", store=True, index=True
    )
    invoice_date = fields.Date(related="invoice_id.invoice_date", string="Sold On")
    refund_line_id = fields.Many2one(
        "account.move.line",
        "Credit Note Line",
        index="btree_not_null",
        check_company=True,
        ondelete="set null",
        help="The credit note line that corrected the invoiced quantity; the serial can no "
        "longer be changed.",
    )
    return_move_id = fields.Many2one(
        "stock.move", index="btree_not_null", check_company=True, ondelete="set null"
    )
    state = fields.Selection(
        [("registered", "Registered"), ("invoiced", "Invoiced"), ("reversed", "Reversed")],
        required=True,
        default="registered",
        index=True,
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True, string="Registered On")

    _sql_constraints = [
        (
            "not_readable_or_name",
            "CHECK (not_readable OR (name IS NOT NULL AND name <> ''))",
            "A serial registration needs a serial number unless it is marked Not readable.",
        ),
    ]

    def init(self):
        # One serial per product and company among registrations that are not reversed,
        # compared case-insensitively (names are stored cleaned and trimmed): held by the
        # database, so two users registering the same serial at the same moment can't both win.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON sale_serial_registration "
                "(company_id, product_id, lower(name)) WHERE state != 'reversed' "
                "AND name IS NOT NULL AND name <> ''",
                SQL.identifier(UNIQUE_INDEX),
            )
        )

    @api.depends("name", "not_readable")
    def _compute_display_name(self):
        for registration in self:
            registration.display_name = registration.name or self.env._("Not readable")

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._item_tracking_clean_vals(vals)
        if any(vals.get("not_readable") and not vals.get("name") for vals in vals_list):
            self._item_tracking_check_not_readable_right()
        self._item_tracking_check_new_names(vals_list)
        with self._item_tracking_unique_guard():
            registrations = super().create(vals_list)
        if not self.env.su:
            registrations._item_tracking_check_created()
        registrations._item_tracking_check_scope()
        registrations._item_tracking_check_links()
        registrations.move_id._item_tracking_check_registration_count()
        return registrations

    def write(self, vals):
        if not self:
            return True
        vals = dict(vals)
        self._item_tracking_clean_vals(vals)
        self._item_tracking_check_write(vals)
        old_names = {r.id: r.display_name for r in self} if "name" in vals else {}
        if "name" in vals and vals["name"]:
            vals.setdefault("not_readable", False)
            self._item_tracking_check_new_names(
                [dict(vals, product_id=r.product_id.id, company_id=r.company_id.id) for r in self],
                exclude=self,
            )
        old_moves = self.move_id if "move_id" in vals else self.env["stock.move"]
        with self._item_tracking_unique_guard():
            res = super().write(vals)
        if "product_id" in vals or "company_id" in vals:
            self._item_tracking_check_scope()
        if {"product_id", "move_id", "picking_id", "sale_line_id"} & vals.keys():
            self._item_tracking_check_links()
        if "move_id" in vals or "state" in vals:
            (old_moves | self.move_id)._item_tracking_check_registration_count()
        if old_names:
            self._item_tracking_log_corrections(old_names)
        return res

    def unlink(self):
        if not self.env.su:
            done = self.filtered(lambda r: r.state != "registered" or r.move_id.state == "done")
            if done and not self.env.user.has_group(CORRECTION_GROUP):
                raise AccessError(
                    self.env._(
                        'Only users of the group "Serial Number Corrections" can remove the '
                        "registered serial numbers %(serials)s of a done delivery.",
                        serials=", ".join(done.mapped("display_name")),
                    )
                )
            locked = self.filtered(lambda r: r.state != "registered")
            if locked:
                raise UserError(
                    self.env._(
                        "The serial numbers %(serials)s are invoiced or reversed and can't be "
                        "removed.",
                        serials=", ".join(locked.mapped("display_name")),
                    )
                )
            lines = defaultdict(list)
            for registration in self.filtered("picking_id"):
                lines[registration.picking_id].append(
                    self.env._(
                        "Serial number %(serial)s of %(product)s removed.",
                        serial=registration.display_name,
                        product=registration.product_id.display_name,
                    )
                )
            self._item_tracking_post_lines(lines)
        return super().unlink()

    # ------------------------------------------------------------------ actions

    def _item_tracking_action_view(self, name):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "stock_item_tracking.action_sale_serial_registration"
        )
        action.update(
            name=name,
            domain=[("id", "in", self.ids)],
            context={"create": False},
        )
        return action

    # ------------------------------------------------------------------ helpers

    @api.model
    def _item_tracking_clean_vals(self, vals):
        if "name" in vals:
            vals["name"] = clean_serial(vals["name"]) or False
            if not vals["name"] and "not_readable" not in vals:
                vals["not_readable"] = True

    @api.model
    def _item_tracking_check_not_readable_right(self):
        if not self.env.su and not self.env.user.has_group(NOT_READABLE_GROUP):
            raise AccessError(
                self.env._(
                    'Only users of the group "Register Non-readable Serial Numbers" can '
                    "register a unit as Not readable."
                )
            )

    def _item_tracking_check_write(self, vals):
        """Guards of a write by a user (R002-20..24, R002-30). A "Not readable" registration
        may be completed by anyone who can register; changing a serial needs the corrections
        group and is refused once it is invoiced or corrected by a credit note."""
        if "name" in vals or "not_readable" in vals:
            locked = self.filtered(lambda r: r.state != "registered" or r.refund_line_id)
            if locked:
                raise UserError(
                    self.env._(
                        "The serial numbers %(serials)s are invoiced, credited or returned and "
                        "can't be changed.",
                        serials=", ".join(locked.mapped("display_name")),
                    )
                )
        if self.env.su:
            return
        protected = {
            "product_id",
            "company_id",
            "sale_line_id",
            "state",
            "refund_line_id",
            "return_move_id",
            "partner_id",
            "date",
        }
        if protected & vals.keys():
            raise AccessError(
                self.env._(
                    "The fields %(fields)s of a serial registration are kept by deliveries, "
                    "invoices and returns.",
                    fields=", ".join(sorted(protected & vals.keys())),
                )
            )
        if "not_readable" in vals and vals["not_readable"]:
            self._item_tracking_check_not_readable_right()
        if "name" in vals or "not_readable" in vals:
            changed = self.filtered(lambda r: not (r.not_readable and not r.name))
            if changed and not self.env.user.has_group(CORRECTION_GROUP):
                raise AccessError(
                    self.env._(
                        'Only users of the group "Serial Number Corrections" can change the '
                        "registered serial numbers %(serials)s.",
                        serials=", ".join(changed.mapped("display_name")),
                    )
                )
        if "move_id" in vals or "picking_id" in vals:
            moved = self.filtered(lambda r: r.move_id and r.move_id.state == "done")
            if moved:
                raise UserError(
                    self.env._(
                        "The serial numbers %(serials)s belong to a done delivery; return it to "
                        "move them.",
                        serials=", ".join(moved.mapped("display_name")),
                    )
                )
        if "invoice_line_id" in vals:
            self._item_tracking_check_invoice_relink(vals["invoice_line_id"])

    def _item_tracking_check_invoice_relink(self, invoice_line_id):
        line = self.env["account.move.line"].browse(invoice_line_id)
        for registration in self:
            current = registration.invoice_line_id
            if current and current.parent_state == "posted":
                raise UserError(
                    self.env._(
                        "The serial number %(serial)s is invoiced on %(invoice)s; reset the "
                        "invoice to draft first.",
                        serial=registration.display_name,
                        invoice=current.move_id.display_name,
                    )
                )
            if line and not line._item_tracking_registration_lines():
                raise UserError(
                    self.env._(
                        "%(line)s doesn't invoice serial numbers registered in the sales process.",
                        line=line.display_name,
                    )
                )
            partner = line.move_id.commercial_partner_id
            if line and registration.sale_line_id and line.sale_line_ids:
                if registration.sale_line_id not in line.sale_line_ids:
                    raise UserError(
                        self.env._(
                            "The serial number %(serial)s was sold on %(order)s, not on the "
                            "order of %(line)s.",
                            serial=registration.display_name,
                            order=registration.order_id.display_name,
                            line=line.display_name,
                        )
                    )
            elif (
                line
                and registration.partner_id
                and (registration.partner_id.commercial_partner_id != partner)
            ):
                raise UserError(
                    self.env._(
                        "The serial number %(serial)s was sold to %(customer)s, not to "
                        "%(partner)s.",
                        serial=registration.display_name,
                        customer=registration.partner_id.display_name,
                        partner=partner.display_name,
                    )
                )
            if line and line.parent_state != "draft":
                raise UserError(
                    self.env._(
                        "Serial numbers can only be added to a draft invoice (%(invoice)s).",
                        invoice=line.move_id.display_name,
                    )
                )
            if line and registration.state != "registered":
                raise UserError(
                    self.env._(
                        "The serial number %(serial)s is %(state)s and can't be invoiced again.",
                        serial=registration.display_name,
                        state=dict(self._fields["state"].selection)[registration.state],
                    )
                )

    def _item_tracking_check_created(self):
        """What a user creates is a registration, nothing more: statuses, credit notes and
        returns are kept by the documents (also against `default_*` context keys and
        `load`), and an invoice line takes serials while its invoice is a draft."""
        typed = self.filtered(
            lambda r: r.state != "registered" or r.refund_line_id or r.return_move_id
        )
        if typed:
            raise AccessError(
                self.env._(
                    "Serial registrations are created as Registered; invoices, credit notes and "
                    "returns change them (%(serials)s).",
                    serials=", ".join(typed.mapped("display_name")),
                )
            )
        for registration in self.filtered("invoice_line_id"):
            registration._item_tracking_check_invoice_relink(registration.invoice_line_id.id)

    def _item_tracking_check_links(self):
        """A registration's delivery line, delivery, product, order line and customer agree."""
        wrong = self.filtered(
            lambda r: r.move_id
            and (
                r.move_id.product_id != r.product_id
                or (r.picking_id and r.picking_id != r.move_id.picking_id)
                or (r.sale_line_id and r.move_id.sale_line_id != r.sale_line_id)
                or not r.move_id._item_tracking_registration_moves()
            )
        ) | self.filtered(lambda r: r.picking_id and not r.move_id)
        if wrong:
            raise ValidationError(
                self.env._(
                    "The serial numbers %(serials)s don't belong to the delivery line, order "
                    "line or customer they are linked to.",
                    serials=", ".join(wrong.mapped("display_name")),
                )
            )

    def _item_tracking_check_scope(self):
        wrong = self.filtered(
            lambda r: r.product_id.product_tmpl_id.item_tracking_code_id.scope != "sales"
        )
        if wrong:
            raise ValidationError(
                self.env._(
                    "Serial numbers are registered in the sales process only for products whose "
                    'item tracking code has the scope "Sales process only": %(products)s.',
                    products=", ".join(wrong.product_id.mapped("display_name")),
                )
            )

    @api.model
    def _item_tracking_check_new_names(self, vals_list, exclude=None):
        """Refuse, naming all of them, serials given twice or already registered (not
        reversed) for the same product and company."""
        keys = {}
        duplicates = set()
        for vals in vals_list:
            if not vals.get("name"):
                continue
            key = (
                vals.get("company_id") or self.env.company.id,
                vals["product_id"],
                serial_key(vals["name"]),
            )
            if key in keys:
                duplicates.add(vals["name"])
            keys[key] = vals["name"]
        existing = self._item_tracking_find_registered(
            {(company, product, key) for company, product, key in keys}, exclude=exclude
        )
        duplicates |= {keys[k] for k in existing}
        if duplicates:
            raise ValidationError(
                self.env._(
                    "These serial numbers are already registered: %(serials)s.",
                    serials=", ".join(sorted(duplicates)),
                )
            )

    @api.model
    def _item_tracking_find_registered(self, keys, exclude=None):
        """The (company, product, key) among `keys` already held by a registration that is
        not reversed: one query for the whole batch, across companies (the index is too)."""
        if not keys:
            return set()
        self.env["sale.serial.registration"].flush_model(
            ["name", "product_id", "company_id", "state"]
        )
        rows = [(c, p, k) for c, p, k in keys]
        self.env.cr.execute(
            SQL(
                """SELECT r.company_id, r.product_id, lower(r.name)
                     FROM sale_serial_registration r
                     JOIN unnest(%s::int[], %s::int[], %s::text[]) AS k(company_id, product_id, key)
                       ON r.company_id = k.company_id AND r.product_id = k.product_id
                      AND lower(r.name) = k.key
                    WHERE r.state != 'reversed' AND r.id != ALL(%s)""",
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                list(exclude.ids) if exclude else [],
            )
        )
        return set(self.env.cr.fetchall())

    @contextmanager
    def _item_tracking_unique_guard(self):
        """Turn the database's unique index violation (a concurrent registration of the same
        serial, committed after this transaction's checks) into an error naming the serial.
        Only this model's rows are written inside the savepoint: flushing everything there
        would recompute other models' fields at a moment their own flows don't expect."""
        try:
            with self.env.cr.savepoint(flush=False):
                yield
                self.env["sale.serial.registration"].flush_model()
        except psycopg2.errors.UniqueViolation as error:
            if UNIQUE_INDEX not in str(error):
                raise
            detail = (error.diag.message_detail or "").rsplit("=(", 1)[-1].rstrip(") .")
            serial = detail.split(", ", 2)[-1].rsplit(")", 1)[0] if detail else "?"
            raise ValidationError(
                self.env._(
                    "The serial number %(serial)s has just been registered by another user for "
                    "the same product; each serial number can be registered once.",
                    serial=serial,
                )
            ) from error

    def _item_tracking_log_corrections(self, old_names):
        """One chatter message per delivery and invoice, listing its corrected serials."""
        lines = defaultdict(list)
        for registration in self:
            old = old_names.get(registration.id)
            if old == registration.display_name:
                continue
            line = self.env._(
                "Serial number of %(product)s corrected: %(old)s → %(new)s.",
                product=registration.product_id.display_name,
                old=old,
                new=registration.display_name,
            )
            for document in (registration.picking_id, registration.invoice_id):
                if document:
                    lines[document].append(line)
        self._item_tracking_post_lines(lines)

    @api.model
    def _item_tracking_post_lines(self, lines):
        """Post {document: [line]} as one message per document."""
        for document, texts in lines.items():
            document.message_post(body=Markup("<br/>").join(texts))
