import math
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, float_round

OPEN_STATES = ("confirmed", "progress", "to_close")
# Marks the add-on's own moves of planned serials (split, merge) in the context: an object, so
# that no client (JSON-RPC, import) can send it.
HOLD_SERIALS = object()


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    link_component_tracking = fields.Boolean(
        compute="_compute_link_component_tracking",
        string="Link Component Numbers",
        help="The BoM links component serial/lot numbers to each finished serial.",
    )
    planned_serial_ids = fields.One2many(
        "mrp.production.serial", "production_id", string="Planned Serials"
    )

    @api.depends("bom_id.link_component_tracking", "product_id.tracking")
    def _compute_link_component_tracking(self):
        for production in self:
            production.link_component_tracking = bool(
                production.bom_id.link_component_tracking
                and production.product_id.tracking == "serial"
            )

    # ------------------------------------------------------------------ CRUD and flows
    def write(self, vals):
        if "bom_id" in vals:
            self._check_item_tracking_bom_change(vals["bom_id"])
        res = super().write(vals)
        if "product_qty" in vals or "bom_id" in vals:
            self._item_tracking_sync_serials()
        return res

    def _check_item_tracking_bom_change(self, bom_id):
        """An order in process keeps a BoM that links components (and doesn't get one): its
        planned serials and their links were made for it (R000-06)."""
        bom = self.env["mrp.bom"].browse(bom_id)
        wrong = self.filtered(
            lambda mo: mo.state not in ("draft", "cancel")
            and mo.bom_id != bom
            and (mo.bom_id.link_component_tracking or bom.link_component_tracking)
        )
        if wrong:
            raise UserError(
                self.env._(
                    "The bill of materials of these orders can't be changed once confirmed: "
                    "one of them links component numbers to each finished serial: %(orders)s",
                    orders=", ".join(wrong.mapped("display_name")),
                )
            )

    def action_confirm(self):
        res = super().action_confirm()
        self._item_tracking_sync_serials()
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        if self.env.context.get("item_tracking_no_sync") is HOLD_SERIALS:
            return res  # merged: the planned serials go to the new order
        self.filtered(lambda mo: mo.state == "cancel")._item_tracking_drop_serials()
        return res

    def _split_productions(self, amounts=False, cancel_remaining_qty=False, set_consumed_qty=False):
        """The planned serials follow the split, in their order: each order keeps as many as it
        has units to produce, the next ones go to its backorders (R000-07)."""
        serials = {production: production.planned_serial_ids for production in self}
        productions = super(
            MrpProduction, self.with_context(item_tracking_no_sync=HOLD_SERIALS)
        )._split_productions(amounts, cancel_remaining_qty, set_consumed_qty)
        productions = productions.with_env(self.env)
        group = None
        groups = []
        for production in productions:
            if production in serials:
                group = [production]
                groups.append(group)
            elif group is not None:
                group.append(production)
        moves = defaultdict(list)
        leftover = self.env["mrp.production.serial"]
        for group in groups:
            remaining = list(serials[group[0]])
            for production in group:
                count = production._item_tracking_unit_count()
                for serial in remaining[:count]:
                    if serial.production_id != production:
                        moves[production].append(serial.id)
                remaining = remaining[count:]
            leftover |= self.env["mrp.production.serial"].concat(*remaining)
        self._item_tracking_move_serials(moves)
        # units cancelled with the rest of the order (no backorder)
        self._item_tracking_drop_serials(leftover)
        productions._item_tracking_sync_serials()
        return productions

    def action_merge(self):
        serials = self.planned_serial_ids.sorted(lambda s: (s.production_id.id, s.sequence, s.id))
        action = super(
            MrpProduction, self.with_context(item_tracking_no_sync=HOLD_SERIALS)
        ).action_merge()
        merged = self.env["mrp.production"].browse(action.get("res_id"))
        if merged and serials:
            self._item_tracking_move_serials({merged: serials.ids})
        merged._item_tracking_sync_serials()
        return action

    def action_mass_produce(self):
        if self.link_component_tracking:
            raise UserError(
                self.env._(
                    "%(order)s links component numbers to each finished serial: use Link Serial "
                    "Numbers, then Produce.",
                    order=self.display_name,
                )
            )
        return super().action_mass_produce()

    def action_link_serials(self):
        """The Link Serial Numbers dialog of the order (R000-08/09)."""
        self.ensure_one()
        self._item_tracking_check_linkable()
        self._item_tracking_sync_serials()
        wizard = self.env["mrp.production.link.serials"].create({"production_id": self.id})
        return wizard._get_action()

    def action_print_planned_serials(self):
        self.ensure_one()
        return self.env.ref("stock.action_report_lot_label").report_action(
            self.planned_serial_ids.lot_id
        )

    def button_mark_done(self):
        """R000-06: an order that links component numbers is produced only when every unit to
        produce is fully linked; it is then split into one order per finished serial (as
        Odoo's Mass Produce does), each consuming exactly its own linked numbers."""
        linked = self.filtered(lambda mo: mo.link_component_tracking and mo.state in OPEN_STATES)
        if not linked:
            return super().button_mark_done()
        unit_orders, action = linked._item_tracking_prepare_units()
        if action:
            return action
        res = True
        if self - linked:
            res = super(MrpProduction, self - linked).button_mark_done()
        # one unit each: Odoo's own backorder logic has nothing left to split
        units_res = super(
            MrpProduction, unit_orders.with_context(mo_ids_to_backorder=False)
        ).button_mark_done()
        return units_res if res is True else res

    def _set_qty_producing(self, pick_manual_consumption_moves=True):
        """Odoo produces a serial product one unit at a time (or through Mass Produce); an
        order that links component numbers produces the number of units typed, all linked."""
        qty = self.qty_producing
        res = super()._set_qty_producing(pick_manual_consumption_moves)
        if (
            self.link_component_tracking
            and qty > 0
            and float_compare(
                qty, self.qty_producing, precision_rounding=self.product_uom_id.rounding
            )
            and self._item_tracking_unit_count(qty) <= self._item_tracking_unit_count()
        ):
            self.qty_producing = qty
        return res

    # ------------------------------------------------------------------ planned serials
    def _item_tracking_unit_count(self, qty=None):
        """Units (finished serials) still to produce, or in `qty` of the order's unit."""
        self.ensure_one()
        if qty is None:
            if self.state in ("done", "cancel"):
                return 0
            qty = self.product_qty - self.qty_produced
        units = self.product_uom_id._compute_quantity(qty, self.product_id.uom_id)
        return max(int(float_round(units, precision_digits=0)), 0)

    def _item_tracking_units_to_produce(self):
        """The planned serials that Produce makes now: the number typed in Quantity Producing
        (the first ones, in order), or all of them."""
        self.ensure_one()
        serials = self.planned_serial_ids.sorted(lambda s: (s.sequence, s.id))
        count = self._item_tracking_unit_count(self.qty_producing) if self.qty_producing else 0
        return serials[:count] if 0 < count < len(serials) else serials

    def _item_tracking_sync_serials(self):
        """As many planned serials as units to produce (R000-07): created at confirmation,
        added or removed (the last ones) when the quantity changes."""
        if self.env.context.get("item_tracking_no_sync") is HOLD_SERIALS:
            return
        to_drop = self.env["mrp.production.serial"]
        to_create = []
        linked = self.filtered(lambda mo: mo.link_component_tracking and mo.state in OPEN_STATES)
        linked._check_item_tracking_whole_units()
        for production in linked:
            serials = production.planned_serial_ids.sorted(lambda s: (s.sequence, s.id))
            count = production._item_tracking_unit_count()
            if len(serials) > count:
                to_drop |= serials[count:]
            elif len(serials) < count:
                start = max(serials.mapped("sequence"), default=0) + 1
                names = production._item_tracking_new_serial_names(count - len(serials))
                to_create.extend(
                    (production, start + index, name) for index, name in enumerate(names)
                )
        self._item_tracking_drop_serials(to_drop)
        if to_create:
            lots = self.env["stock.lot"].create(
                [
                    {
                        "name": name,
                        "product_id": production.product_id.id,
                        "company_id": production.company_id.id,
                    }
                    for production, _sequence, name in to_create
                ]
            )
            self.env["mrp.production.serial"].sudo().create(
                [
                    {"production_id": production.id, "sequence": sequence, "lot_id": lot.id}
                    for (production, sequence, _name), lot in zip(to_create, lots, strict=True)
                ]
            )

    def _check_item_tracking_whole_units(self):
        """One planned serial per unit: the quantity of a linked order is a whole number of
        units of the product (6 Units of a product counted in Dozens is half a serial)."""
        wrong = self.filtered(
            lambda mo: float_compare(
                (
                    units := mo.product_uom_id._compute_quantity(
                        mo.product_qty - mo.qty_produced, mo.product_id.uom_id
                    )
                ),
                round(units),
                precision_digits=4,
            )
        )
        if wrong:
            raise UserError(
                self.env._(
                    "These orders link component numbers to each finished serial, so they must "
                    "make a whole number of %(uom)s: %(orders)s",
                    uom=wrong[0].product_id.uom_id.name,
                    orders=", ".join(
                        f"{mo.display_name} ({mo.product_qty:g} {mo.product_uom_id.name})"
                        for mo in wrong
                    ),
                )
            )

    def _item_tracking_new_serial_names(self, count):
        """`count` free serial numbers, following Odoo's next-serial logic (the product's last
        serial plus one) or, for a product without serials yet, Odoo's serial sequence."""
        self.ensure_one()
        Lot = self.env["stock.lot"]
        first = Lot._get_next_serial(self.company_id, self.product_id) or self.env[
            "ir.sequence"
        ].next_by_code("stock.lot.serial")
        if not first:
            raise UserError(self.env._("Please set the first Serial Number or a default sequence"))
        names = []
        while len(names) < count:
            candidates = [
                vals["lot_name"] for vals in Lot.generate_lot_names(first, count - len(names) + 1)
            ]
            first = candidates.pop()
            taken = set(
                Lot.sudo()
                .search(
                    [
                        ("product_id", "=", self.product_id.id),
                        ("name", "in", candidates),
                        ("company_id", "in", [self.company_id.id, False]),
                    ]
                )
                .mapped("name")
            )
            names.extend(name for name in candidates if name not in taken)
        return names

    def _item_tracking_move_serials(self, serial_ids_by_production):
        """Give planned serials to other orders (split, merge). One write per receiving order
        (the ORM keeps the links' stored production and company); measured: not a hot spot
        of a 1,000-unit production."""
        Serial = self.env["mrp.production.serial"].sudo()
        for production, serial_ids in serial_ids_by_production.items():
            Serial.browse(serial_ids).write({"production_id": production.id})

    def _item_tracking_drop_serials(self, serials=None):
        """Remove planned serials (of the cancelled orders `self`, or `serials`) and their
        numbers, which have no moves: nothing can be received later under them by mistake."""
        serials = (self.planned_serial_ids if serials is None else serials).sudo()
        if not serials:
            return
        lots = serials.lot_id
        used = {
            lot.id
            for (lot,) in self.env["stock.move.line"]
            .sudo()
            ._read_group([("lot_id", "in", lots.ids)], ["lot_id"])
        } | set(
            self.env["mrp.production"]
            .sudo()
            .search([("lot_producing_id", "in", lots.ids)])
            .lot_producing_id.ids
        )
        serials.unlink()
        lots.filtered(lambda lot: lot.id not in used).unlink()

    # ------------------------------------------------------------------ linking
    def _item_tracking_check_linkable(self):
        """R000-09: linking needs the BoM's flag and an order in process."""
        wrong = self.filtered(
            lambda mo: not mo.link_component_tracking or mo.state not in OPEN_STATES
        )
        if wrong:
            raise UserError(
                self.env._(
                    "Serial numbers can only be linked on a confirmed or in-progress "
                    "manufacturing order whose BoM links component numbers to each finished "
                    "serial: %(orders)s",
                    orders=", ".join(wrong.mapped("display_name")),
                )
            )
        self.check_access("write")

    def _item_tracking_linkable_moves(self):
        """R000-02: storable tracked components are linked; others are consumed as usual."""
        return self.move_raw_ids.filtered(
            lambda move: move.state not in ("done", "cancel")
            and move.product_id.is_storable
            and move.product_id.tracking in ("lot", "serial")
            and move.product_id != move.raw_material_production_id.product_id
        )

    def _get_item_tracking_requirements(self):
        """{component: quantity per finished unit, in the component's unit}."""
        self.ensure_one()
        units = self._item_tracking_unit_count()
        if not units:
            return {}
        needed = defaultdict(float)
        for move in self._item_tracking_linkable_moves():
            needed[move.product_id] += move.product_qty
        return {
            product: float_round(qty / units, precision_rounding=product.uom_id.rounding)
            for product, qty in needed.items()
        }

    @api.model
    def _get_item_tracking_missing_links(self, serials):
        """{planned serial id: [(component, missing quantity)]} for the serials not fully
        linked."""
        missing = {}
        for production in serials.production_id:
            needed = production._get_item_tracking_requirements()
            for serial in serials.filtered(lambda s, p=production: s.production_id == p):
                given = defaultdict(float)
                for link in serial.link_ids:
                    given[link.product_id] += link.quantity
                gaps = [
                    (product, qty - given[product])
                    for product, qty in needed.items()
                    if float_compare(
                        given[product], qty, precision_rounding=product.uom_id.rounding
                    )
                    < 0
                ]
                if gaps:
                    missing[serial.id] = gaps
        return missing

    def _get_item_tracking_link_errors(self, entries):
        """The refusals of an assignment of component numbers to the planned serials of the
        order (R000-01/02/10), each naming the unit and component. `entries` are dicts
        (serial, product, lot, quantity). The rules are methods
        `_item_tracking_link_rule_<name>(entries, needed)`, listed by
        `_get_item_tracking_link_rules` (another module may add its own); the first one
        keeps only the entries the others can read."""
        self.ensure_one()
        needed = self._get_item_tracking_requirements()
        errors, entries = self._item_tracking_link_valid_entries(entries, needed)
        for rule in self._get_item_tracking_link_rules():
            errors += getattr(self, f"_item_tracking_link_rule_{rule}")(entries, needed)
        return errors

    def _get_item_tracking_link_rules(self):
        return ["quantity", "serial_once", "available", "blocked", "expired"]

    def _item_tracking_link_valid_entries(self, entries, needed):
        """R000-02: only storable tracked components of the order are linked, with their own
        numbers, a serial for one unit, positive quantities."""
        env = self.env
        errors = []
        valid = []
        for entry in entries:
            product, lot, unit = entry["product"], entry["lot"], entry["serial"].lot_id.name
            rounding = product.uom_id.rounding
            if product not in needed:
                message = env._(
                    "%(unit)s: %(component)s is not a component to link on %(order)s (only "
                    "storable components tracked by lot or serial number are linked).",
                    unit=unit,
                    component=product.display_name,
                    order=self.display_name,
                )
            elif lot.product_id != product:
                message = env._(
                    "%(unit)s: %(lot)s is not a number of %(component)s.",
                    unit=unit,
                    lot=lot.display_name,
                    component=product.display_name,
                )
            elif (
                not math.isfinite(entry["quantity"])
                or float_compare(entry["quantity"], 0, precision_rounding=rounding) <= 0
            ):
                message = env._(
                    "%(unit)s: the quantity of %(lot)s (%(component)s) must be positive.",
                    unit=unit,
                    lot=lot.name,
                    component=product.display_name,
                )
            elif product.tracking == "serial" and float_compare(
                entry["quantity"], 1, precision_rounding=rounding
            ):
                message = env._(
                    "%(unit)s: serial %(lot)s of %(component)s counts for one unit.",
                    unit=unit,
                    lot=lot.name,
                    component=product.display_name,
                )
            else:
                valid.append(entry)
                continue
            errors.append(message)
        return errors, valid

    def _item_tracking_link_rule_quantity(self, entries, needed):
        """A unit given anything gets exactly the BoM quantity of each linkable component."""
        given = defaultdict(lambda: defaultdict(float))
        for entry in entries:
            given[entry["serial"]][entry["product"]] += entry["quantity"]
        errors = []
        for serial, products in given.items():
            for product, qty in needed.items():
                linked = products.get(product, 0.0)
                if float_compare(linked, qty, precision_rounding=product.uom_id.rounding):
                    errors.append(
                        self.env._(
                            "%(unit)s: %(linked)s %(uom)s of %(component)s linked, the BoM "
                            "needs %(needed)s.",
                            unit=serial.lot_id.name,
                            linked=f"{linked:g}",
                            needed=f"{qty:g}",
                            uom=product.uom_id.name,
                            component=product.display_name,
                        )
                    )
        return errors

    def _item_tracking_link_rule_serial_once(self, entries, needed):
        """A component serial goes into one unit only, of one order."""
        units = defaultdict(list)
        for entry in entries:
            if entry["product"].tracking == "serial":
                units[entry["lot"]].append(entry["serial"].lot_id.name)
        errors = [
            self.env._(
                "Serial %(lot)s of %(component)s is linked to several units: %(units)s.",
                lot=lot.name,
                component=lot.product_id.display_name,
                units=", ".join(names),
            )
            for lot, names in units.items()
            if len(names) > 1
        ]
        if units:
            elsewhere = (
                self.env["mrp.production.serial.link"]
                .sudo()
                .search(
                    [
                        ("lot_id", "in", [lot.id for lot in units]),
                        ("production_id", "!=", self.id),
                    ]
                )
            )
            errors += [
                self.env._(
                    "Serial %(lot)s of %(component)s is already linked to %(unit)s of %(order)s.",
                    lot=link.lot_id.name,
                    component=link.product_id.display_name,
                    unit=link.serial_id.lot_id.name,
                    order=link.production_id.name,
                )
                for link in elsewhere
            ]
        return errors

    def _item_tracking_link_rule_available(self, entries, needed):
        """R000-10: what all units take of a number doesn't exceed what is reserved for the
        order or free in its component location."""
        totals = defaultdict(float)
        units = defaultdict(list)
        for entry in entries:
            totals[entry["lot"]] += entry["quantity"]
            units[entry["lot"]].append(entry["serial"].lot_id.name)
        lots = self.env["stock.lot"].concat(*totals)
        available = self._get_item_tracking_available(lots)
        errors = []
        for lot, total in totals.items():
            uom = lot.product_id.uom_id
            free = available.get(lot.id, 0.0)
            if float_compare(total, free, precision_rounding=uom.rounding) > 0:
                errors.append(
                    self.env._(
                        "%(lot)s of %(component)s: %(total)s %(uom)s linked (%(units)s), but "
                        "only %(available)s is reserved for %(order)s or free in "
                        "%(location)s.",
                        lot=lot.name,
                        component=lot.product_id.display_name,
                        total=f"{total:g}",
                        uom=uom.name,
                        units=", ".join(units[lot]),
                        available=f"{free:g}",
                        order=self.name,
                        location=self.location_src_id.display_name,
                    )
                )
        return errors

    def _item_tracking_link_rule_blocked(self, entries, needed):
        """R001-22: a blocked number isn't consumed."""
        blocked = {entry["lot"] for entry in entries if entry["lot"].blocked}
        if not blocked:
            return []
        return [
            self.env._(
                "These numbers are blocked and can't be used: %(lots)s.",
                lots=", ".join(f"{lot.name} ({lot.product_id.display_name})" for lot in blocked),
            )
        ]

    def _item_tracking_link_rule_expired(self, entries, needed):
        """R001-15: under strict expiration an expired number isn't consumed."""
        now = fields.Datetime.now()
        expired = {
            entry["lot"]
            for entry in entries
            if entry["lot"].expiration_date
            and entry["lot"].expiration_date < now
            and entry["product"].item_tracking_code_id.strict_expiration
        }
        if not expired:
            return []
        return [
            self.env._(
                "These numbers are expired and their item tracking code forbids using them: "
                "%(lots)s.",
                lots=", ".join(f"{lot.name} ({lot.product_id.display_name})" for lot in expired),
            )
        ]

    def _get_item_tracking_available(self, lots):
        """{lot id: quantity the order can consume of it} (R000-10): what is on hand in its
        component location less what other documents have reserved there (so what the
        order's own lines reserve or picked counts, and an over-reservation doesn't)."""
        self.ensure_one()
        if not lots:
            return {}
        mine = defaultdict(float)
        lines = self.move_raw_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        ).move_line_ids
        for line in lines:
            if line.lot_id in lots and line.location_id._child_of(self.location_src_id):
                mine[line.lot_id.id] += line.quantity_product_uom
        groups = self.env["stock.quant"]._read_group(
            [
                ("lot_id", "in", lots.ids),
                ("location_id", "child_of", self.location_src_id.id),
                ("location_id.usage", "in", ("internal", "transit")),
            ],
            ["lot_id"],
            ["quantity:sum", "reserved_quantity:sum"],
        )
        return {
            lot.id: max(min(quantity, quantity - reserved + mine[lot.id]), 0.0)
            for lot, quantity, reserved in groups
        }

    def _item_tracking_store_links(self, entries):
        """Replace the order's assignment by `entries` (checked), one link per unit and
        number."""
        self.ensure_one()
        quantities = defaultdict(float)
        for entry in entries:
            quantities[(entry["serial"].id, entry["product"].id, entry["lot"].id)] += entry[
                "quantity"
            ]
        Link = self.env["mrp.production.serial.link"].sudo()
        Link.search([("production_id", "=", self.id)]).unlink()
        Link.create(
            [
                {
                    "serial_id": serial_id,
                    "product_id": product_id,
                    "lot_id": lot_id,
                    "quantity": qty,
                }
                for (serial_id, product_id, lot_id), qty in quantities.items()
            ]
        )

    def _item_tracking_link_entries(self, serials):
        return [
            {
                "serial": link.serial_id,
                "product": link.product_id,
                "lot": link.lot_id,
                "quantity": link.quantity,
            }
            for link in serials.link_ids
        ]

    # ------------------------------------------------------------------ production
    def _item_tracking_prepare_units(self):
        """Check that every unit to produce is fully and rightly linked (R000-06), split the
        orders into one order per unit to produce, and give each one exactly its linked
        numbers. Returns the one-unit orders, ready for Odoo's own Mark as Done."""
        self._item_tracking_sync_serials()
        to_produce = {
            production: production._item_tracking_units_to_produce() for production in self
        }
        all_units = self.env["mrp.production.serial"].concat(*to_produce.values())
        missing = self._get_item_tracking_missing_links(all_units)
        errors = []
        for production, units in to_produce.items():
            if not units:
                errors.append(
                    self.env._("%(order)s has no serial to produce.", order=production.display_name)
                )
            gaps = [
                "%s: %s"
                % (
                    unit.lot_id.name,
                    ", ".join(
                        f"{qty:g} {product.uom_id.name} {product.display_name}"
                        for product, qty in missing[unit.id]
                    ),
                )
                for unit in units
                if unit.id in missing
            ]
            if gaps:
                errors.append(
                    self.env._(
                        "%(order)s can't be produced before every unit is linked (Link Serial "
                        "Numbers). Missing:\n%(gaps)s",
                        order=production.display_name,
                        gaps="\n".join(gaps),
                    )
                )
            else:
                errors += production._get_item_tracking_link_errors(
                    production._item_tracking_link_entries(units)
                )
        if errors:
            raise UserError("\n".join(errors))
        keep, close, ask = self._item_tracking_backorder_choice(to_produce)
        if ask:
            return self.browse(), self._action_generate_backorder_wizard(ask)
        split = self.browse()
        for group, cancel_rest in ((keep, False), (close, True)):
            to_split = group.filtered(lambda mo: mo._item_tracking_unit_count() > 1)
            if to_split:
                split |= to_split._split_productions(
                    {mo: [1] * len(to_produce[mo]) for mo in to_split},
                    cancel_remaining_qty=cancel_rest,
                )
        unit_orders = all_units.production_id
        # one unit each: Odoo's Mark as Done sets the quantities of the untracked components
        unit_orders.filtered("qty_producing").qty_producing = 0
        # the split spread the reservations in its own order: the backorder of the units not
        # produced now may hold numbers linked to the units produced now
        rest_moves = (split - unit_orders)._item_tracking_linkable_moves()
        rest_moves._do_unreserve()
        unit_orders._item_tracking_apply_links()
        rest_moves._action_assign()
        return unit_orders, None

    def _item_tracking_backorder_choice(self, to_produce):
        """(orders whose unproduced units go to a backorder, orders closed without one, orders
        for which Odoo's backorder question must be asked), by the operation type's "Create
        Backorder" as in vanilla, or by the answer of that question."""
        keep, close, ask = self.browse(), self.browse(), self.browse()
        answered = self.env.context.get("skip_backorder")
        to_backorder = self.env.context.get("mo_ids_to_backorder") or []
        for production, units in to_produce.items():
            policy = production.picking_type_id.create_backorder
            if len(units) >= production._item_tracking_unit_count():
                keep |= production
            elif answered:
                if production.id in to_backorder:
                    keep |= production
                else:
                    close |= production
            elif policy == "ask":
                ask |= production
            elif policy == "always":
                keep |= production
            else:
                close |= production
        return keep, close, ask

    def _item_tracking_apply_links(self):
        """Each one-unit order consumes exactly the numbers linked to its serial: its
        component lines are replaced by one line per linked number, taken from the quants
        that hold it in the component location, and picked (nothing later overwrites them)."""
        moves = self._item_tracking_linkable_moves()
        moves.move_line_ids.unlink()
        links = self.planned_serial_ids.link_ids
        quants = self.env["stock.quant"].search(
            [
                ("lot_id", "in", links.lot_id.ids),
                ("location_id.usage", "in", ("internal", "transit")),
                ("quantity", ">", 0),
            ],
            order="in_date, id",
        )
        quants_by_lot = defaultdict(list)
        free = {}
        for quant in quants:
            quants_by_lot[quant.lot_id.id].append(quant)
            free[quant.id] = quant.quantity - quant.reserved_quantity
        vals_list = []
        for production in self:
            serial = production.planned_serial_ids
            src_path = production.location_src_id.parent_path
            moves_by_product = defaultdict(list)
            for move in production._item_tracking_linkable_moves():
                moves_by_product[move.product_id].append(move)
            for link in serial.link_ids:
                need = link.quantity
                rounding = link.product_id.uom_id.rounding
                move = moves_by_product[link.product_id][0]
                for quant in quants_by_lot[link.lot_id.id]:
                    if not quant.location_id.parent_path.startswith(src_path):
                        continue
                    taken = min(need, free[quant.id])
                    if float_compare(taken, 0, precision_rounding=rounding) <= 0:
                        continue
                    vals = move._prepare_move_line_vals(taken, reserved_quant=quant)
                    vals["picked"] = True
                    vals_list.append(vals)
                    free[quant.id] -= taken
                    need -= taken
                    if float_is_zero(need, precision_rounding=rounding):
                        break
                if float_compare(need, 0, precision_rounding=rounding) > 0:
                    raise UserError(
                        self.env._(
                            "%(unit)s: %(lot)s of %(component)s is no longer free in "
                            "%(location)s (%(missing)s missing).",
                            unit=serial.lot_id.name,
                            lot=link.lot_id.name,
                            component=link.product_id.display_name,
                            location=production.location_src_id.display_name,
                            missing=f"{need:g}",
                        )
                    )
            production.lot_producing_id = serial.lot_id
        self.env["stock.move.line"].create(vals_list)
        moves.write({"picked": True, "manual_consumption": True})

    def _item_tracking_check_prepared(self):
        """The last guard before consumption: a linked order posts one unit, its planned
        serial, consuming exactly the numbers linked to it."""
        errors = []
        for production in self:
            serial = production.planned_serial_ids
            consumed = defaultdict(float)
            for line in production._item_tracking_linkable_moves().move_line_ids:
                if line.picked:
                    consumed[(line.product_id, line.lot_id)] += line.quantity_product_uom
            linked = defaultdict(float)
            for link in serial.link_ids:
                linked[(link.product_id, link.lot_id)] += link.quantity
            same = (
                len(serial) == 1
                and production.lot_producing_id == serial.lot_id
                and all(
                    not float_compare(
                        consumed.get(key, 0.0), qty, precision_rounding=key[0].uom_id.rounding
                    )
                    for key, qty in linked.items()
                )
                and set(consumed) <= set(linked)
            )
            if not same:
                errors.append(production.display_name)
        if errors:
            raise UserError(
                self.env._(
                    "These orders link component numbers to each finished serial and must be "
                    "produced through Produce, as linked: %(orders)s",
                    orders=", ".join(errors),
                )
            )

    def pre_button_mark_done(self):
        """Check the item tracking rules before any confirmation wizard (product_expiry's
        expired lots question, backorders) and before anything is consumed: components
        (strict expiration replaces product_expiry's question, R001-15) and the number
        being produced."""
        errors = self.move_raw_ids.move_line_ids._get_item_tracking_errors()
        errors += self._get_item_tracking_output_errors()
        if errors:
            raise UserError("\n\n".join(errors))
        return super().pre_button_mark_done()

    def _get_item_tracking_output_errors(self):
        """The produced lot/serial (`lot_producing_id`) is only put on the finished move line
        once the components are consumed, so its rules are checked here: blocked (R001-22),
        manual expiration date (R001-16)."""
        productions = self.filtered("lot_producing_id")
        blocked = productions.filtered(lambda mo: mo.lot_producing_id.blocked)
        undated = productions.filtered(
            lambda mo: (
                mo.product_id.item_tracking_code_id.scope == "inventory"
                and mo.product_id.item_tracking_code_id.expiration_date_required
                and not mo.lot_producing_id.expiration_date
            )
        )
        Line = self.env["stock.move.line"]
        errors = []
        for rule, failing in (("blocked", blocked), ("undated", undated)):
            if failing:
                errors.append(
                    Line._get_item_tracking_message(
                        rule, [(mo.product_id, mo.lot_producing_id.name) for mo in failing]
                    )
                )
        return errors

    def _post_inventory(self, cancel_backorder=False):
        """Once the finished moves are done (and valued, and linked to their components by
        `consume_line_ids`), record the unit cost of each finished lot/serial produced.
        An order that links component numbers posts one unit consuming exactly its links;
        its planned serial is then produced (the move lines are the genealogy)."""
        linked = self.filtered("link_component_tracking")
        linked._item_tracking_check_prepared()
        done_before = self.move_finished_ids.filtered(lambda move: move.state == "done")
        res = super()._post_inventory(cancel_backorder=cancel_backorder)
        linked.planned_serial_ids.sudo().unlink()
        finished = (self.move_finished_ids - done_before).filtered(
            lambda move: move.state == "done" and move.product_id == move.production_id.product_id
        )
        lines = finished.move_line_ids.filtered(lambda ml: ml.state == "done" and ml.lot_id)
        if lines:
            self._item_tracking_set_unit_costs(lines)
        return res

    def _item_tracking_set_unit_costs(self, finished_lines):
        """Store `stock.lot.unit_cost` of the lots of the done `finished_lines` (production
        move lines of these orders), in their company: per unit produced, the value of the
        line's own components (`consume_line_ids`) as their stock valuation layers valued
        them at consumption, plus its share of its order's operation cost (workorders, as
        mrp_account's `_cal_price` counts them) and extra unit cost. All orders at once: a
        fixed number of queries whatever the number of orders and serials."""
        component_values = self._item_tracking_get_component_values(finished_lines)
        produced = defaultdict(float)
        for line in finished_lines:
            produced[line.move_id.production_id] += line.quantity_product_uom
        operation_costs = {
            order: sum(order.workorder_ids.mapped(lambda wo: wo._cal_cost())) for order in produced
        }
        totals = defaultdict(lambda: [0.0, 0.0])  # (lot id, company id): [value, quantity]
        for line in finished_lines:
            order = line.move_id.production_id
            quantity = line.quantity_product_uom
            if not quantity or not produced[order]:
                continue
            value = (
                component_values.get(line.id, 0.0)
                + operation_costs[order] * quantity / produced[order]
                + order.extra_cost * quantity
            )
            total = totals[line.lot_id.id, line.company_id.id]
            total[0] += value
            total[1] += quantity
        digits = self.env["decimal.precision"].precision_get("Product Price")
        self.env["stock.lot"]._item_tracking_write_unit_costs(
            {
                key: float_round(value / quantity, precision_digits=digits)
                for key, (value, quantity) in totals.items()
                if quantity
            }
        )

    def _item_tracking_get_component_values(self, finished_lines):
        """{finished line id: value of its components}: each done consumed line is valued
        by the layers of its move, those of its own lot where the product is lot-valuated,
        else at the move's unit value (layer value / quantity); a line consumed for several
        finished lines (Odoo's all-to-all link of an order producing several lots) is shared
        among them in proportion of their quantity."""
        consumed = finished_lines.consume_line_ids.filtered(lambda ml: ml.state == "done")
        if not consumed:
            return {}
        layers = (
            self.env["stock.valuation.layer"]
            .sudo()
            ._read_group(
                [("stock_move_id", "in", consumed.move_id.ids)],
                ["stock_move_id", "lot_id"],
                ["value:sum", "quantity:sum"],
            )
        )
        by_move = defaultdict(lambda: [0.0, 0.0])
        by_lot = {}
        for move, lot, value, quantity in layers:
            by_move[move.id][0] += value
            by_move[move.id][1] += quantity
            if lot:
                by_lot[move.id, lot.id] = (value, quantity)
        values = defaultdict(float)
        for line in consumed:
            value, quantity = by_move[line.move_id.id]
            if line.product_id.lot_valuated and (line.move_id.id, line.lot_id.id) in by_lot:
                value, quantity = by_lot[line.move_id.id, line.lot_id.id]
            if not quantity:
                continue
            # A consumption's layers are negative in value and quantity: their ratio is the
            # unit cost.
            line_value = value / quantity * line.quantity_product_uom
            producers = line.produce_line_ids.filtered(lambda ml: ml.state == "done")
            produced = sum(producers.mapped("quantity_product_uom"))
            for producer in producers:
                if produced:
                    values[producer.id] += line_value * producer.quantity_product_uom / produced
        return values
