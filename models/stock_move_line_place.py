"""One reservation and one place per serial number (issue 15, items 3 and 4).

For serial-tracked products with an item tracking code only: products without a code keep
Odoo's behaviour exactly.

- Concurrency: every transaction that reserves, moves or edits such a serial updates the
  serial's `stock_lot` row (`_item_tracking_lock_serials`). Odoo runs in REPEATABLE READ, so
  of two transactions that touch the same serial at the same moment the second waits for the
  first and then fails with a serialization error, which Odoo's `retrying` (every RPC and
  HTTP request) retries with a fresh snapshot: it then sees what the first committed.
- One reservation: an open line that reserves a serial already reserved by another
  document's line that nobody picked takes it (those lines are removed and their moves
  reserve again: another serial, or they wait), as Odoo does when such a line is validated;
  a serial picked on another document is refused. Quants never show more reserved than on
  hand.
- One place: rules checked on the quants once the whole batch moved (`_action_done`, done
  line edits): a serial isn't on hand twice (all internal and transit locations, all
  warehouses and companies), nothing leaves a location where the serial isn't; a serial at a
  customer comes back by a return of its delivery or from that customer.
"""

from collections import defaultdict

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare

from ..tools.lot_status import STOCK_USAGES
from .stock_lot import MANAGER_GROUP
from .stock_move_line import format_product_lots

# Writing one of these on an open line reserves again (Odoo re-syncs the quants).
REBOOKING_FIELDS = frozenset(("lot_id", "quant_id", "location_id", "quantity", "product_uom_id"))


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._item_tracking_check_single_reservation()
        return lines

    def write(self, vals):
        res = super().write(vals)
        if REBOOKING_FIELDS.intersection(vals):
            self._item_tracking_check_single_reservation()
        return res

    def _action_done(self):
        overrides = self._item_tracking_customer_overrides()
        res = super()._action_done()
        self._item_tracking_log_customer_overrides(overrides)
        return res

    def _item_tracking_after_done(self, done):
        res = super()._item_tracking_after_done(done)
        # After Odoo gave the lines typed by name their lot.
        done._item_tracking_lock_serials()
        done._item_tracking_merge_split_quants()
        done._check_item_tracking_place()
        return res

    def _check_item_tracking_done_edit(self, lots):
        """Done lines edited or added: the place rules hold once the stock moved again."""
        self._item_tracking_lock_serials(lots)
        res = super()._check_item_tracking_done_edit(lots)
        self._check_item_tracking_place()
        return res

    # ------------------------------------------------------------------
    # Concurrency
    # ------------------------------------------------------------------
    def _item_tracking_place_lots(self, lots=None):
        """The lots of these lines (and `lots`) that the rules of this file guard: serials of
        products with an item tracking code."""
        lots = self.lot_id | (lots or self.env["stock.lot"])
        products = lots.product_id
        guarded = products.filtered(
            lambda product: product.tracking == "serial"
            and product.product_tmpl_id.item_tracking_code_id
        )
        if guarded == products:
            return lots
        return lots.filtered(lambda lot: lot.product_id in guarded)

    def _item_tracking_lock_serials(self, lots=None):
        """Update the rows of the guarded serials of these lines (and `lots`), in id order, so
        that two transactions that reserve or move the same serial can't both commit what they
        decided from their own snapshot: the second waits for the first, then gets a
        serialization failure and is retried. One query for the whole recordset.

        Left out, since this transaction writes their rows anyway (which serializes it with
        any other that touches them just the same, at the latest when it flushes): a lot
        created by this transaction (no other sees it before this one commits, and one that
        creates the same number waits on the number's constraint) and a lot this transaction
        wrote through the ORM (its `write_date` is the transaction's timestamp, e.g. the
        status a validation has just given it)."""
        now = self.env.cr.now()
        lot_ids = (
            self._item_tracking_place_lots(lots)
            .filtered(lambda lot: lot.create_date != now and lot.write_date != now)
            .ids
        )
        if not lot_ids:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE stock_lot SET write_date = write_date
                    WHERE id IN (SELECT id FROM stock_lot WHERE id = ANY(%s)
                                  ORDER BY id FOR NO KEY UPDATE)""",
                sorted(lot_ids),
            )
        )

    def _item_tracking_merge_split_quants(self):
        """Merge the quants that Odoo split while another transaction held a serial's quant.

        Odoo reserves and moves with ``SKIP LOCKED``: when another transaction holds the
        quant, it creates a second quant of the same serial, place, package and owner that
        carries only the reservation (quantity 0, reserved 1) or the move (a negative
        quantity). When the other transaction committed, this one fails on the serial's lock
        and is retried; when it rolled back (a refused validation), nothing else would repair
        the split, and a quant would show more reserved than on hand. Once this transaction
        holds the serial's lock, Odoo's own ``_merge_quants`` merges such quants of these
        lines' guarded serials, where they are taken from and put (one query when there are
        none). A merge that can't be done (the other quant still locked) is refused, naming
        the serials.
        """
        lots = self._item_tracking_place_lots()
        if not lots:
            return
        locations = (self.location_id | self.location_dest_id).filtered(
            lambda location: location.usage in STOCK_USAGES
        )
        if not locations:
            return
        Quant = self.env["stock.quant"].sudo()
        Quant.flush_model()
        query = SQL(
            """SELECT ARRAY_AGG(id) FROM stock_quant
                WHERE lot_id = ANY(%s) AND location_id = ANY(%s)
             GROUP BY product_id, company_id, location_id, lot_id, package_id, owner_id
               HAVING COUNT(*) > 1""",
            lots.ids,
            locations.ids,
        )
        split = [quant_id for (ids,) in self.env.execute_query(query) for quant_id in ids]
        if not split:
            return
        Quant.browse(split)._merge_quants()
        left = [quant_id for (ids,) in self.env.execute_query(query) for quant_id in ids]
        if left:
            raise UserError(
                self.env._(
                    "Another operation is moving these serial numbers right now; try again:"
                    "\n%(lots)s",
                    lots=format_product_lots(
                        (quant.product_id, quant.lot_id.name) for quant in Quant.browse(left)
                    ),
                )
            )

    # ------------------------------------------------------------------
    # One reservation per serial
    # ------------------------------------------------------------------
    def _item_tracking_check_single_reservation(self):
        """A guarded serial is reserved once where it is: when these open lines reserve one
        whose quant shows more reserved than on hand, the lines of other documents that
        nobody picked give it up (their moves reserve again); a serial picked elsewhere is
        refused, naming it and the documents. A serial that isn't on hand where the line
        takes it from is left to the validation rules (as Odoo does)."""
        lines = self.filtered(
            lambda ml: ml.lot_id
            and ml.location_id.usage in STOCK_USAGES
            and ml.state not in ("done", "cancel")
        )
        if not lines:
            return
        guarded = set(lines._item_tracking_place_lots().ids)
        lines = lines.filtered(lambda ml: ml.lot_id.id in guarded)
        if not lines:
            return
        lines._item_tracking_lock_serials()
        lines._item_tracking_merge_split_quants()
        over = lines._item_tracking_over_reserved()
        if not over:
            return
        others = (
            self.sudo()
            .search(
                [
                    ("lot_id", "in", list({lot for lot, _location in over})),
                    ("location_id", "in", list({location for _lot, location in over})),
                    ("state", "not in", ("done", "cancel")),
                    ("id", "not in", self.ids),
                    ("quantity_product_uom", ">", 0),
                ]
            )
            .filtered(lambda ml: (ml.lot_id.id, ml.location_id.id) in over)
        )
        released = others.filtered(lambda ml: not ml.picked)
        if released:
            moves = released.move_id
            released.unlink()
            moves._action_assign()
            over = lines._item_tracking_over_reserved()
        if over:
            held = others.filtered(lambda ml: (ml.lot_id.id, ml.location_id.id) in over)
            raise UserError(
                self.env._(
                    "One reservation per serial number: these serial numbers are already "
                    "picked on another operation:\n%(lines)s",
                    lines="\n".join(
                        f"- {ml.product_id.display_name}: {ml.lot_id.name} "
                        f"({ml.reference or ml.location_id.display_name})"
                        for ml in held
                    )
                    or format_product_lots(
                        (ml.product_id, ml.lot_id.name)
                        for ml in lines
                        if (ml.lot_id.id, ml.location_id.id) in over
                    ),
                )
            )

    def _item_tracking_over_reserved(self):
        """{(lot id, location id)} of these lines' serials whose quants there show more
        reserved than their positive quantity on hand (one query)."""
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", self.lot_id.ids),
                    ("location_id", "in", self.location_id.ids),
                    ("reserved_quantity", ">", 0),
                ],
                ["lot_id", "location_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
        )
        return {
            (lot.id, location.id)
            for lot, location, quantity, reserved in groups
            if quantity > 0
            and float_compare(reserved, quantity, precision_rounding=lot.product_id.uom_id.rounding)
            > 0
        }

    # ------------------------------------------------------------------
    # One place per serial: rules checked on the quants after the batch moved
    # ------------------------------------------------------------------
    @api.model
    def _get_item_tracking_rules(self):
        return [*super()._get_item_tracking_rules(), "from_customer"]

    @api.model
    def _get_item_tracking_done_edit_rules(self):
        return [*super()._get_item_tracking_done_edit_rules(), "from_customer"]

    @api.model
    def _get_item_tracking_place_rules(self):
        """The rules checked once the stock of a whole batch has moved (a count that moves a
        serial from one shelf to another in one apply is fine). Each key names a method
        `_item_tracking_place_rule_<key>(lines)` returning {lot: [location names]} and a
        message in `_get_item_tracking_messages`."""
        return ["twice", "gone"]

    @api.model
    def _get_item_tracking_messages(self):
        _ = self.env._
        return {
            **super()._get_item_tracking_messages(),
            "twice": _(
                "One place per serial number: these serial numbers are already on hand (in "
                "another location, warehouse or company) and can't be received again:\n"
                "%(lines)s"
            ),
            "gone": _(
                "One place per serial number: these serial numbers are not on hand in the "
                "location they are taken from (consumed, scrapped, delivered or elsewhere):\n"
                "%(lines)s"
            ),
            "from_customer": _(
                "These serial numbers are at a customer: they come back by a return of their "
                "delivery or a receipt from that customer (an Item Tracking Manager may "
                "receive them):\n%(lines)s"
            ),
        }

    def _check_item_tracking_place(self):
        """Refuse, naming them, the serials that the done lines left in two places or took
        from where they weren't: one query per rule for the whole batch."""
        guarded = set(self._item_tracking_place_lots().ids)
        # Called from within Odoo's `_action_done` of the moves: the lines' state is not yet
        # "done" (it is their move's).
        lines = self.filtered(lambda ml: ml.lot_id.id in guarded)
        if not lines:
            return
        errors = []
        for rule in self._get_item_tracking_place_rules():
            offending = getattr(lines, f"_item_tracking_place_rule_{rule}")()
            if offending:
                errors.append(
                    self._get_item_tracking_messages()[rule]
                    % {
                        "lines": "\n".join(
                            f"- {lot.product_id.display_name}: {lot.name} "
                            f"({', '.join(sorted(places))})"
                            for lot, places in offending.items()
                        )
                    }
                )
        if errors:
            raise UserError("\n\n".join(errors))

    def _item_tracking_place_rule_twice(self):
        """R004-01: a serial that came into stock is on hand nowhere else: its positive
        quants in internal and transit locations of every company add up to at most 1."""
        lots = self.filtered(
            lambda ml: ml.location_dest_id.usage in STOCK_USAGES
            and ml.location_id.usage not in STOCK_USAGES
        ).lot_id
        if not lots:
            return {}
        Quant = self.env["stock.quant"].sudo().with_context(active_test=False)
        domain = [("location_id.usage", "in", STOCK_USAGES), ("quantity", ">", 0)]
        # The serials above 1 first (usually none), then where those are.
        lots = self.env["stock.lot"].browse(
            lot.id
            for [lot] in Quant._read_group(
                [("lot_id", "in", lots.ids), *domain],
                ["lot_id"],
                having=[("quantity:sum", ">", 1)],
            )
        )
        if not lots:
            return {}
        groups = Quant._read_group(
            [("lot_id", "in", lots.ids), *domain], ["lot_id", "location_id"], ["quantity:sum"]
        )
        total, places = defaultdict(float), defaultdict(set)
        for lot, location, quantity in groups:
            total[lot] += quantity
            places[lot].add(location.display_name)
        return {
            lot: places[lot]
            for lot, quantity in total.items()
            if float_compare(quantity, 1, precision_rounding=lot.product_id.uom_id.rounding) > 0
        }

    def _item_tracking_place_rule_gone(self):
        """A serial leaves only a location where it is on hand: a consumed, scrapped or
        delivered serial isn't delivered again (no negative quant left where lines took
        it from)."""
        lines = self.filtered(lambda ml: ml.location_id.usage in STOCK_USAGES)
        if not lines:
            return {}
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", lines.lot_id.ids),
                    ("location_id", "in", lines.location_id.ids),
                ],
                ["lot_id", "location_id"],
                ["quantity:sum"],
                having=[("quantity:sum", "<", 0)],
            )
        )
        if not groups:
            return {}
        taken = {(ml.lot_id.id, ml.location_id.id) for ml in lines}
        offending = defaultdict(set)
        for lot, location, quantity in groups:
            if (lot.id, location.id) in taken and float_compare(
                quantity, 0, precision_rounding=lot.product_id.uom_id.rounding
            ) < 0:
                offending[lot].add(location.display_name)
        return offending

    # ------------------------------------------------------------------
    # A serial at a customer comes back from that customer
    # ------------------------------------------------------------------
    def _item_tracking_rule_from_customer(self, facts):
        """A serial at a customer (status shipped) comes into stock only by a return of its
        delivery (`origin_returned_move_id`) or a receipt from the commercial partner it was
        delivered to. Item Tracking Managers may receive it anyway (logged on the lot)."""
        unexpected = self._item_tracking_unexpected_from_customer(facts)
        if unexpected and self.env.user.has_group(MANAGER_GROUP):
            return []
        return unexpected

    def _item_tracking_unexpected_from_customer(self, facts):
        """The facts of lines that bring back from a customer a serial that was delivered
        to another customer, outside a return of its delivery."""
        candidates = [
            fact
            for fact in facts
            if fact["tracking"] == "serial"
            and fact["code"]
            and fact["lot_id"]
            and fact["source_usage"] == "customer"
            and fact["dest_usage"] in STOCK_USAGES
        ]
        if not candidates:
            return []
        Lot = self.env["stock.lot"].sudo()
        shipped = Lot.browse({fact["lot_id"] for fact in candidates}).filtered(
            lambda lot: lot.tracking_status == "shipped"
        )
        candidates = [fact for fact in candidates if fact["lot_id"] in shipped.ids]
        if not candidates:
            return []
        customers = self._item_tracking_last_customers(shipped)
        lines = self.sudo().browse([fact["id"] for fact in candidates])
        unexpected = []
        for fact, line in zip(candidates, lines, strict=True):
            origin = line.move_id.origin_returned_move_id
            if origin and fact["lot_id"] in origin.move_line_ids.lot_id.ids:
                continue
            partner = line.picking_id.partner_id or line.move_id.partner_id
            customer = customers.get(fact["lot_id"])
            if partner and customer and partner.commercial_partner_id == customer:
                continue
            unexpected.append(fact)
        return unexpected

    def _item_tracking_last_customers(self, lots):
        """{lot id: commercial partner of the last done delivery of the lot} (one search)."""
        deliveries = self.sudo().search(
            [
                ("lot_id", "in", lots.ids),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "customer"),
                ("location_id.usage", "!=", "customer"),
            ],
            order="date desc, id desc",
        )
        customers = {}
        for line in deliveries:
            if line.lot_id.id not in customers:
                partner = line.picking_id.partner_id or line.move_id.partner_id
                customers[line.lot_id.id] = partner.commercial_partner_id
        return customers

    def _item_tracking_customer_overrides(self):
        """The facts of the lines an Item Tracking Manager receives against the customer
        rule (logged once the validation is done)."""
        lines = self.filtered(lambda ml: ml.location_id.usage == "customer")
        guarded = set(lines._item_tracking_place_lots().ids)
        lines = lines.filtered(lambda ml: ml.lot_id.id in guarded)
        if not lines or not self.env.user.has_group(MANAGER_GROUP):
            return []
        return lines._item_tracking_unexpected_from_customer(lines._get_item_tracking_facts())

    def _item_tracking_log_customer_overrides(self, facts):
        for fact in facts:
            line = self.browse(fact["id"]).exists()
            if not line:
                continue
            line.lot_id.sudo().message_post(
                body=self.env._(
                    "Received from %(partner)s by %(reference)s although it was delivered to "
                    "another customer: accepted by %(user)s (Item Tracking Manager).",
                    partner=(line.picking_id.partner_id or line.move_id.partner_id).display_name
                    or "-",
                    reference=line.reference or "-",
                    user=self.env.user.display_name,
                )
            )
