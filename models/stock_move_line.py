from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare

from ..tools.lot_status import STOCK_USAGES
from .stock_lot import MANAGER_GROUP

# Writing one of these on a done move line moves stock again (Odoo re-syncs the quants) or
# reorders the lot's history: the rules are checked again and the lots' upkeep is redone.
DONE_EDIT_FIELDS = frozenset(
    (
        "product_id",
        "product_uom_id",
        "quantity",
        "lot_id",
        "lot_name",
        "quant_id",
        "location_id",
        "location_dest_id",
        "package_id",
        "result_package_id",
        "owner_id",
        "date",
    )
)
# Writing one of these on an open line can make it reserve another number.
RESERVING_FIELDS = frozenset(("lot_id", "quant_id", "location_id"))


def format_product_lots(pairs):
    """'- Product: LOT1, LOT2' lines from (product, lot name) pairs, for error messages."""
    by_product = defaultdict(list)
    for product, name in pairs:
        by_product[product].append(name or "-")
    return "\n".join(
        f"- {product.display_name}: {', '.join(sorted(set(names)))}"
        for product, names in by_product.items()
    )


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    item_tracking_code_id = fields.Many2one(related="product_id.item_tracking_code_id")
    warranty_date = fields.Date(
        help="Warranty end date of the delivered lot/serial number, when the item tracking "
        "code asks for a manual warranty date (otherwise the code's formula gives it).",
    )
    warranty_date_required = fields.Boolean(
        related="product_id.item_tracking_code_id.warranty_date_required"
    )
    # The lot's History list (`stock.lot.action_view_history`): the partner of the movement
    # and its quantity as an entry into or an exit from stock, so that totals never add ins
    # and outs.
    history_partner_id = fields.Many2one(
        "res.partner",
        string="Partner",
        compute="_compute_history_partner_id",
        help="The partner of the transfer, else the partner of the stock move.",
    )
    history_qty_in = fields.Float(
        string="In",
        compute="_compute_history_qty",
        digits="Product Unit of Measure",
        help="Quantity that entered stock (from a non-stock location into a stock location).",
    )
    history_qty_out = fields.Float(
        string="Out",
        compute="_compute_history_qty",
        digits="Product Unit of Measure",
        help="Quantity that left stock (from a stock location to a non-stock location).",
    )

    @api.depends("picking_id.partner_id", "move_id.partner_id")
    def _compute_history_partner_id(self):
        for line in self:
            line.history_partner_id = line.picking_id.partner_id or line.move_id.partner_id

    @api.depends("quantity", "location_id.usage", "location_dest_id.usage")
    def _compute_history_qty(self):
        for line in self:
            from_stock = line.location_id.usage in STOCK_USAGES
            to_stock = line.location_dest_id.usage in STOCK_USAGES
            line.history_qty_in = line.quantity if to_stock and not from_stock else 0.0
            line.history_qty_out = line.quantity if from_stock and not to_stock else 0.0

    @api.depends("product_id", "lot_id.expiration_date", "picking_id.scheduled_date")
    def _compute_expiration_date(self):
        """No computed default date when the code asks for manual entry or ignores dates."""
        manual_products = self.product_id.filtered(
            lambda product: (
                product.item_tracking_code_id.expiration_date_required
                or product.item_tracking_code_id.ignore_expiration
            )
        )
        manual = self.filtered(lambda ml: ml.product_id in manual_products)
        for line in manual:
            line.expiration_date = line.lot_id.expiration_date or line.expiration_date
        return super(StockMoveLine, self - manual)._compute_expiration_date()

    @api.onchange("product_id", "product_uom_id", "picking_id")
    def _onchange_product_id(self):
        entered = self.expiration_date
        res = super()._onchange_product_id()
        code = self.item_tracking_code_id
        if code.expiration_date_required or code.ignore_expiration:
            self.expiration_date = entered or self.lot_id.expiration_date
        return res

    # ------------------------------------------------------------------
    # CRUD: every path that moves stock obeys the rules
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_item_tracking_reservations()
        done = lines.filtered(lambda ml: ml.state == "done")
        if done:
            # A line added to a done operation moves stock at once (Odoo syncs the quants).
            done._check_item_tracking_done_edit(done.lot_id)
        return lines

    def write(self, vals):
        if "warranty_date" in vals:
            self._check_done_warranty_access(vals["warranty_date"])
        done = self.browse()
        if DONE_EDIT_FIELDS.intersection(vals) or "move_id" in vals:
            done = self.filtered(lambda ml: ml.state == "done")
        old_lots = done.lot_id
        old_moves = done.move_id if "move_id" in vals else self.env["stock.move"]
        res = super().write(vals)
        if old_moves:
            (old_moves | done.move_id)._item_tracking_check_registration_count()
        if RESERVING_FIELDS.intersection(vals):
            self._check_item_tracking_reservations()
        if done:
            done._check_item_tracking_done_edit(old_lots | done.lot_id)
        return res

    def _action_done(self):
        self._check_item_tracking_rules()
        res = super()._action_done()
        # Odoo deletes the lines it had nothing to do for.
        self._item_tracking_after_done(self.exists())
        return res

    def _item_tracking_after_done(self, done):
        """What the add-on does once Odoo has done `done` (the lines of `_action_done` that
        are left): the lots' upkeep here, the place rules in `stock_move_line_place`."""
        self.env["stock.lot"]._item_tracking_update_from_lines(done)

    def _check_done_warranty_access(self, value):
        """The warranty date of a done line was recorded by the delivery; only Item Tracking
        Managers may change it (and it is the lot's date that counts)."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        changed = self.filtered(
            lambda ml: ml.state == "done" and ml.warranty_date != fields.Date.to_date(value)
        )
        if changed:
            raise AccessError(
                self.env._(
                    "Only Item Tracking Managers can change the warranty date of done "
                    "operations: %(lots)s",
                    lots=", ".join(changed.mapped(lambda ml: ml.lot_id.name or ml.reference)),
                )
            )

    def _check_item_tracking_reservations(self):
        """Blocked numbers are never reserved (R001-22): an open line that takes a blocked
        number out of stock, whoever creates or writes it, is refused (incoming lines, such
        as a receipt typed by hand, are left to the validation)."""
        open_lines = self.filtered(
            lambda ml: ml.lot_id.blocked
            and ml.state not in ("done", "cancel")
            and ml.location_id.usage in STOCK_USAGES
        )
        offending = [
            (ml.product_id, ml.lot_id.name)
            for ml in open_lines
            if not ml._item_tracking_blocked_move_allowed(ml.location_id, ml.location_dest_id)
        ]
        if offending:
            raise UserError(self._get_item_tracking_message("blocked", offending))

    @api.model
    def _item_tracking_blocked_move_allowed(self, source, destination):
        """A blocked number may go into a location that accepts blocked numbers (the
        rejection location) and be scrapped from one (block, inspect, reject, scrap)."""
        return destination.item_tracking_allow_blocked or (
            source.item_tracking_allow_blocked and destination.scrap_location
        )

    def _check_item_tracking_done_edit(self, lots):
        """After done lines were written or added (Odoo has moved the stock again): the rules
        hold for the new values, no number with specific tracking is left negative anywhere,
        and the status, sources and history of every lot involved (`lots`: old and new) are
        redone from their history. Raising rolls the whole edit back."""
        errors = []
        blocked = lots.filtered("blocked")
        if blocked:
            errors.append(
                self._get_item_tracking_message(
                    "blocked", [(lot.product_id, lot.name) for lot in blocked]
                )
            )
        errors += self._get_item_tracking_errors(done_edit=True)
        negative = self._get_item_tracking_negative_lots(lots)
        if negative:
            errors.append(
                self._get_item_tracking_message(
                    "short", [(lot.product_id, lot.name) for lot in negative]
                )
            )
        if errors:
            raise UserError("\n\n".join(errors))
        # A done delivery can't be edited below its registered sales-process serials.
        self.move_id._item_tracking_registration_moves()._item_tracking_check_delivery_registrations(
            check_missing=False
        )
        lots._item_tracking_recompute()

    @api.model
    def _get_item_tracking_negative_lots(self, lots):
        """The lots of products with specific tracking that have a negative quant in stock."""
        specific = lots.filtered(lambda lot: lot.product_id.item_tracking_code_id.specific_tracking)
        if not specific:
            return specific
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", specific.ids),
                    ("location_id.usage", "in", STOCK_USAGES),
                    ("quantity", "<", 0),
                ],
                ["lot_id"],
            )
        )
        return lots.browse([lot.id for (lot,) in groups])

    # ------------------------------------------------------------------
    # Item tracking rules: one method per rule, dispatched from a list
    # ------------------------------------------------------------------
    @api.model
    def _get_item_tracking_rules(self):
        """The rules checked before stock moves, in the order of their messages. Each key
        names a method `_item_tracking_rule_<key>(facts)` returning the facts of the
        offending lines, and a message in `_get_item_tracking_messages`. Another module
        adds a rule by extending both."""
        return ["blocked", "planned", "unknown", "short", "expired", "undated", "no_warranty"]

    @api.model
    def _get_item_tracking_done_edit_rules(self):
        """The rules checked on the new values of edited done lines. Blocked numbers (old
        and new) and the on-hand quantities are checked on the records after the edit, and
        the dates typed at validation are not asked again."""
        return ["planned", "unknown", "expired"]

    @api.model
    def _get_item_tracking_messages(self):
        """The refusal of each rule; `%(lines)s` lists the products and numbers."""
        _ = self.env._
        return {
            "blocked": _("These lots/serial numbers are blocked and can't be moved:\n%(lines)s"),
            "planned": _(
                "These serial numbers are planned on manufacturing orders that link their "
                "components: they come into stock only when their order produces them:\n"
                "%(lines)s"
            ),
            "unknown": _(
                "Specific tracking: these products must use an existing lot/serial number "
                "that is on hand:\n%(lines)s"
            ),
            "short": _(
                "Specific tracking: these lots/serial numbers are not on hand in the quantity "
                "taken from their source location:\n%(lines)s"
            ),
            "expired": _(
                "Strict expiration: these lots/serial numbers have expired and can't be "
                "delivered or consumed:\n%(lines)s"
            ),
            "undated": _(
                "Enter the expiration date of these lots/serial numbers before "
                "validating:\n%(lines)s"
            ),
            "no_warranty": _(
                "Enter the warranty date of these lots/serial numbers on the operation before "
                "validating:\n%(lines)s"
            ),
        }

    @api.model
    def _get_item_tracking_message(self, rule, pairs):
        """The refusal of `rule` for (product, lot name) pairs."""
        return self._get_item_tracking_messages()[rule] % {"lines": format_product_lots(pairs)}

    def _check_item_tracking_rules(self):
        """Refuse to process lines that break the item tracking rules: one UserError lists
        every offending product and lot/serial number, before anything is written."""
        errors = self._get_item_tracking_errors()
        if errors:
            raise UserError("\n\n".join(errors))

    def _get_item_tracking_errors(self, done_edit=False):
        """The messages of the broken rules: one query of facts for all the lines, then each
        rule in turn. `done_edit`: the lines are done and were just edited (the stock has
        moved already, so the on-hand rule is checked on the quants afterwards instead)."""
        facts = [
            fact
            for fact in self._get_item_tracking_facts()
            if float_compare(fact["quantity"], 0, precision_rounding=fact["rounding"]) > 0
        ]
        if not facts:
            return []
        rules = (
            self._get_item_tracking_done_edit_rules()
            if done_edit
            else self._get_item_tracking_rules()
        )
        errors = []
        Product = self.env["product.product"]
        for rule in rules:
            offending = getattr(self, f"_item_tracking_rule_{rule}")(facts)
            if offending:
                errors.append(
                    self._get_item_tracking_message(
                        rule,
                        [
                            (Product.browse(fact["product_id"]), fact["lot_label"])
                            for fact in offending
                        ],
                    )
                )
        return errors

    # Each rule: the facts (dicts, see _get_item_tracking_facts) of the lines that break it.
    def _item_tracking_rule_blocked(self, facts):
        """R001-22: a blocked number isn't moved (but into the rejection location)."""
        return [
            fact
            for fact in facts
            if fact["blocked"]
            and not self._item_tracking_blocked_move_allowed(fact["source"], fact["destination"])
        ]

    def _item_tracking_rule_planned(self, facts):
        """R000-07: a finished serial planned on an order in process comes into stock only as
        the finished product of that order (nothing receives, produces or re-lots it
        meanwhile)."""
        return [
            fact
            for fact in facts
            if fact["planned_production_id"]
            and not (
                fact["source_usage"] == "production"
                and self.browse(fact["id"]).move_id.production_id.id
                == fact["planned_production_id"]
            )
        ]

    def _item_tracking_rule_unknown(self, facts):
        """R001-13: what leaves stock under specific tracking names an existing number."""
        return [fact for fact in self._specific_outgoing(facts) if not fact["lot_id"]]

    def _item_tracking_rule_short(self, facts):
        """R001-13: ... that is on hand where the line takes it from. Odoo takes the
        quantity from the quant of exactly the line's location, package and owner, so that
        is what must hold it (stock on a shelf below doesn't cover a line from its parent)."""
        needed = defaultdict(float)
        needed_facts = defaultdict(list)
        for fact in self._specific_outgoing(facts):
            if fact["lot_id"]:
                key = (fact["lot_id"], fact["location_id"], fact["package_id"], fact["owner_id"])
                needed[key] += fact["quantity_product_uom"]
                needed_facts[key].append(fact)
        if not needed:
            return []
        on_hand = self._get_item_tracking_on_hand(needed)
        return [
            fact
            for key, quantity in needed.items()
            if float_compare(
                on_hand.get(key, 0.0),
                quantity,
                precision_rounding=needed_facts[key][0]["product_rounding"],
            )
            < 0
            for fact in needed_facts[key]
        ]

    def _item_tracking_rule_expired(self, facts):
        """R001-15: an expired number isn't delivered nor consumed under strict expiration."""
        now = fields.Datetime.now()
        return [
            fact
            for fact in facts
            if fact["code"].scope == "inventory"
            and fact["code"].strict_expiration
            and fact["source_usage"] in STOCK_USAGES
            and fact["dest_usage"] in ("customer", "production")
            and fact["lot_expiration_date"]
            and fact["lot_expiration_date"] <= now
        ]

    def _item_tracking_rule_undated(self, facts):
        """R001-16: a new number is received with an expiration date entered by hand."""
        return [
            fact
            for fact in facts
            if fact["code"].scope == "inventory"
            and fact["code"].expiration_date_required
            and fact["source_usage"] in ("supplier", "production")
            and fact["dest_usage"] in STOCK_USAGES
            and not fact["expiration_date"]
            and not fact["lot_expiration_date"]
        ]

    def _item_tracking_rule_no_warranty(self, facts):
        """R001-19: a delivery names the warranty date when the code asks for it."""
        return [
            fact
            for fact in facts
            if fact["code"].scope == "inventory"
            and fact["code"].warranty_date_required
            and fact["dest_usage"] == "customer"
            and not fact["warranty_date"]
        ]

    @api.model
    def _specific_outgoing(self, facts):
        return [
            fact
            for fact in facts
            if fact["tracking"] != "none"
            and fact["code"].scope == "inventory"
            and fact["code"].specific_tracking
            and fact["source_usage"] in STOCK_USAGES
        ]

    def _get_item_tracking_facts(self):
        """What the rules look at, one dict per line. The lines, their lots (the `lot_id`,
        or else the existing lot its `lot_name` names: same product, the line's company or
        none) are read in one query; products, codes, units and locations through the ORM,
        once per record (`_get_line_dimensions`)."""
        rows = self._read_item_tracking_rows()
        products, uoms, locations = self._get_line_dimensions(rows)
        facts = []
        for row in rows:
            product = products[row["product_id"]]
            source = locations[row["location_id"]]
            destination = locations[row["location_dest_id"]]
            facts.append(
                {
                    **row,
                    "tracking": product.tracking,
                    "code": product.product_tmpl_id.item_tracking_code_id,
                    "rounding": uoms[row["product_uom_id"]].rounding,
                    "product_rounding": product.uom_id.rounding,
                    "source": source,
                    "destination": destination,
                    "source_usage": source.usage,
                    "dest_usage": destination.usage,
                }
            )
        return facts

    def _read_item_tracking_rows(self):
        """The rows of `_get_item_tracking_facts`, in one query (dicts). The lots named by
        `lot_name` are found by one join, not a subquery per line: the estimated cost of a
        subquery per line made PostgreSQL JIT-compile the query (20 ms and more)."""
        if not self:
            return []
        self.env["stock.move.line"].flush_model(
            [
                "product_id",
                "product_uom_id",
                "quantity",
                "quantity_product_uom",
                "lot_id",
                "lot_name",
                "location_id",
                "location_dest_id",
                "package_id",
                "owner_id",
                "expiration_date",
                "warranty_date",
                "company_id",
            ]
        )
        self.env["stock.lot"].flush_model(
            ["name", "product_id", "company_id", "blocked", "expiration_date"]
        )
        self.env["mrp.production.serial"].flush_model(["lot_id", "production_id"])
        self.env.cr.execute(
            SQL(
                """
                WITH named AS (
                    SELECT DISTINCT ON (ml.id) ml.id AS line_id, lot.id, lot.name,
                           lot.blocked, lot.expiration_date
                      FROM stock_move_line ml
                      JOIN stock_lot lot ON lot.product_id = ml.product_id
                                        AND lot.name = ml.lot_name
                                        AND (lot.company_id IS NULL
                                             OR lot.company_id = ml.company_id)
                     WHERE ml.id = ANY(%(ids)s) AND ml.lot_id IS NULL
                  ORDER BY ml.id, lot.id
                )
                SELECT ml.id, ml.product_id, ml.product_uom_id, ml.quantity,
                       ml.quantity_product_uom, ml.location_id, ml.location_dest_id,
                       ml.package_id, ml.owner_id,
                       COALESCE(lot.id, named.id) AS lot_id,
                       COALESCE(lot.name, named.name, ml.lot_name) AS lot_label,
                       COALESCE(lot.blocked, named.blocked, FALSE) AS blocked,
                       COALESCE(lot.expiration_date, named.expiration_date)
                           AS lot_expiration_date,
                       ml.expiration_date, ml.warranty_date,
                       planned.production_id AS planned_production_id
                  FROM stock_move_line ml
             LEFT JOIN stock_lot lot ON lot.id = ml.lot_id
             LEFT JOIN named ON named.line_id = ml.id
             LEFT JOIN mrp_production_serial planned
                       ON planned.lot_id = COALESCE(lot.id, named.id)
                 WHERE ml.id = ANY(%(ids)s)
                """,
                ids=self.ids,
            )
        )
        return self.env.cr.dictfetchall()

    def _get_item_tracking_on_hand(self, needed):
        """{(lot, location, package, owner): quantity} of the quants of exactly those keys."""
        lot_ids = list({key[0] for key in needed})
        location_ids = list({key[1] for key in needed})
        on_hand = defaultdict(float)
        for lot, location, package, owner, quantity in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [("lot_id", "in", lot_ids), ("location_id", "in", location_ids)],
                ["lot_id", "location_id", "package_id", "owner_id"],
                ["quantity:sum"],
            )
        ):
            on_hand[lot.id, location.id, package.id or None, owner.id or None] += quantity
        return on_hand

    def _get_line_dimensions(self, rows):
        """The products, units and locations the fact rows (dicts with `product_id`,
        `product_uom_id`, `location_id` and `location_dest_id`) name, read through the ORM
        (most are cached by then): ({id: product}, {id: unit}, {id: location}), sudo."""
        env = self.sudo().env
        products = env["product.product"].browse({row["product_id"] for row in rows})
        uoms = env["uom.uom"].browse({row["product_uom_id"] for row in rows})
        locations = env["stock.location"].browse(
            {row[key] for row in rows for key in ("location_id", "location_dest_id")}
        )
        return (
            {product.id: product for product in products},
            {uom.id: uom for uom in uoms},
            {location.id: location for location in locations},
        )

    # ------------------------------------------------------------------
    # Facts of done lines for the lots' upkeep (stock.lot._item_tracking_update_from_lines)
    # ------------------------------------------------------------------
    def _get_item_tracking_lot_moves(self):
        """The done lines with a lot and a quantity, oldest first, as the moves of
        `tools.lot_status` (dicts), plus `lot_id`, `line_id`, `reference`, `product_id` and
        the line's `warranty_date`. One query reads the lines; their lot and date come from
        the ORM (`_action_done` has just set them, and flushing them now would write the
        lines twice), their products, locations, moves and documents too, once per record."""
        lot_ids = [ml.lot_id.id for ml in self]
        dates = self.mapped("date")
        with_lot = [i for i, lot_id in enumerate(lot_ids) if lot_id]
        if not with_lot:
            return []
        self.env["stock.move.line"].flush_model(
            [
                "product_id",
                "quantity",
                "quantity_product_uom",
                "product_uom_id",
                "location_id",
                "location_dest_id",
                "move_id",
                "picking_id",
                "reference",
                "warranty_date",
                "company_id",
            ]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT ml.id AS line_id, line.lot_id, line.date, ml.company_id,
                       ml.quantity, ml.quantity_product_uom, ml.product_uom_id, ml.product_id,
                       ml.location_id, ml.location_dest_id, ml.move_id, ml.picking_id,
                       ml.reference, ml.warranty_date
                  FROM unnest(%(ids)s::int4[], %(lot_ids)s::int4[], %(dates)s::timestamp[])
                       AS line(id, lot_id, date)
                  JOIN stock_move_line ml ON ml.id = line.id
              ORDER BY line.date, line.id
                """,
                ids=[self._ids[i] for i in with_lot],
                lot_ids=[lot_ids[i] for i in with_lot],
                dates=[dates[i] for i in with_lot],
            )
        )
        rows = self.env.cr.dictfetchall()
        products, uoms, locations = self._get_line_dimensions(rows)
        documents = self._get_move_documents({row["move_id"] for row in rows})
        picking_partners = {
            picking.id: picking.partner_id.id
            for picking in self.env["stock.picking"]
            .sudo()
            .browse(filter(None, {row["picking_id"] for row in rows}))
        }
        rejects = self.env["res.company"]._get_item_tracking_reject_location_ids(
            self.env["stock.location"].browse(locations)
        )
        no_move = dict.fromkeys(
            ("scrapped", "production_id", "purchase_order_id", "purchase_partner_id"), False
        )
        no_move.update(partner_id=False, sale_order_id=False)
        moves = []
        for row in rows:
            if (
                float_compare(
                    row["quantity"], 0, precision_rounding=uoms[row["product_uom_id"]].rounding
                )
                <= 0
            ):
                continue
            source = locations[row["location_id"]]
            destination = locations[row["location_dest_id"]]
            document = documents.get(row["move_id"], no_move)
            moves.append(
                {
                    "line_id": row["line_id"],
                    "lot_id": row["lot_id"],
                    "product_id": row["product_id"],
                    "company_id": row["company_id"],
                    "date": row["date"],
                    "reference": row["reference"],
                    "warranty_date": row["warranty_date"],
                    "quantity": row["quantity_product_uom"],
                    "rounding": products[row["product_id"]].uom_id.rounding,
                    "src_usage": source.usage,
                    "dest_usage": destination.usage,
                    "src_on_hand": source.usage in STOCK_USAGES and source.id not in rejects,
                    "dest_on_hand": destination.usage in STOCK_USAGES
                    and destination.id not in rejects,
                    "dest_rejected": destination.id in rejects,
                    "dest_scrap": destination.scrap_location or document["scrapped"],
                    "partner_id": picking_partners.get(row["picking_id"]) or document["partner_id"],
                    "purchase_partner_id": document["purchase_partner_id"],
                    "purchase_order_id": document["purchase_order_id"],
                    "sale_order_id": document["sale_order_id"],
                    "production_id": document["production_id"],
                }
            )
        return moves

    def _get_move_documents(self, move_ids):
        """{move id: its documents} of the given moves (None is left out), read through the
        ORM once per move: `_action_done` has just read the moves, so they are cached."""
        return {
            move.id: {
                "scrapped": move.scrapped,
                "production_id": move.production_id.id,
                "purchase_order_id": move.purchase_line_id.order_id.id,
                "purchase_partner_id": move.purchase_line_id.order_id.partner_id.id,
                "partner_id": move.partner_id.id,
                "sale_order_id": move.sale_line_id.order_id.id,
            }
            for move in self.env["stock.move"].sudo().browse(filter(None, move_ids))
        }
