from collections import defaultdict, namedtuple

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare

from ..tools.date_formula import apply_date_formula
from .stock_lot import CHECKED_LINES_KEY, CHECKED_LOT_FIELDS, STATUS_CONTEXT_KEY

STOCK_USAGES = ("internal", "transit")
# Move line fields the rules look at: writing one of them drops the line from the checked ones.
CHECKED_LINE_FIELDS = frozenset(
    (
        "product_id",
        "product_uom_id",
        "quantity",
        "lot_id",
        "lot_name",
        "location_id",
        "location_dest_id",
        "expiration_date",
        "warranty_date",
        "company_id",
    )
)

# What the fact queries need of a line's product: its tracking, its unit's rounding and its
# item tracking code's options. Read through the ORM once per product (`_get_line_dimensions`),
# like the lines' units and locations: joined into the queries, these small tables made
# planning the queries cost several times more than running them.
ProductFacts = namedtuple(
    "ProductFacts",
    "tracking rounding scope specific_tracking strict_expiration expiration_date_required"
    " warranty_date_required warranty_formula",
)

# What the rules need to know of a move line, read in one query (_get_item_tracking_facts).
CheckFacts = namedtuple(
    "CheckFacts",
    "id product_id tracking rounding quantity quantity_product_uom product_rounding"
    " scope specific_tracking strict_expiration expiration_date_required"
    " warranty_date_required location_id source_usage dest_usage"
    " lot_id lot_label blocked lot_expiration_date expiration_date warranty_date",
)
# What the status and warranty upkeep need to know of a done move line (_get_lot_move_facts).
LotMoveFacts = namedtuple(
    "LotMoveFacts",
    "id lot_id company_id date quantity rounding source_usage dest_rejected dest_usage"
    " dest_scrap scrapped production_id purchase_order_id purchase_partner_id"
    " picking_partner_id move_partner_id sale_order_id reference"
    " status supplier_id lot_production_id lot_warranty_date"
    " warranty_date warranty_formula on_hand product_rounding",
)

# What the status upkeep needs of a done line's move and its documents (_get_lot_move_facts).
MoveFacts = namedtuple(
    "MoveFacts",
    "scrapped production_id purchase_order_id purchase_partner_id partner_id sale_order_id",
)
NO_MOVE = MoveFacts(False, False, False, False, False, False)


def format_product_lots(pairs):
    """'- Product: LOT1, LOT2' lines from (product, lot name) pairs, for error messages."""
    by_product = defaultdict(list)
    for product, name in pairs:
        by_product[product].append(name or "-")
    return "\n".join(
        f"- {product.display_name}: {', '.join(sorted(set(names)))}"
        for product, names in by_product.items()
    )


def rule_messages(env):
    """The refusal of each item tracking rule, by rule key; `%(lines)s` lists the numbers."""
    _ = env._
    return {
        "blocked": _("These lots/serial numbers are blocked and can't be moved:\n%(lines)s"),
        "unknown": _(
            "Specific tracking: these products must use an existing lot/serial number that "
            "is on hand:\n%(lines)s"
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
            "Enter the expiration date of these lots/serial numbers before validating:\n%(lines)s"
        ),
        "no_warranty": _(
            "Enter the warranty date of these lots/serial numbers on the operation before "
            "validating:\n%(lines)s"
        ),
    }


def rule_message(env, rule, pairs):
    """The refusal of `rule` (a key of `rule_messages`) for (product, lot name) pairs."""
    return rule_messages(env)[rule] % {"lines": format_product_lots(pairs)}


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    item_tracking_code_id = fields.Many2one(related="product_id.item_tracking_code_id")
    warranty_date = fields.Date(
        help="Warranty end date of the delivered lot/serial number. Overrides the date that the "
        "item tracking code's formula would give.",
    )
    warranty_date_required = fields.Boolean(
        related="product_id.item_tracking_code_id.warranty_date_required"
    )

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

    def write(self, vals):
        if CHECKED_LINE_FIELDS.intersection(vals):
            self._forget_checked_for_validation()
        return super().write(vals)

    def _action_done(self):
        if not self._was_checked_for_validation():
            self._check_item_tracking_rules()
        res = super()._action_done()
        done = self.exists()
        facts = done._get_lot_move_facts()
        done._set_lot_warranty_dates(facts)
        done._update_lot_tracking(facts)
        return res

    # ------------------------------------------------------------------
    # Item tracking rules
    # ------------------------------------------------------------------
    def _check_item_tracking_rules(self):
        """Refuse to process lines that break the item tracking rules.

        One UserError lists every offending product and lot/serial number, before anything is
        written. Rules: blocked numbers (R001-22), specific tracking (R001-13), strict expiration
        (R001-15), manual expiration date (R001-16) and manual warranty date (R001-19).
        """
        errors = self._get_item_tracking_errors()
        if errors:
            raise UserError("\n\n".join(errors))

    def _remember_checked_for_validation(self):
        """Called by a picking's validation once these lines passed the rules: the
        `_action_done` of the same `button_validate` needn't check them again. A line
        written in between (one of CHECKED_LINE_FIELDS), or a lot whose number, block or
        expiration date changes, is forgotten and checked again. Outside a validation (no
        record under way) nothing is remembered."""
        checked = self.env.cr.cache.get(CHECKED_LINES_KEY)
        if checked is not None:
            checked.update(self.ids)

    def _forget_checked_for_validation(self):
        checked = self.env.cr.cache.get(CHECKED_LINES_KEY)
        if checked:
            checked.difference_update(self.ids)

    def _was_checked_for_validation(self):
        """True when every line was checked, and left unchanged, earlier in the same
        validation. A subset of checked lines passes too: every rule is per line, but for
        the on-hand quantities of specific tracking, which a subset needs less of."""
        if not self:
            return True  # nothing to check
        checked = self.env.cr.cache.get(CHECKED_LINES_KEY)
        return bool(checked) and checked.issuperset(self.ids)

    def _flush_models(self, fnames_by_model):
        """Before reading tables in SQL: compute and write the pending values of the fields
        read ({model name: field names}). Only those: flushing other pending values early
        would make Odoo write some of them twice."""
        for model_name, fnames in fnames_by_model.items():
            self.env[model_name].flush_model(fnames)

    def _get_item_tracking_facts(self):
        """What the rules look at, one `CheckFacts` per line, read in one query.

        The lot of a line is its `lot_id`, or else the existing lot its `lot_name` names
        (same product, the line's company or none); `lot_label` is the number to show.
        Those are found by one join, not a subquery per line: the estimated cost of a
        subquery per line made PostgreSQL JIT-compile the query (20 ms and more).
        """
        if not self:
            return []
        self._flush_models(
            {
                # What the rules read is what, written, calls for a new check.
                "stock.move.line": [*CHECKED_LINE_FIELDS, "quantity_product_uom"],
                "stock.lot": CHECKED_LOT_FIELDS,
            }
        )
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
                       COALESCE(lot.id, named.id) AS lot_id,
                       COALESCE(lot.name, named.name, ml.lot_name) AS lot_label,
                       COALESCE(lot.blocked, named.blocked) AS blocked,
                       COALESCE(lot.expiration_date, named.expiration_date)
                           AS lot_expiration_date,
                       ml.expiration_date, ml.warranty_date
                  FROM stock_move_line ml
             LEFT JOIN stock_lot lot ON lot.id = ml.lot_id
             LEFT JOIN named ON named.line_id = ml.id
                 WHERE ml.id = ANY(%(ids)s)
                """,
                ids=self.ids,
            )
        )
        rows = self.env.cr.dictfetchall()
        products, uoms, locations = self._get_line_dimensions(rows)
        facts = []
        for row in rows:
            product = products[row["product_id"]]
            facts.append(
                CheckFacts(
                    row["id"],
                    row["product_id"],
                    product.tracking,
                    uoms[row["product_uom_id"]],
                    row["quantity"],
                    row["quantity_product_uom"],
                    product.rounding,
                    product.scope,
                    product.specific_tracking,
                    product.strict_expiration,
                    product.expiration_date_required,
                    product.warranty_date_required,
                    row["location_id"],
                    locations[row["location_id"]][0],
                    locations[row["location_dest_id"]][0],
                    row["lot_id"],
                    row["lot_label"],
                    row["blocked"],
                    row["lot_expiration_date"],
                    row["expiration_date"],
                    row["warranty_date"],
                )
            )
        return facts

    def _get_line_dimensions(self, rows):
        """What the fact queries' `rows` (dicts with `product_id`, `product_uom_id`,
        `location_id` and `location_dest_id`) need of those records, read through the ORM
        once per record (most are cached by then): ({product id: `ProductFacts`},
        {unit id: rounding}, {location id: (usage, scrap_location)})."""
        env = self.sudo().env
        products = {}
        for product in env["product.product"].browse({row["product_id"] for row in rows}):
            code = product.product_tmpl_id.item_tracking_code_id
            products[product.id] = ProductFacts(
                product.tracking,
                product.uom_id.rounding,
                code.scope,
                code.specific_tracking,
                code.strict_expiration,
                code.expiration_date_required,
                code.warranty_date_required,
                code.warranty_formula,
            )
        uom_ids = {row["product_uom_id"] for row in rows}
        uoms = {uom.id: uom.rounding for uom in env["uom.uom"].browse(uom_ids)}
        location_ids = {row[key] for row in rows for key in ("location_id", "location_dest_id")}
        locations = {
            location.id: (location.usage, location.scrap_location)
            for location in env["stock.location"].browse(location_ids)
        }
        return products, uoms, locations

    def _get_item_tracking_errors(self):
        """The messages of `_check_item_tracking_rules`, one per rule broken: one pass over
        the lines' facts (one query), plus one query of on-hand quantities for specific
        tracking."""
        now = fields.Datetime.now()
        broken = defaultdict(list)  # rule -> facts of the offending lines
        needed = defaultdict(float)  # (lot id, location id) -> quantity, specific tracking
        needed_facts = defaultdict(list)
        for line in self._get_item_tracking_facts():
            if line.tracking == "none" or (
                float_compare(line.quantity, 0, precision_rounding=line.rounding) <= 0
            ):
                continue
            if line.blocked:
                broken["blocked"].append(line)
            if line.scope != "inventory":
                continue
            outgoing = line.source_usage in STOCK_USAGES
            incoming = line.dest_usage in STOCK_USAGES
            if line.specific_tracking and outgoing:
                if not line.lot_id:
                    broken["unknown"].append(line)
                else:
                    key = (line.lot_id, line.location_id)
                    needed[key] += line.quantity_product_uom
                    needed_facts[key].append(line)
            if (
                line.strict_expiration
                and outgoing
                and line.dest_usage in ("customer", "production")
                and line.lot_expiration_date
                and line.lot_expiration_date <= now
            ):
                broken["expired"].append(line)
            if (
                line.expiration_date_required
                and line.source_usage in ("supplier", "production")
                and incoming
                and not line.expiration_date
                and not line.lot_expiration_date
            ):
                broken["undated"].append(line)
            if line.warranty_date_required and line.dest_usage == "customer":
                if not line.warranty_date:
                    broken["no_warranty"].append(line)
        if needed:
            for key in self._get_item_tracking_short_lots(needed, needed_facts):
                broken["short"].extend(needed_facts[key])
        return self._get_item_tracking_messages(broken)

    def _get_item_tracking_short_lots(self, needed, needed_facts):
        """The (lot id, location id) keys of `needed` that the stock there (sublocations
        included) doesn't cover."""
        locations = self.env["stock.location"].browse({location for _lot, location in needed})
        on_hand = defaultdict(list)  # lot id -> [(location, quantity)]
        for lot, location, quantity in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", list({lot for lot, _location in needed})),
                    ("location_id", "child_of", locations.ids),
                ],
                ["lot_id", "location_id"],
                ["quantity:sum"],
            )
        ):
            on_hand[lot.id].append((location, quantity))
        short = []
        for (lot_id, location_id), quantity in needed.items():
            path = locations.browse(location_id).parent_path
            available = sum(
                qty
                for quant_location, qty in on_hand[lot_id]
                if quant_location.parent_path.startswith(path)
            )
            rounding = needed_facts[lot_id, location_id][0].product_rounding
            if float_compare(available, quantity, precision_rounding=rounding) < 0:
                short.append((lot_id, location_id))
        return short

    def _get_item_tracking_messages(self, broken):
        """The error messages of the broken rules ({rule: facts of the offending lines}),
        in the order of `rule_messages`, naming the products and numbers."""
        Product = self.env["product.product"]
        return [
            rule_message(
                self.env,
                rule,
                [(Product.browse(line.product_id), line.lot_label) for line in broken[rule]],
            )
            for rule in rule_messages(self.env)
            if broken[rule]
        ]

    # ------------------------------------------------------------------
    # Upkeep of the lots of done lines: warranty, status and sources
    # ------------------------------------------------------------------
    def _get_lot_move_facts(self):
        """One `LotMoveFacts` per done line with a lot and a quantity, oldest first. One
        query reads the lines, their lots and the lots' quantities on hand (internal and
        transit locations, rejection locations excluded); the lines' products, units,
        locations, moves and documents, cached by `_action_done`, come from the ORM, once
        per record.

        The lines' lot and date come from the ORM: `_action_done` has just set them, and
        flushing them now would write the lines twice (Odoo sets their state afterwards).
        """
        lot_ids = [ml.lot_id.id for ml in self]
        dates = self.mapped("date")
        with_lot = [i for i, lot_id in enumerate(lot_ids) if lot_id]
        if not with_lot:
            return []
        self._flush_models(
            {
                "stock.move.line": [
                    "product_id",
                    "quantity",
                    "product_uom_id",
                    "location_id",
                    "location_dest_id",
                    "move_id",
                    "picking_id",
                    "reference",
                    "warranty_date",
                ],
                "stock.quant": ["lot_id", "location_id", "quantity"],
                "stock.lot": [
                    "company_id",
                    "product_id",
                    "tracking_status",
                    "supplier_id",
                    "production_id",
                    "warranty_date",
                ],
                "stock.location": ["usage"],
                "res.company": ["item_tracking_reject_location_id"],
            }
        )
        self.env.cr.execute(
            SQL(
                """
                WITH rejects AS (
                    SELECT item_tracking_reject_location_id AS id
                      FROM res_company
                     WHERE item_tracking_reject_location_id IS NOT NULL
                ), on_hand AS (
                    SELECT q.lot_id, SUM(q.quantity) AS quantity
                      FROM stock_quant q
                      JOIN stock_location loc ON loc.id = q.location_id
                     WHERE q.lot_id = ANY(%(lot_ids)s)
                       AND loc.usage IN %(usages)s
                       AND q.location_id NOT IN (SELECT id FROM rejects)
                  GROUP BY q.lot_id
                )
                SELECT ml.id, lot.id AS lot_id, lot.company_id, line.date, ml.quantity,
                       ml.product_uom_id, ml.product_id, ml.location_id, ml.location_dest_id,
                       ml.location_dest_id IN (SELECT id FROM rejects) AS dest_rejected,
                       ml.move_id, ml.picking_id, ml.reference, ml.warranty_date,
                       lot.tracking_status AS status, lot.supplier_id,
                       lot.production_id AS lot_production_id,
                       lot.warranty_date AS lot_warranty_date,
                       COALESCE(on_hand.quantity, 0) AS on_hand
                  FROM unnest(%(ids)s::int4[], %(lot_ids)s::int4[], %(dates)s::timestamp[])
                       AS line(id, lot_id, date)
                  JOIN stock_move_line ml ON ml.id = line.id
                  JOIN stock_lot lot ON lot.id = line.lot_id
             LEFT JOIN on_hand ON on_hand.lot_id = lot.id
              ORDER BY line.date, line.id
                """,
                ids=[self._ids[i] for i in with_lot],
                lot_ids=[lot_ids[i] for i in with_lot],
                dates=[dates[i] for i in with_lot],
                usages=STOCK_USAGES,
            )
        )
        rows = self.env.cr.dictfetchall()
        products, uoms, locations = self._get_line_dimensions(rows)
        moves = self._get_move_document_facts({row["move_id"] for row in rows})
        picking_partners = {
            picking.id: picking.partner_id.id
            for picking in self.env["stock.picking"]
            .sudo()
            .browse(filter(None, {row["picking_id"] for row in rows}))
        }
        facts = []
        for row in rows:
            rounding = uoms[row["product_uom_id"]]
            if float_compare(row["quantity"], 0, precision_rounding=rounding) <= 0:
                continue
            product = products[row["product_id"]]
            dest_usage, dest_scrap = locations[row["location_dest_id"]]
            move = moves.get(row["move_id"], NO_MOVE)
            facts.append(
                LotMoveFacts(
                    row["id"],
                    row["lot_id"],
                    row["company_id"],
                    row["date"],
                    row["quantity"],
                    rounding,
                    locations[row["location_id"]][0],
                    row["dest_rejected"],
                    dest_usage,
                    dest_scrap,
                    move.scrapped,
                    move.production_id,
                    move.purchase_order_id,
                    move.purchase_partner_id,
                    picking_partners.get(row["picking_id"], False),
                    move.partner_id,
                    move.sale_order_id,
                    row["reference"],
                    row["status"],
                    row["supplier_id"],
                    row["lot_production_id"],
                    row["lot_warranty_date"],
                    row["warranty_date"],
                    product.warranty_formula,
                    row["on_hand"],
                    product.rounding,
                )
            )
        return facts

    def _get_move_document_facts(self, move_ids):
        """{move id: `MoveFacts`} of the given moves (None is left out), read through the
        ORM once per move: `_action_done` has just read the moves, so they are cached."""
        return {
            move.id: MoveFacts(
                move.scrapped,
                move.production_id.id,
                move.purchase_line_id.order_id.id,
                move.purchase_line_id.order_id.partner_id.id,
                move.partner_id.id,
                move.sale_line_id.order_id.id,
            )
            for move in self.env["stock.move"].sudo().browse(filter(None, move_ids))
        }

    def _set_lot_warranty_dates(self, facts=None):
        """Set the warranty date of lots delivered to a customer (R001-18, R001-19): the date
        entered on the line, else the item tracking code's formula applied to the delivery
        date. One write per distinct date."""
        if facts is None:
            facts = self._get_lot_move_facts()
        lots_by_date = defaultdict(list)
        for line in facts:
            if line.dest_usage != "customer" or not (line.warranty_date or line.warranty_formula):
                continue
            date = line.warranty_date or apply_date_formula(
                line.warranty_formula, fields.Date.context_today(self, line.date)
            )
            if date != line.lot_warranty_date:
                lots_by_date[date].append(line.lot_id)
        # Set by the operation itself, recorded in its move lines: no chatter message per lot.
        Lot = self.env["stock.lot"].sudo().with_context(tracking_disable=True)
        for date, lot_ids in lots_by_date.items():
            Lot.browse(lot_ids).write({"warranty_date": date})

    def _update_lot_tracking(self, facts=None):
        """Set the status and sources of the lots of these done lines, and log the changes.

        Batched: the facts of `_get_lot_move_facts` (one query), one write per distinct set
        of values and one insert of all the log records, whatever the number of lots.
        """
        if facts is None:
            facts = self._get_lot_move_facts()
        if not facts:
            return
        vals_by_lot = {}
        last_line = {}
        for line in facts:  # oldest first
            last_line[line.lot_id] = line
            vals = vals_by_lot.setdefault(line.lot_id, {})
            if line.dest_usage == "customer":
                vals.update(
                    customer_id=line.picking_partner_id or line.move_partner_id or False,
                    delivery_date=line.date,
                    sale_order_id=line.sale_order_id or False,
                )
            elif line.dest_usage in STOCK_USAGES and line.source_usage == "supplier":
                if not line.supplier_id and "supplier_id" not in vals:
                    vals.update(
                        supplier_id=(
                            line.purchase_partner_id
                            or line.picking_partner_id
                            or line.move_partner_id
                            or False
                        ),
                        receipt_date=line.date,
                        purchase_order_id=line.purchase_order_id or False,
                    )
            elif line.dest_usage in STOCK_USAGES and line.source_usage == "production":
                if line.production_id and not line.lot_production_id:
                    vals["production_id"] = line.production_id
        logs = []
        for lot_id, vals in vals_by_lot.items():
            line = last_line[lot_id]
            new_status = self._get_lot_status(line)
            if new_status and new_status != line.status:
                vals["tracking_status"] = new_status
                logs.append(
                    {
                        "lot_id": lot_id,
                        "company_id": line.company_id,
                        "old_status": line.status,
                        "new_status": new_status,
                        "move_line_id": line.id,
                        "reference": line.reference,
                    }
                )
        self._write_lot_values(vals_by_lot)
        self.env["stock.lot.status.log"].sudo()._create_status_logs(logs)

    @api.model
    def _get_lot_status(self, line):
        """The status of a lot after `line` (`LotMoveFacts`), its latest done line in the
        operation; False when the status doesn't change."""
        if float_compare(line.on_hand, 0, precision_rounding=line.product_rounding) > 0:
            if line.dest_usage in STOCK_USAGES and line.source_usage == "customer":
                return "returned"
            if (
                line.status == "returned"
                and line.source_usage in STOCK_USAGES
                and line.dest_usage in STOCK_USAGES
                and not line.dest_rejected
            ):
                return "returned"
            return "received"
        if line.dest_rejected:
            return "rejected"
        if line.dest_scrap or line.scrapped:
            return "written_off"
        if line.dest_usage == "customer":
            return "shipped"
        if line.dest_usage == "production":
            return "consumed"
        if line.dest_usage == "inventory":
            return "written_off"
        # Back to a vendor, or a negative quant left behind: the status does not change.
        return False

    def _write_lot_values(self, vals_by_lot):
        """One write per distinct set of values ({lot id: values})."""
        groups = defaultdict(list)
        for lot_id, vals in vals_by_lot.items():
            if vals:
                groups[tuple(sorted(vals.items()))].append(lot_id)
        Lot = self.env["stock.lot"].sudo().with_context(**{STATUS_CONTEXT_KEY: True})
        for items, lot_ids in groups.items():
            Lot.browse(lot_ids).write(dict(items))
