from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare, float_round

from .account_move_line_lot import BILL_MOVE_TYPES, LOT_ALLOCATION_MOVE_TYPES

# Line fields whose change re-proposes the lots of a draft line that the user did not edit.
LOT_ALLOCATION_TRIGGER_FIELDS = {"quantity", "product_id", "product_uom_id"}


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
            and (
                ln.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
                or ln._item_tracking_kit_components()
            )
        )

    def _item_tracking_units(self):
        self.ensure_one()
        return self.product_uom_id._compute_quantity(
            self.quantity, self.product_id.uom_id, round=False
        )

    def _item_tracking_kit_components(self):
        """{component: quantity per kit} of the components with sales-process serials of a
        kit (phantom BoM) line; empty for other lines. The kit's delivery registers them."""
        self.ensure_one()
        product = self.product_id
        if not product or not product.bom_ids.filtered(lambda b: b.type == "phantom"):
            return {}
        bom = self.env["mrp.bom"]._bom_find(
            product, bom_type="phantom", company_id=self.company_id.id
        )[product]
        if not bom:
            return {}
        _boms, bom_lines = bom.explode(product, 1)
        components = {}
        for bom_line, data in bom_lines:
            component = bom_line.product_id
            if component.product_tmpl_id.item_tracking_code_id.scope == "sales":
                components[component] = components.get(component, 0.0) + (
                    bom_line.product_uom_id._compute_quantity(data["qty"], component.uom_id)
                )
        return components

    def _item_tracking_serial_products(self):
        self.ensure_one()
        components = self._item_tracking_kit_components()
        return self.product_id.browse([p.id for p in components]) if components else self.product_id

    def _item_tracking_expected_serials(self):
        """How many serials the line invoices: one per unit, or per kit component unit."""
        self.ensure_one()
        units = self._item_tracking_units()
        components = self._item_tracking_kit_components()
        if components:
            units *= sum(components.values())
        return int(units + 1e-6)

    def _item_tracking_blank_issue_allowed(self):
        self.ensure_one()
        codes = self._item_tracking_serial_products().product_tmpl_id.item_tracking_code_id
        return bool(codes) and all(codes.mapped("blank_issue_allowed"))

    lot_allocation_edited = fields.Boolean(
        "Lots Edited",
        copy=False,
        help="The lots/serial numbers of this line were changed by a user: they no longer "
        "follow its quantity nor the deliveries.",
    )
    lot_origin_line_id = fields.Many2one(
        "account.move.line",
        "Reversed Line",
        copy=False,
        index="btree_not_null",
        help="The line of the reversed invoice whose lots/serial numbers this credit note "
        "line credits.",
    )
    lot_allocation_visible = fields.Boolean(compute="_compute_lot_allocation_visible")
    lot_allocation_summary = fields.Char(
        "Lots/Serial Numbers Summary", compute="_compute_lot_allocation_summary"
    )
    lot_allocation_product_ids = fields.Many2many(
        "product.product",
        string="Tracked Products",
        compute="_compute_lot_allocation_product_ids",
        help="The tracked products whose lots this line invoices: its product, or the "
        "components of the kit it invoices.",
    )

    @api.depends("product_id", "display_type", "move_id.move_type")
    def _compute_lot_allocation_visible(self):
        tracked = self._filter_lot_allocation_lines()
        for line in self:
            line.lot_allocation_visible = line in tracked

    @api.depends("lot_allocation_ids.display_name")
    def _compute_lot_allocation_summary(self):
        for line in self:
            line.lot_allocation_summary = ", ".join(line.lot_allocation_ids.mapped("display_name"))

    @api.depends("product_id", "quantity", "product_uom_id")
    def _compute_lot_allocation_product_ids(self):
        targets = self._filter_lot_allocation_lines()._get_lot_allocation_targets()
        for line in self:
            products = self.env["product.product"].union(*targets.get(line, {}))
            line.lot_allocation_product_ids = products

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._filter_lot_allocation_lines()._propose_lot_allocations()
        lines._item_tracking_registration_lines().filtered(
            lambda ln: ln.parent_state == "draft" and ln.sale_line_ids
        )._item_tracking_propose_registrations()
        return lines

    def write(self, vals):
        manual = "serial_registration_ids" in vals
        if manual:
            vals = dict(vals, serial_registration_manual=True)
        res = super().write(vals)
        self._item_tracking_write_lot_allocations(vals)
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
            wanted = line._item_tracking_expected_serials()
            products = line._item_tracking_serial_products()
            mine = available.filtered(
                lambda r, line=line, products=products: r.sale_line_id in line.sale_line_ids
                and r.product_id in products
            )[: max(wanted, 0)]
            available -= mine
            current = line.serial_registration_ids
            if current == mine:
                continue
            # The proposal is the add-on's own bookkeeping of lines the user may edit.
            (current - mine).sudo().write({"invoice_line_id": False})
            (mine - current).sudo().write({"invoice_line_id": line.id})

    def _item_tracking_refund_lines(self):
        return self.filtered(
            lambda ln: ln.display_type == "product"
            and ln.move_id.move_type == "out_refund"
            and ln.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
        )

    def _item_tracking_write_lot_allocations(self, vals):
        if LOT_ALLOCATION_TRIGGER_FIELDS & vals.keys():
            lines = self._filter_lot_allocation_lines().filtered(
                lambda line: line.parent_state == "draft"
            )
            if "product_id" in vals:
                # Lots of another product mean nothing any more: propose again, or drop them
                # when the new product isn't tracked.
                lines.filtered("lot_allocation_edited").lot_allocation_edited = False
                (self - lines).filtered(
                    lambda line: line.parent_state == "draft"
                ).sudo().lot_allocation_ids.unlink()
            lines.filtered(lambda line: not line.lot_allocation_edited)._propose_lot_allocations()

    def action_open_lot_allocations(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Lots/Serial Numbers of %(line)s", line=self.display_name),
            "res_model": "account.move.line",
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (self.env.ref("stock_item_tracking.view_move_line_form_lot_allocation").id, "form")
            ],
            "target": "new",
        }

    # ---- Lots/serial numbers stored on invoice lines (issue 14, item 7) ------------------

    def _mark_lot_allocation_edited(self):
        """A user changed the lots of these lines: they stop following quantity and stock."""
        self.filtered(lambda line: not line.lot_allocation_edited).lot_allocation_edited = True

    def _filter_lot_allocation_lines(self):
        """Product lines of customer invoices/credit notes and vendor bills/refunds whose
        product is tracked in stock (itself, or a component of a kit)."""
        return self.filtered(
            lambda line: line.display_type == "product"
            and line.product_id
            and line.move_id.move_type in LOT_ALLOCATION_MOVE_TYPES
            and (line.product_id.tracking != "none" or line.product_id.is_kits)
        )

    def _get_lot_allocation_targets(self):
        """{line: {product: quantity}}: the tracked products each line invoices, in the
        product's unit, positive; a kit is exploded into its components as mrp_account's
        `_get_invoiced_qty_per_product` does it for the printed invoice."""
        targets = {}
        kits = {}
        kit_lines = self.filtered(lambda line: line.product_id.is_kits)
        for company in kit_lines.company_id:
            company_lines = kit_lines.filtered(
                lambda line, company=company: line.company_id == company
            )
            # BoMs read as a system fact: an invoicing user may have no manufacturing access.
            kits.update(
                self.env["mrp.bom"]
                .sudo()
                ._bom_find(company_lines.product_id, company_id=company.id, bom_type="phantom")
            )
        for line in self:
            product = line.product_id
            qty = abs(line.product_uom_id._compute_quantity(line.quantity, product.uom_id))
            qties = defaultdict(float)
            bom = kits.get(product)
            if bom:
                kit_qty = product.uom_id._compute_quantity(qty, bom.product_uom_id, round=False)
                __, bom_lines = bom.explode(product, kit_qty / bom.product_qty)
                for bom_line, data in bom_lines:
                    qties[bom_line.product_id.with_env(self.env)] += (
                        bom_line.product_uom_id._compute_quantity(
                            data["qty"], bom_line.product_id.uom_id
                        )
                    )
            elif product.tracking != "none":
                qties[product] += qty
            targets[line] = {p: q for p, q in qties.items() if p.tracking != "none" and q > 0}
        return targets

    def _get_lot_allocation_sources(self):
        """The order lines whose stock moves bring the lots of this line."""
        self.ensure_one()
        if self.move_id.move_type in BILL_MOVE_TYPES:
            return self.purchase_line_id
        return self.sale_line_ids

    def _get_lot_allocation_state(self, fill=False, posted_only=False):
        """The pools the lines of `self` take their lots from, read in a constant number of
        queries: stock moved per order line and lot, what other invoice lines already store
        (the lines of `self` left out unless `fill`: they keep theirs), the lots of the
        reversed lines. With `posted_only`, only posted invoices count as invoiced."""
        state = {
            "moved": defaultdict(lambda: defaultdict(float)),
            # Lots in the order of their first move each way (dicts used as ordered sets).
            "out": defaultdict(dict),
            "back": defaultdict(dict),
            "billed": defaultdict(lambda: defaultdict(float)),
            "origin": defaultdict(dict),
            "credited": defaultdict(lambda: defaultdict(float)),
        }
        exclude = self.browse() if fill else self
        bills = self.filtered(lambda line: line.move_id.move_type in BILL_MOVE_TYPES)
        for order_lines, link, usage, path in (
            (
                (self - bills).sale_line_ids,
                "sale_line_id",
                "customer",
                "account_move_line_id.sale_line_ids",
            ),
            (
                bills.purchase_line_id,
                "purchase_line_id",
                "supplier",
                "account_move_line_id.purchase_line_id",
            ),
        ):
            if order_lines:
                self._read_lot_allocation_stock(state, order_lines, link, usage)
                self._read_lot_allocation_billed(state, order_lines, path, exclude, posted_only)
        self._read_lot_allocation_origins(state, self.lot_origin_line_id, exclude, posted_only)
        return state

    @api.model
    def _read_lot_allocation_stock(self, state, order_lines, link, partner_usage):
        """Net quantities per lot moved to the partner by the done stock moves of
        `order_lines` (sales: delivered minus returned; purchases: received minus returned),
        in the product's unit; the lots listed in the order of their first move each way.
        One search for all lines, read as a system fact (an invoicing user may have no
        stock access)."""
        for (
            source_id,
            lot,
            product,
            qty,
            uom,
            source_usage,
            dest_usage,
        ) in self._fetch_lot_allocation_moves(order_lines, link):
            if partner_usage == "customer":
                sign = (dest_usage == "customer") - (source_usage == "customer")
            else:
                sign = (source_usage == "supplier") - (dest_usage == "supplier")
            if not sign:
                continue
            if uom != product.uom_id:
                qty = uom._compute_quantity(qty, product.uom_id)
            source = order_lines.browse(source_id).with_prefetch(order_lines._prefetch_ids)
            order = state["out"] if sign > 0 else state["back"]
            order[source].setdefault(lot, None)
            state["moved"][source][lot] += sign * qty

    @api.model
    def _fetch_lot_allocation_moves(self, order_lines, link):
        """(order line id, lot, product, quantity, unit, source usage, destination usage) of
        the done move lines with a lot of the moves of `order_lines`, in the order they were
        done: one query (``make bench``: reading a 1,000-serial delivery's lines through the
        ORM, twice per invoice, cost more than vanilla's print-time computation). The lots,
        products and units are records sharing one prefetch set."""
        self.env["stock.move.line"].flush_model(
            [
                "move_id",
                "lot_id",
                "product_id",
                "quantity",
                "product_uom_id",
                "location_id",
                "location_dest_id",
                "state",
                "date",
            ]
        )
        self.env["stock.move"].flush_model([link])
        self.env.cr.execute(
            SQL(
                """SELECT sm.%(link)s, sml.lot_id, sml.product_id, sml.quantity,
                          sml.product_uom_id, src.usage, dst.usage
                     FROM stock_move_line sml
                     JOIN stock_move sm ON sm.id = sml.move_id
                     JOIN stock_location src ON src.id = sml.location_id
                     JOIN stock_location dst ON dst.id = sml.location_dest_id
                    WHERE sm.%(link)s = ANY(%(lines)s) AND sml.state = 'done'
                      AND sml.lot_id IS NOT NULL
                 ORDER BY sml.date, sml.id""",
                link=SQL.identifier(link),
                lines=order_lines.ids,
            )
        )
        rows = self.env.cr.fetchall()
        # Read as system facts: an invoicing user may have no stock access.
        lots = self.env["stock.lot"].sudo().browse({row[1] for row in rows})
        products = self.env["product.product"].sudo().browse({row[2] for row in rows})
        uoms = self.env["uom.uom"].sudo().browse({row[4] for row in rows})
        lot_by_id = {lot.id: lot for lot in lots}
        product_by_id = {product.id: product for product in products}
        uom_by_id = {uom.id: uom for uom in uoms}
        for line_id, lot_id, product_id, qty, uom_id, source_usage, dest_usage in rows:
            yield (
                line_id,
                lot_by_id[lot_id],
                product_by_id[product_id],
                qty,
                uom_by_id[uom_id],
                source_usage,
                dest_usage,
            )

    @api.model
    def _read_lot_allocation_billed(self, state, order_lines, path, exclude, posted_only):
        """Net quantities per lot stored on the invoice lines of `order_lines` (invoices minus
        credit notes), the lines of `exclude` left out."""
        groups = (
            self.env["account.move.line.lot"]
            .sudo()
            ._read_group(
                [
                    (path, "in", order_lines.ids),
                    ("account_move_line_id", "not in", exclude.ids),
                    self._lot_allocation_state_domain(posted_only),
                ],
                ["account_move_line_id", "lot_id"],
                ["quantity:sum"],
            )
        )
        for line, lot, qty in groups:
            line = line.with_env(self.env)
            sign = -1 if line.move_id.move_type in ("out_refund", "in_refund") else 1
            for source in line._get_lot_allocation_sources() & order_lines:
                state["billed"][source][lot.with_env(self.env)] += sign * qty

    @api.model
    def _read_lot_allocation_origins(self, state, origins, exclude, posted_only):
        """The lots of the reversed lines `origins`, and what other credit note lines of
        them already credit."""
        if not origins:
            return
        Allocation = self.env["account.move.line.lot"].sudo()
        for allocation in Allocation.search_fetch(
            [("account_move_line_id", "in", origins.ids)],
            ["account_move_line_id", "lot_id", "quantity"],
        ):
            lots = state["origin"][allocation.account_move_line_id.with_env(self.env)]
            lot = allocation.lot_id.with_env(self.env)
            lots[lot] = lots.get(lot, 0.0) + allocation.quantity
        groups = Allocation._read_group(
            [
                ("account_move_line_id.lot_origin_line_id", "in", origins.ids),
                ("account_move_line_id", "not in", exclude.ids),
                self._lot_allocation_state_domain(posted_only),
            ],
            ["account_move_line_id", "lot_id"],
            ["quantity:sum"],
        )
        for line, lot, qty in groups:
            origin = line.lot_origin_line_id.with_env(self.env)
            state["credited"][origin][lot.with_env(self.env)] += qty

    @api.model
    def _lot_allocation_state_domain(self, posted_only):
        if posted_only:
            return ("account_move_id.state", "=", "posted")
        return ("account_move_id.state", "!=", "cancel")

    def _iter_lot_allocation_pool(self, state):
        """(counter, lot, sign, available) for this line, in the order it takes them: a credit
        note of a reversed invoice takes that invoice's lots not yet credited; another
        credit note the lots invoiced and returned; an invoice the lots delivered (received)
        and not yet invoiced, first delivered first. Taking `qty` of a lot adds
        `qty * sign` to `counter[lot]`; `available` is read when the item is reached."""
        self.ensure_one()
        origin = self.lot_origin_line_id
        if origin:
            credited = state["credited"][origin]
            for lot, qty in state["origin"][origin].items():
                yield credited, lot, 1, qty - credited[lot]
            return
        refund = self.move_id.move_type in ("out_refund", "in_refund")
        for source in self._get_lot_allocation_sources():
            moved = state["moved"][source]
            billed = state["billed"][source]
            if refund:
                for lot in state["back"][source]:
                    yield billed, lot, -1, billed[lot] - max(moved[lot], 0.0)
            else:
                for lot in state["out"][source]:
                    yield billed, lot, 1, moved[lot] - billed[lot]

    def _take_lot_allocations(self, state, remaining):
        """Take from the pools of `state` the lots this line needs for `remaining`
        ({product: quantity}); return {lot: quantity} in taking order."""
        taken = {}
        roundings = {}
        for counter, lot, sign, available in self._iter_lot_allocation_pool(state):
            product = lot.product_id
            rounding = roundings.get(product)
            if rounding is None:
                rounding = roundings[product] = product.uom_id.rounding
            need = remaining.get(product, 0.0)
            if need < rounding / 2 or available < rounding / 2:
                # float_compare(x, 0, precision_rounding=rounding) <= 0, without its cost
                continue
            qty = float_round(min(need, available), precision_rounding=rounding)
            remaining[product] = need - qty
            counter[lot] += sign * qty
            taken[lot] = taken.get(lot, 0.0) + qty
        return taken

    def _sorted_for_lot_allocation(self):
        return self.sorted(
            lambda line: (line.move_id.invoice_date or line.date, line.move_id.id, line.id)
        )

    def _propose_lot_allocations(self, fill=False, posted_only=False):
        """Propose the lots of these lines (from `_filter_lot_allocation_lines`): replace
        them, or with `fill` complete lines that are short (an invoice posted before its
        delivery). A system write (the proposal follows stock, not the user's rights):
        batched, one create for all lines, nothing written for a line whose lots stay."""
        lines = self._sorted_for_lot_allocation()
        if not lines:
            return
        targets = lines._get_lot_allocation_targets()
        state = lines._get_lot_allocation_state(fill=fill, posted_only=posted_only)
        Allocation = self.env["account.move.line.lot"].sudo()
        to_unlink = Allocation
        vals_list = []
        for line in lines:
            current = line.sudo().lot_allocation_ids
            remaining = dict(targets[line])
            if fill:
                for allocation in current:
                    product = allocation.product_id
                    remaining[product] = remaining.get(product, 0.0) - allocation.quantity
            taken = line._take_lot_allocations(state, remaining)
            if not fill:
                if [(a.lot_id.id, a.quantity) for a in current] == [
                    (lot.id, qty) for lot, qty in taken.items()
                ]:
                    continue
                to_unlink |= current
            sequence = max(current.mapped("sequence"), default=0) if fill else 0
            for lot, qty in taken.items():
                sequence += 1
                vals_list.append(
                    {
                        "account_move_line_id": line.id,
                        "lot_id": lot.id,
                        "quantity": qty,
                        "sequence": sequence,
                    }
                )
        to_unlink.unlink()
        self._insert_lot_allocations(vals_list)

    def _insert_lot_allocations(self, vals_list):
        """Store proposed allocations in one INSERT (``make bench``: the ORM's create of a
        1,000-serial invoice's rows cost more than vanilla's whole print-time computation).
        The rows are the add-on's own proposal, valid by construction (lots of the lines'
        own deliveries or receipts, of their products), so the user-edit guards and the
        product constraint that ``create`` runs for users don't apply. Override to go back
        to the ORM."""
        if not vals_list:
            return
        lines = self.browse({vals["account_move_line_id"] for vals in vals_list})
        lots = self.env["stock.lot"].browse({vals["lot_id"] for vals in vals_list})
        lines.fetch(["move_id", "company_id"])
        lots.fetch(["product_id"])
        columns = defaultdict(list)
        for vals in vals_list:
            line = self.browse(vals["account_move_line_id"])
            columns["line"].append(line.id)
            columns["move"].append(line.move_id.id)
            columns["company"].append(line.company_id.id)
            columns["product"].append(self.env["stock.lot"].browse(vals["lot_id"]).product_id.id)
            columns["lot"].append(vals["lot_id"])
            columns["quantity"].append(vals["quantity"])
            columns["sequence"].append(vals.get("sequence", 10))
        self.env["account.move.line.lot"].flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO account_move_line_lot
                       (account_move_line_id, account_move_id, company_id, product_id, lot_id,
                        quantity, sequence, create_uid, write_uid, create_date, write_date)
                   SELECT line, move, company, product, lot, quantity, sequence, %(uid)s,
                          %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                     FROM unnest(%(line)s::int[], %(move)s::int[], %(company)s::int[],
                                 %(product)s::int[], %(lot)s::int[], %(quantity)s::float8[],
                                 %(sequence)s::int[])
                       AS v(line, move, company, product, lot, quantity, sequence)""",
                uid=self.env.uid,
                **columns,
            )
        )
        self.env["account.move.line.lot"].invalidate_model()
        lines.invalidate_recordset(["lot_allocation_ids"])

    def _check_lot_allocations(self):
        """Refuse to post lines whose lots, as a user edited them, break a rule of
        `_get_lot_allocation_rules` (each a method returning the offending allocations of a
        line from its facts), naming the lots."""
        lines = self._sorted_for_lot_allocation()
        facts = lines._get_lot_allocation_facts()
        messages = self._get_lot_allocation_messages()
        for rule in self._get_lot_allocation_rules():
            errors = []
            for line in lines:
                wrong = getattr(line, rule)(facts[line])
                if wrong:
                    errors.append((line, wrong))
            if errors:
                raise UserError(messages[rule] + "\n" + self._format_lot_allocation_errors(errors))

    @api.model
    def _get_lot_allocation_rules(self):
        """The posting rules of edited lots, in the order they are checked."""
        return ["_lot_allocation_rule_over", "_lot_allocation_rule_unavailable"]

    @api.model
    def _get_lot_allocation_messages(self):
        return {
            "_lot_allocation_rule_over": self.env._(
                "These lots/serial numbers add up to more than their invoice line invoices; "
                "lower their quantities:"
            ),
            "_lot_allocation_rule_unavailable": self.env._(
                "These lots/serial numbers were not delivered (received) for their invoice "
                "line, or are already invoiced:"
            ),
        }

    def _get_lot_allocation_facts(self):
        """{line: facts} for the posting rules: `target` ({product: quantity} the line
        invoices), `allocated` ({product: quantity} of its lots), `available` ({lot:
        quantity} it may take, None when there is nothing to check against: a credit note
        of a return, a line without order). The lines are taken in order, each consuming
        what it stores, so two lines of one posting can't store the same serial."""
        targets = self._get_lot_allocation_targets()
        state = self._get_lot_allocation_state(posted_only=True)
        facts = {}
        for line in self:
            allocations = line.lot_allocation_ids
            allocated = defaultdict(float)
            for allocation in allocations:
                allocated[allocation.product_id] += allocation.quantity
            refund = line.move_id.move_type in ("out_refund", "in_refund")
            origin = line.lot_origin_line_id
            available = None
            if origin or (not refund and line._get_lot_allocation_sources()):
                available = defaultdict(float)
                counters = {}
                for counter, lot, sign, qty in line._iter_lot_allocation_pool(state):
                    available[lot] += max(qty, 0.0)
                    counters.setdefault(lot, (counter, sign))
                for allocation in allocations:
                    if allocation.lot_id in counters:
                        counter, sign = counters[allocation.lot_id]
                        counter[allocation.lot_id] += sign * allocation.quantity
            facts[line] = {"target": targets[line], "allocated": allocated, "available": available}
        return facts

    def _lot_allocation_rule_over(self, facts):
        """Lots adding up to more than the line invoices of their product."""
        over = [
            product
            for product, qty in facts["allocated"].items()
            if float_compare(
                qty, facts["target"].get(product, 0.0), precision_rounding=product.uom_id.rounding
            )
            > 0
        ]
        return self.lot_allocation_ids.filtered(lambda a: a.product_id in over)

    def _lot_allocation_rule_unavailable(self, facts):
        """Lots not delivered (received) for the line's order line, or already invoiced (or,
        on a credit note of an invoice, not on that invoice or already credited)."""
        available = facts["available"]
        if available is None:
            return self.lot_allocation_ids.browse()
        return self.lot_allocation_ids.filtered(
            lambda a: float_compare(
                a.quantity, available[a.lot_id], precision_rounding=a.product_uom_id.rounding
            )
            > 0
        )

    @api.model
    def _format_lot_allocation_errors(self, errors):
        return "\n".join(
            f"- {line.move_id.display_name}, {line.product_id.display_name}: "
            + ", ".join(allocations.mapped("display_name"))
            for line, allocations in errors
        )
