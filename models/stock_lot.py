from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, float_compare
from odoo.tools.sql import column_exists, create_column, create_index, make_index_name

from odoo.addons.stock.models.stock_lot import OPERATORS

from ..tools.lot_status import SOURCE_FIELDS, STOCK_USAGES, replay

MANAGER_GROUP = "stock_item_tracking.group_item_tracking_manager"
# In lifecycle order: the order of the status groups in lists, pivots and graphs.
TRACKING_STATUSES = [
    ("planned", "Planned"),
    ("received", "Received"),
    ("consumed", "Consumed"),
    ("shipped", "Shipped"),
    ("returned", "Returned"),
    ("rejected", "Rejected"),
    ("written_off", "Written Off"),
]
# The usual next steps shown in the status bar of a number still planned or on hand.
NEXT_STATUSES = {"planned": ("received", "shipped"), "received": ("shipped",)}
MAINTENANCE_STATUSES = [
    ("under_warranty", "Under Warranty"),
    ("out_of_warranty", "Out of Warranty"),
    ("under_amc", "Under AMC"),
    ("out_of_amc", "Out of AMC"),
]
# Fields that can't change once the lot has done moves (R001-23/24, R004-S05).
LOCKED_FIELDS = ("name", "product_id", "company_id")
# Plain fields of the add-on's own writes (`_item_tracking_write`).
STORED_DIRECTLY = ("tracking_status", "warranty_date")
# Company-dependent fields of the add-on's own writes, besides the sources.
COMPANY_STORED_DIRECTLY = ("unit_cost",)
# Recorded by stock operations only, never typed (by anyone): the add-on writes them as
# superuser (`_item_tracking_write`); any other write or create is refused.
RECORDED_FIELDS = (
    "tracking_status",
    "maintenance_status",
    *SOURCE_FIELDS,
    "component_lot_ids",
    "used_in_lot_ids",
    "unit_cost",
)
# Deepest genealogy level followed (a guard against cycles, e.g. a lot reworked into itself).
GENEALOGY_MAX_LEVEL = 50
# Service data: set by deliveries, otherwise edited by Item Tracking Managers only.
SERVICE_FIELDS = ("warranty_date", "amc_expiry_date")
# Block data: Item Tracking Managers only.
BLOCK_FIELDS = ("blocked", "blocked_reason")
# Partial index of the blocked lots (`StockLot.init`).
BLOCKED_INDEX = "stock_lot_blocked_lots_index"


class StockLot(models.Model):
    _name = "stock.lot"
    _inherit = ["stock.lot", "item.tracking.selection.order"]
    _selection_order_fields = ("tracking_status",)
    _rec_names_search = ("name", "ref", "manufacturer_serial")

    item_tracking_code_id = fields.Many2one(related="product_id.item_tracking_code_id")
    blocked = fields.Boolean(
        tracking=True,
        copy=False,
        # A partial index of the few blocked lots (`init`), not one entry per lot.
        help="A blocked lot/serial number can't be reserved nor moved by any stock operation. "
        "Only Item Tracking Managers can block or unblock.",
    )
    blocked_reason = fields.Text(tracking=True, copy=False)
    can_block = fields.Boolean(compute="_compute_can_block")
    tracking_status = fields.Selection(
        TRACKING_STATUSES,
        string="Status",
        default="planned",
        required=True,
        readonly=True,
        index=True,
        copy=False,
        help="Lifecycle status, maintained by stock operations: planned (never received), "
        "received (on hand), consumed (by manufacturing), shipped (delivered to a customer), "
        "written off (scrapped), rejected (moved to the rejection location) or returned (came "
        "back from a customer).",
    )
    status_log_ids = fields.One2many("stock.lot.status.log", "lot_id", string="Status History")
    status_path = fields.Char(
        compute="_compute_status_path",
        help="The statuses of this lot's own path, in lifecycle order (comma-separated): "
        "those of its status history and its current one, then the usual next steps of a "
        "number still planned or on hand. The card's status bar shows these.",
    )
    # The card's header: the last change of the status history the reader may read (computed
    # from the history, so stock operations post no message per lot).
    last_status_log_id = fields.Many2one(
        "stock.lot.status.log", compute="_compute_last_status_log_id", string="Last Status Change"
    )
    last_status_date = fields.Datetime(
        compute="_compute_last_status_log_id", string="Status Changed On"
    )
    last_status_reference = fields.Char(
        compute="_compute_last_status_log_id",
        string="Status Changed By",
        help="The operation (document) that made the last status change.",
    )
    # The sources are kept per company (company-dependent): a lot shared between companies
    # (no company) is received and delivered by several, and each sees only its own.
    supplier_id = fields.Many2one("res.partner", readonly=True, copy=False, company_dependent=True)
    # No index on the company-dependent dates and cost (Odoo gives one to every
    # company-dependent field, `init` drops it): no search of the add-on uses them.
    receipt_date = fields.Datetime(readonly=True, copy=False, company_dependent=True, index=False)
    purchase_order_id = fields.Many2one(
        "purchase.order", readonly=True, copy=False, company_dependent=True
    )
    production_id = fields.Many2one(
        "mrp.production",
        string="Manufacturing Order",
        readonly=True,
        copy=False,
        company_dependent=True,
    )
    customer_id = fields.Many2one("res.partner", readonly=True, copy=False, company_dependent=True)
    delivery_date = fields.Datetime(readonly=True, copy=False, company_dependent=True, index=False)
    sale_order_id = fields.Many2one(
        "sale.order", string="Sales Order", readonly=True, copy=False, company_dependent=True
    )
    manufacturer_serial = fields.Char(
        index="trigram", copy=False, help="Serial number given by the manufacturer."
    )
    amc_expiry_date = fields.Date(
        string="AMC Expiry Date",
        tracking=True,
        copy=False,
        help="End of the annual maintenance contract. Only Item Tracking Managers can edit it.",
    )
    maintenance_status = fields.Selection(
        MAINTENANCE_STATUSES,
        compute="_compute_maintenance_status",
        store=True,
        index=True,
        help="Under/Out of Warranty, Under/Out of AMC, from the warranty and AMC dates "
        "(a valid warranty wins, then the AMC). Kept up to date by a daily scheduled job.",
    )
    maintenance_ids = fields.One2many("stock.lot.maintenance", "lot_id")
    move_line_done_count = fields.Integer(compute="_compute_move_line_done_count")
    warranty_date = fields.Date(
        tracking=True,
        copy=False,
        help="Last day of warranty: set on delivery to a customer from the item tracking code's "
        "warranty date formula, or from the date entered on the delivery operation.",
    )

    # Genealogy (Odoo's own consume_line_ids/produce_line_ids of the done move lines),
    # read through one recursive query per direction (`_get_genealogy`).
    component_lot_ids = fields.Many2many(
        "stock.lot",
        compute="_compute_genealogy_lot_ids",
        string="Components",
        readonly=True,
        help="Direct components: the lots/serial numbers consumed by the manufacturing "
        "operations that produced this number.",
    )
    used_in_lot_ids = fields.Many2many(
        "stock.lot",
        compute="_compute_genealogy_lot_ids",
        string="Used In",
        readonly=True,
        help="Direct parents: the lots/serial numbers produced from this number.",
    )
    genealogy_component_ids = fields.Many2many(
        "stock.lot",
        compute="_compute_genealogy_component_ids",
        string="Made From",
        help="Every lot/serial number this number was made from, at all levels.",
    )
    genealogy_used_in_ids = fields.Many2many(
        "stock.lot",
        compute="_compute_genealogy_used_in_ids",
        string="Where Used",
        help="Every lot/serial number made from this number, at all levels.",
    )
    # The place of a lot in the genealogy of the lot given by the context key
    # `genealogy_root_id` (direction `genealogy_direction`: "down" or "up"), as
    # `qty_available` is relative to the context's location.
    genealogy_level = fields.Integer(compute="_compute_genealogy_place", string="Level")
    genealogy_quantity = fields.Float(
        compute="_compute_genealogy_place", string="Quantity", digits="Product Unit of Measure"
    )
    # The cost of one unit as produced by a manufacturing order, per company (the valuation
    # is the producing company's, in its currency; each company of a shared lot sees its own).
    unit_cost = fields.Float(
        readonly=True,
        copy=False,
        company_dependent=True,
        index=False,
        digits="Product Price",
        help="Cost of one unit of this number as produced: the valuation of its own components "
        "at consumption plus its share of the operation and extra cost of the manufacturing "
        "order. Recorded when the order is done.",
    )
    unit_cost_currency_id = fields.Many2one(
        "res.currency", compute="_compute_unit_cost_currency_id", string="Cost Currency"
    )

    # A copy is a new number: no stock, so no location (vanilla copies it, R004-10 refuses it).
    location_id = fields.Many2one(copy=False)

    def _auto_init(self):
        """Create `maintenance_status` in SQL on large existing tables, instead of the ORM
        computing it lot by lot (R004-S03 in SQL; the daily job keeps it right)."""
        cr = self.env.cr
        if not column_exists(cr, "stock_lot", "maintenance_status"):
            create_column(cr, "stock_lot", "maintenance_status", "varchar")
            if column_exists(cr, "stock_lot", "warranty_date"):
                cr.execute(
                    SQL(
                        """UPDATE stock_lot SET maintenance_status = CASE
                            WHEN warranty_date >= CURRENT_DATE THEN 'under_warranty'
                            WHEN warranty_date IS NOT NULL THEN 'out_of_warranty' END
                        WHERE warranty_date IS NOT NULL"""
                    )
                )
        return super()._auto_init()

    def init(self):
        """Every row version of a lot (its insert, Odoo's updates of its location, the
        add-on's of its status and sources) goes into every index of `stock_lot`: no index
        where no search needs one. The blocked lots (few; the reservation leaves them out)
        have a partial index; the company-dependent dates and cost have none (Odoo's default
        index of a company-dependent field only finds the lots with a value, for any
        company). Drops the indexes of earlier versions."""
        res = super().init()
        cr = self.env.cr
        cr.execute(
            SQL(
                "DROP INDEX IF EXISTS %s",
                SQL(", ").join(
                    SQL.identifier(make_index_name("stock_lot", fname))
                    for fname in ("blocked", "receipt_date", "delivery_date", "unit_cost")
                ),
            )
        )
        create_index(cr, BLOCKED_INDEX, "stock_lot", ["id"], where="blocked")
        return res

    @api.depends_context("uid")
    @api.depends("tracking_status", "status_log_ids.old_status", "status_log_ids.new_status")
    def _compute_status_path(self):
        visited = defaultdict(set)
        lot_ids = [lot_id for lot_id in self._origin.ids if lot_id]
        if lot_ids:
            groups = self.env["stock.lot.status.log"]._read_group(
                [("lot_id", "in", lot_ids)],
                ["lot_id"],
                ["old_status:array_agg", "new_status:array_agg"],
            )
            for lot, old_statuses, new_statuses in groups:
                visited[lot.id].update(old_statuses, new_statuses)
        order = [value for value, _label in TRACKING_STATUSES]
        for lot in self:
            path = visited[lot._origin.id] | {"planned", lot.tracking_status}
            path |= set(NEXT_STATUSES.get(lot.tracking_status, ()))
            lot.status_path = ",".join(status for status in order if status in path)

    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("status_log_ids.date")
    def _compute_last_status_log_id(self):
        """The newest status change of each lot, in one search for the whole recordset."""
        last = {}
        lot_ids = [lot_id for lot_id in self._origin.ids if lot_id]
        if lot_ids:
            for log in self.env["stock.lot.status.log"].search([("lot_id", "in", lot_ids)]):
                last.setdefault(log.lot_id.id, log)
        for lot in self:
            log = last.get(lot._origin.id, self.env["stock.lot.status.log"])
            lot.last_status_log_id = log
            lot.last_status_date = log.date
            lot.last_status_reference = log.reference or log.move_line_id.reference

    @api.depends_context("uid")
    def _compute_can_block(self):
        self.can_block = self.env.user.has_group(MANAGER_GROUP)

    @api.depends("warranty_date", "amc_expiry_date")
    def _compute_maintenance_status(self):
        today = fields.Date.context_today(self)
        for lot in self:
            lot.maintenance_status = self._get_maintenance_status(
                lot.warranty_date, lot.amc_expiry_date, today
            )

    @api.model
    def _get_maintenance_status(self, warranty_date, amc_date, today):
        """ERPNext's precedence (R004-S03): a valid warranty wins, then the AMC."""
        if warranty_date and warranty_date >= today:
            return "under_warranty"
        if amc_date:
            return "under_amc" if amc_date >= today else "out_of_amc"
        if warranty_date:
            return "out_of_warranty"
        return False

    @api.depends_context("allowed_company_ids")
    def _compute_genealogy_lot_ids(self):
        down = self._get_genealogy("down", max_level=1)
        up = self._get_genealogy("up", max_level=1)
        for lot in self:
            lot.component_lot_ids = self._genealogy_lots(down.get(lot.id, {}))
            lot.used_in_lot_ids = self._genealogy_lots(up.get(lot.id, {}))

    @api.depends_context("allowed_company_ids")
    def _compute_genealogy_component_ids(self):
        down = self._get_genealogy("down")
        for lot in self:
            lot.genealogy_component_ids = self._genealogy_lots(down.get(lot.id, {}))

    @api.depends_context("allowed_company_ids")
    def _compute_genealogy_used_in_ids(self):
        up = self._get_genealogy("up")
        for lot in self:
            lot.genealogy_used_in_ids = self._genealogy_lots(up.get(lot.id, {}))

    def _genealogy_lots(self, places):
        """The lots of `places` ({lot id: (level, quantity)}), nearest levels first."""
        return self.browse(sorted(places, key=lambda lot_id: (places[lot_id][0], lot_id)))

    @api.depends_context("allowed_company_ids", "genealogy_root_id", "genealogy_direction")
    def _compute_genealogy_place(self):
        """The level and quantity of the lots in the genealogy of the context's root. The
        page's rows are computed at once (one query), whatever the batch the ORM asks for."""
        root = self.env.context.get("genealogy_root_id")
        direction = self.env.context.get("genealogy_direction")
        places = {}
        if isinstance(root, int) and direction in ("down", "up"):
            places = self.browse(root)._get_genealogy(direction).get(root, {})
        lots = self | self.browse(places)
        fields_ = [self._fields["genealogy_level"], self._fields["genealogy_quantity"]]
        with self.env.protecting(fields_, lots):
            for lot in lots:
                level, quantity = places.get(lot.id, (0, 0.0))
                lot.genealogy_level = level
                lot.genealogy_quantity = quantity

    @api.depends_context("company")
    def _compute_unit_cost_currency_id(self):
        self.unit_cost_currency_id = self.env.company.currency_id

    @api.depends_context("uid", "company")
    def _compute_move_line_done_count(self):
        counts = dict(
            self.env["stock.move.line"]._read_group(
                [("lot_id", "in", self.ids), ("state", "=", "done")], ["lot_id"], ["__count"]
            )
        )
        for lot in self:
            lot.move_line_done_count = counts.get(lot, 0)

    def _product_qty(self):
        """Rejected stock (in a company's rejection location) is not on hand."""
        res = super()._product_qty()
        reject_locations = self.env["res.company"]._get_item_tracking_reject_locations()
        for lot in self:
            rejected = lot.quant_ids.filtered(lambda q: q.location_id in reject_locations)
            if rejected:
                lot.product_qty -= sum(rejected.mapped("quantity"))
        return res

    def _search_product_qty(self, operator, value):
        """Search on hand quantity as computed above: rejected stock is not on hand.

        Odoo's search sums every internal quant; the few lots with stock in a rejection
        location are re-evaluated on their quantity outside it.
        """
        domain = super()._search_product_qty(operator, value)
        reject_locations = self.env["res.company"]._get_item_tracking_reject_locations()
        if not reject_locations:
            return domain
        quants = self.env["stock.quant"]
        rejected_lots = self.browse(
            lot.id
            for [lot] in quants._read_group(
                [
                    ("lot_id", "!=", False),
                    ("location_id", "in", reject_locations.ids),
                    ("quantity", "!=", 0),
                ],
                ["lot_id"],
            )
        )
        if not rejected_lots:
            return domain
        on_hand = dict(
            quants._read_group(
                [
                    ("lot_id", "in", rejected_lots.ids),
                    ("location_id", "not in", reject_locations.ids),
                    "|",
                    ("location_id.usage", "=", "internal"),
                    "&",
                    ("location_id.usage", "=", "transit"),
                    ("location_id.company_id", "!=", False),
                ],
                ["lot_id"],
                ["quantity:sum"],
            )
        )
        compare = OPERATORS[operator]
        matching = rejected_lots.filtered(lambda lot: compare(on_hand.get(lot, 0.0), value))
        return expression.OR(
            [
                [("id", "in", matching.ids)],
                expression.AND([[("id", "not in", rejected_lots.ids)], domain]),
            ]
        )

    @api.depends("product_id")
    def _compute_expiration_date(self):
        """Lots of products whose code asks for manual or no expiration dates get no default."""
        manual = self.filtered(
            lambda lot: (
                lot.item_tracking_code_id.expiration_date_required
                or lot.item_tracking_code_id.ignore_expiration
            )
        )
        for lot in manual:
            lot.expiration_date = lot.expiration_date
        return super(StockLot, self - manual)._compute_expiration_date()

    @api.constrains("blocked", "blocked_reason")
    def _check_blocked_reason(self):
        """A block always has a reason (any path: create, write, import, list toggle,
        multi-edit, whatever the context, superuser included)."""
        missing = self.filtered(lambda lot: lot.blocked and not (lot.blocked_reason or "").strip())
        if missing:
            raise ValidationError(
                self.env._(
                    "Enter the reason for blocking these lots/serial numbers: %(lots)s",
                    lots=", ".join(missing.mapped("display_name")),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_item_tracking_create(vals_list)
        vals_list = self._drop_new_lot_locations(vals_list)
        self._add_new_lot_companies(vals_list)
        lots = self
        if self.env.context.get("default_location_id"):
            lots = self.with_context(default_location_id=False)
        return super(StockLot, lots).create(vals_list)

    @api.model
    def _add_new_lot_companies(self, vals_list):
        """Give each new lot without a company the one Odoo's `_compute_company_id` gives
        it (computed on new records, one per product), in place, so that the company is in
        the INSERT: left to the ORM, the stored computed company is written by an UPDATE of
        its own right after the INSERT, a second version of every new row through every
        index of `stock_lot` (a receipt of 1,000 serials spends more time on it than on the
        INSERT). A company given, by the values or the context's default, is kept."""
        if "default_company_id" in self.env.context:
            return
        default_product = self.env.context.get("default_product_id")
        missing = [vals for vals in vals_list if "company_id" not in vals]
        product_ids = {vals.get("product_id", default_product) for vals in missing}
        product_ids = [product_id for product_id in product_ids if isinstance(product_id, int)]
        if not product_ids:
            return
        # As the ORM computes a stored field: as superuser (`compute_sudo`), in this
        # environment's companies (a branch user may not read the parent company).
        Lot = self.sudo()
        new_lots = Lot.browse()
        for product_id in product_ids:
            new_lots |= Lot.new({"product_id": product_id})
        new_lots._compute_company_id()
        company_by_product = {lot.product_id.id: lot.company_id.id for lot in new_lots}
        for vals in missing:
            product_id = vals.get("product_id", default_product)
            if product_id in company_by_product:
                vals["company_id"] = company_by_product[product_id]

    @api.model
    def _check_item_tracking_create(self, vals_list):
        """A new number has no history: its status is planned, it has no sources, and only
        Item Tracking Managers may give it a block, a reason, or service dates. Whatever the
        caller sends (context included), only the superuser is exempt."""
        if self.env.su:
            return
        given = {
            fname
            for vals in vals_list
            for fname in (*RECORDED_FIELDS, *SERVICE_FIELDS, *BLOCK_FIELDS)
            if vals.get(fname) and not (fname == "tracking_status" and vals[fname] == "planned")
        }
        self._check_item_tracking_fields(given, vals_list)

    def _check_item_tracking_fields(self, fnames, vals_list=None):
        """Refuse writing `fnames` unless they may be written by the current user."""
        recorded = [fname for fname in RECORDED_FIELDS if fname in fnames]
        if recorded:
            names = ", ".join(
                {vals.get("name") or "-" for vals in vals_list}
                if vals_list is not None
                else self.mapped("display_name")
            )
            raise UserError(
                self.env._(
                    "%(fields)s of lots/serial numbers are recorded by stock operations and "
                    "can't be typed: %(lots)s",
                    fields=", ".join(self._fields[fname].string for fname in recorded),
                    lots=names,
                )
            )
        if set(SERVICE_FIELDS) & set(fnames):
            self._check_service_access()
        if set(BLOCK_FIELDS) & set(fnames):
            self._check_block_access()

    @api.model
    def _drop_new_lot_locations(self, vals_list):
        """New lots get no location (R004-10): a new number has no stock, and only stock
        operations put it somewhere (vanilla stores the location given, which then claims
        stock that isn't there). A location that merely echoes the context's default (a
        form opened from a transfer sends it back) is dropped; one given explicitly is
        refused, naming the numbers."""
        default_location = self.env.context.get("default_location_id")
        explicit = [
            vals.get("name") or "-"
            for vals in vals_list
            if vals.get("location_id") and vals["location_id"] != default_location
        ]
        if explicit:
            raise UserError(
                self.env._(
                    "A new lot/serial number can't be given a location: stock operations "
                    "(a receipt, an inventory adjustment) put it in one. Numbers: %(lots)s",
                    lots=", ".join(explicit),
                )
            )
        return [
            {key: value for key, value in vals.items() if key != "location_id"}
            for vals in vals_list
        ]

    def write(self, vals):
        if not self.env.su:
            self._check_item_tracking_fields(self._get_changed_fields(vals))
        self._check_locked_fields(vals)
        if "blocked" in vals:
            to_block = self.filtered(lambda lot: not lot.blocked) if vals["blocked"] else None
            res = super().write(vals)
            if to_block:
                to_block._free_blocked_reservations()
            return res
        return super().write(vals)

    def _get_changed_fields(self, vals):
        """The protected fields (recorded, service, block) whose value `vals` changes on
        some of these lots: writing back the value a lot has (an import of an export) is
        no change."""
        changed = set()
        for fname in (*RECORDED_FIELDS, *SERVICE_FIELDS, *BLOCK_FIELDS):
            if fname not in vals:
                continue
            field = self._fields[fname]
            new = field.convert_to_cache(vals[fname], self)
            for lot in self:
                old = field.convert_to_cache(lot[fname], lot)
                if (old or False) != (new or False):
                    changed.add(fname)
                    break
        return changed

    def _item_tracking_write(self, vals_by_key):
        """The add-on's own writes of recorded data: {(company id, values items): lot ids},
        as superuser, without chatter message per lot (the operation records the change).
        Values without company: the status and the warranty date (with the maintenance
        status it gives); with a company: the company-dependent sources and unit cost.

        The values go into the ORM's cache as pending writes, with what Odoo has pending on
        the same lots (their location, recomputed from the quants the operation moved), and
        are flushed at once: each lot's row is written once by the ORM's batched `UPDATE`
        (every row written is a new row version through every index of `stock_lot`, so a
        second statement for the same lots would write each of them twice), with the
        maintenance status Odoo recomputes from the warranty date."""
        Lot = self.sudo()
        fnames = {fname for (_company_id, items) in vals_by_key for fname, _value in items}
        unknown = fnames - {*SOURCE_FIELDS, *COMPANY_STORED_DIRECTLY, *STORED_DIRECTLY}
        if unknown:
            raise ValueError(f"stock.lot fields not written directly: {sorted(unknown)}")
        written = set()
        # In order: a later key's value of a field wins, as in a dict update.
        for (company_id, items), lot_ids in vals_by_key.items():
            lots = Lot.browse(lot_ids)
            if company_id:
                lots = lots.with_company(company_id)
            for fname, value in items:
                Lot._fields[fname].write(lots, value)
            # Odoo's own triggers: the stored maintenance status is recomputed from the
            # warranty date (and flushed with it), the status path invalidated.
            lots.modified([fname for fname, _value in items])
            written.update(lot_ids)
        if not written:
            return
        written = Lot.browse(written)
        Lot._fields["write_date"].write(written, self.env.cr.now())
        Lot._fields["write_uid"].write(written, self.env.uid)
        Lot.flush_model()

    @api.model
    def _item_tracking_write_unit_costs(self, costs):
        """Record the unit costs {(lot id, company id): cost}, each company's value of the
        company-dependent field, through `_item_tracking_write` (each lot row written once,
        with what Odoo has pending on it)."""
        vals_by_key = defaultdict(list)
        for (lot_id, company_id), cost in costs.items():
            vals_by_key[company_id, (("unit_cost", cost),)].append(lot_id)
        self._item_tracking_write(vals_by_key)

    def unlink(self):
        used = self._get_lots_with_done_moves()
        if used:
            raise UserError(
                self.env._(
                    "These lots/serial numbers are used in done stock operations and can't be "
                    "deleted: %(lots)s",
                    lots=", ".join(used.mapped("display_name")),
                )
            )
        return super().unlink()

    def action_view_history(self):
        """Every done move line of the lot, oldest first."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("History of %(lot)s", lot=self.display_name),
            "res_model": "stock.move.line",
            "view_mode": "list,form",
            "views": [
                (self.env.ref("stock_item_tracking.view_move_line_tree_lot_history").id, "list"),
                (False, "form"),
            ],
            "domain": [("lot_id", "=", self.id), ("state", "=", "done")],
            "context": {"create": False, "search_default_done": False},
            "help": self.env._(
                "<p class='o_view_nocontent_empty_folder'>No done movement yet</p>"
                "<p>The History lists the done movements of this lot/serial number itself, "
                "oldest first, with their partner and the quantities that entered (In) and "
                "left (Out) stock. Odoo's Traceability report (the Traceability button) also "
                "follows the number into and out of manufacturing: the components it was "
                "made from and the products made from it.</p>"
            ),
        }

    def action_open_block(self):
        """The block wizard for these lots (the list's Blocked toggle, the card)."""
        self._check_block_access()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "stock_item_tracking.action_stock_lot_block"
        )
        action["context"] = {
            "active_model": "stock.lot",
            "active_ids": self.ids,
            "default_lot_ids": self.ids,
        }
        return action

    def action_unblock(self):
        """Unblock these lots (Item Tracking Managers only, as any write of the block)."""
        self.filtered("blocked").write({"blocked": False})
        return True

    def action_reject(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject"),
            "res_model": "stock.lot.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "stock.lot", "active_ids": self.ids},
        }

    def action_recall_impact(self):
        """Every lot/serial number made from these numbers, at all levels, with where it is
        and what reserves it, in a list that can be exported and that blocks those still in
        stock (`stock.lot.recall`)."""
        if not self:
            raise UserError(self.env._("Select the lots/serial numbers to recall."))
        recall = self.env["stock.lot.recall"].create({"lot_ids": [Command.set(self.ids)]})
        recall._fill_lines()
        return recall._get_lines_action()

    # ------------------------------------------------------------------
    # Genealogy: Odoo's consume_line_ids / produce_line_ids of done move lines
    # ------------------------------------------------------------------
    def _get_genealogy(self, direction, max_level=GENEALOGY_MAX_LEVEL):
        """{root lot id: {lot id: (level, quantity)}} for these lots in one recursive query:
        "down", the lots consumed to produce them (made-from), or "up", the lots produced
        from them (where-used), through all levels up to `max_level`. Only done move lines of
        the reader's companies count (a shared lot shows each company its own genealogy). The
        quantity is that of the lot's lines at its first level (consumed into its parent
        going down, produced going up)."""
        if not self.ids:
            return {}
        self.env["stock.move.line"].flush_model(
            ["lot_id", "state", "company_id", "quantity_product_uom", "consume_line_ids"]
        )
        self.env.cr.execute(self._get_genealogy_query(direction, max_level))
        genealogy = defaultdict(dict)
        for root, lot_id, level, quantity in self.env.cr.fetchall():
            genealogy[root][lot_id] = (level, quantity)
        return genealogy

    def _get_genealogy_query(self, direction, max_level):
        """The recursive query of `_get_genealogy`: (root, lot, level, quantity) rows. Each
        step joins the lines of the lots reached (the production lines of a lot going down,
        its consumption lines going up) to their other side in stock_move_line_consume_rel."""
        # `consume_line_ids` is declared with column1 `consume_line_id`: that column holds
        # the production line (the record whose consumed lines are listed) and
        # `produce_line_id` the consumed line.
        if direction == "down":
            near, far = SQL("rel.consume_line_id"), SQL("rel.produce_line_id")
        else:
            near, far = SQL("rel.produce_line_id"), SQL("rel.consume_line_id")
        joins = SQL(
            """stock_move_line near_line
                 JOIN stock_move_line_consume_rel rel ON %s = near_line.id
                 JOIN stock_move_line far_line ON far_line.id = %s""",
            near,
            far,
        )
        companies = self.env.companies.ids
        conditions = SQL(
            """near_line.state = 'done' AND far_line.state = 'done'
               AND far_line.lot_id IS NOT NULL
               AND near_line.company_id = ANY(%(companies)s)
               AND far_line.company_id = ANY(%(companies)s)""",
            companies=companies,
        )
        return SQL(
            """WITH RECURSIVE tree(root_id, lot_id, line_id, level, quantity) AS (
                    SELECT near_line.lot_id, far_line.lot_id, far_line.id, 1,
                           far_line.quantity_product_uom
                      FROM %(joins)s
                     WHERE near_line.lot_id = ANY(%(roots)s) AND %(conditions)s
                 UNION
                    SELECT tree.root_id, far_line.lot_id, far_line.id, tree.level + 1,
                           far_line.quantity_product_uom
                      FROM tree, %(joins)s
                     WHERE near_line.lot_id = tree.lot_id AND tree.level < %(max_level)s
                       AND %(conditions)s
               ), first_place AS (
                    SELECT DISTINCT ON (root_id, line_id) root_id, lot_id, level, quantity
                      FROM tree
                  ORDER BY root_id, line_id, level
               )
               SELECT root_id, lot_id, MIN(level), SUM(quantity)
                 FROM first_place
                WHERE lot_id != root_id
             GROUP BY root_id, lot_id""",
            joins=joins,
            conditions=conditions,
            roots=self.ids,
            max_level=max_level,
        )

    def _get_history_lines(self):
        """Done move lines of the lot in date order (card, report), those the reader may
        read: of a shared lot, only the movements of the reader's companies."""
        self.check_access("read")
        return self.env["stock.move.line"].search(
            [("lot_id", "in", self.ids), ("state", "=", "done")], order="date, id"
        )

    def _get_lots_with_done_moves(self):
        if not self.ids:
            return self.browse()
        lots = (
            self.env["stock.move.line"]
            .sudo()
            ._read_group([("lot_id", "in", self.ids), ("state", "=", "done")], ["lot_id"])
        )
        return self.browse([lot.id for (lot,) in lots])

    def _check_locked_fields(self, vals):
        """Number, product and company are fixed once the lot has done moves (R001-23/24)."""
        changed = [fname for fname in LOCKED_FIELDS if fname in vals]
        if not changed:
            return
        to_check = self.browse()
        for lot in self:
            for fname in changed:
                value = lot[fname]
                current = value.id if isinstance(value, models.BaseModel) else value
                if current != vals[fname]:
                    to_check |= lot
                    break
        planned_changes = {"product_id", "company_id"} & set(changed)
        if planned_changes and to_check:
            planned = (
                self.env["mrp.production.serial"]
                .sudo()
                .search([("lot_id", "in", to_check.ids)])
                .lot_id
            )
            if planned:
                raise UserError(
                    self.env._(
                        "These serial numbers are planned on manufacturing orders: their product "
                        "and company stay those of the order: %(lots)s",
                        lots=", ".join(planned.mapped("display_name")),
                    )
                )
        used = to_check._get_lots_with_done_moves()
        if used:
            labels = {
                fname: self._fields[fname].get_description(self.env)["string"] for fname in changed
            }
            raise UserError(
                self.env._(
                    "The %(fields)s of these lots/serial numbers can't be changed because they "
                    "have done stock moves: %(lots)s",
                    fields=", ".join(labels.values()),
                    lots=", ".join(used.mapped("display_name")),
                )
            )

    def _check_service_access(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Item Tracking Managers can edit the AMC and maintenance data.")
            )

    @api.model
    def _cron_update_maintenance_status(self):
        """Recompute the maintenance status of the lots whose status lapsed: one search and one
        write per target status (R004-S03)."""
        today = fields.Date.context_today(self)
        Lot = self.sudo().with_context(active_test=False)
        no_warranty = ["|", ("warranty_date", "=", False), ("warranty_date", "<", today)]
        targets = {
            "under_warranty": [("warranty_date", ">=", today)],
            "under_amc": no_warranty + [("amc_expiry_date", ">=", today)],
            "out_of_amc": no_warranty + [("amc_expiry_date", "<", today)],
            "out_of_warranty": [("warranty_date", "<", today), ("amc_expiry_date", "=", False)],
            False: [("warranty_date", "=", False), ("amc_expiry_date", "=", False)],
        }
        for status, domain in targets.items():
            lots = Lot.search(domain + [("maintenance_status", "!=", status)])
            if lots:
                lots.with_context(tracking_disable=True).write({"maintenance_status": status})
        self.env["stock.lot.maintenance"]._create_due_activities()

    def _check_block_access(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only Item Tracking Managers can block or unblock lots/serial numbers, or "
                    "change the reason of a block."
                )
            )

    def _get_open_move_lines(self, picked):
        """Move lines of these lots on open operations, picked or not (sudo)."""
        return (
            self.env["stock.move.line"]
            .sudo()
            .search(
                [
                    ("lot_id", "in", self.ids),
                    ("state", "not in", ("done", "cancel")),
                    ("picked", "=", picked),
                ]
            )
        )

    def _free_blocked_reservations(self):
        """Drop the open outgoing reservations of lots that were just blocked (R001-22);
        lines that bring the number in (a receipt being typed) are kept. The quants of the
        lots are written too, so that a reservation committed at the same moment by another
        transaction conflicts with the block (PostgreSQL's serialization failure, which Odoo
        retries) instead of surviving it."""
        self.env["stock.quant"].flush_model(["reserved_quantity"])
        self.env.cr.execute(
            SQL(
                "UPDATE stock_quant SET reserved_quantity = reserved_quantity"
                " WHERE lot_id = ANY(%s)",
                self.ids,
            )
        )
        lines = self._get_open_move_lines(picked=False).filtered(
            lambda ml: ml.location_id.usage in STOCK_USAGES
        )
        if lines:
            moves = lines.move_id
            lines.unlink()
            moves._recompute_state()

    # ------------------------------------------------------------------
    # Upkeep of status, sources, history and warranty from done move lines
    # ------------------------------------------------------------------
    @api.model
    def _item_tracking_update_from_lines(self, lines):
        """After `lines` were done: fold them (oldest first) into their lots' status and
        sources with `tools.lot_status.replay`, the same function that installation and
        repair use, from the lots' current state; log each status change; set the warranty
        dates of the numbers delivered to a customer."""
        moves = lines._get_item_tracking_lot_moves()
        if not moves:
            return
        by_lot = defaultdict(list)
        for move in moves:
            by_lot[move["lot_id"]].append(move)
        lots = self.browse(by_lot).sudo()
        # What replay needs of the current sources, per company, and the stock on hand.
        current_by_company, on_hand = lots._get_item_tracking_lot_state(
            {move["company_id"] for move in moves}
        )
        statuses, sources, logs = {}, {}, []
        for lot in lots:
            lot_moves = by_lot[lot.id]
            net = sum(
                move["quantity"] * (move["dest_on_hand"] - move["src_on_hand"])
                for move in lot_moves
            )
            current = {
                company: current_by_company[company][lot.id]
                for company in {move["company_id"] for move in lot_moves}
            }
            status, new_sources, changes = replay(
                lot_moves, lot.tracking_status, current, on_hand.get(lot.id, 0.0) - net
            )
            if status != lot.tracking_status:
                statuses[lot.id] = status
            for company, values in new_sources.items():
                changed = {
                    fname: value
                    for fname, value in values.items()
                    if value != current[company].get(fname, False)
                }
                if changed:
                    sources[lot.id, company] = changed
            logs += [self._item_tracking_log_vals(lot, *change) for change in changes]
        self._item_tracking_store(
            statuses, sources, logs, self._get_item_tracking_warranty_dates(moves)
        )

    @api.model
    def _item_tracking_set_warranty_dates(self, moves):
        """Set the warranty date of the numbers that the done `moves` (see
        `stock.move.line._get_item_tracking_lot_moves`) delivered to a customer (R001-18,
        R001-19), in one statement."""
        self._item_tracking_store({}, {}, [], self._get_item_tracking_warranty_dates(moves))

    @api.model
    def _get_item_tracking_warranty_dates(self, moves):
        """{lot id: warranty date} of the numbers that the done `moves` delivered to a
        customer and whose date changes: the date entered on the line when the item tracking
        code asks for a manual date, else the code's formula applied to the delivery date."""
        Product = self.env["product.product"].sudo()
        dates = {}
        for move in moves:
            if move["dest_usage"] != "customer":
                continue
            product = Product.browse(move["product_id"])
            code = product.product_tmpl_id.item_tracking_code_id
            if code.scope != "inventory":
                continue
            if code.warranty_date_required:
                date = move["warranty_date"]
            else:
                date = code._apply_warranty_formula(
                    fields.Date.context_today(self, move["date"]), product
                )
            if date:
                dates[move["lot_id"]] = date
        return {
            lot.id: dates[lot.id]
            for lot in self.sudo().browse(dates)
            if lot.warranty_date != dates[lot.id]
        }

    def _get_item_tracking_lot_state(self, companies):
        """({company id: {lot id: {supplier_id, production_id}}}, {lot id: quantity on
        hand}): what `replay` needs of the lots' current sources, and their stock in
        internal and transit locations (rejection locations excluded), in one query whatever
        the number of lots (reading the company-dependent fields through the ORM fetches
        them 1,000 lots at a time)."""
        self.flush_recordset(["supplier_id", "production_id"])
        self.env["stock.quant"].flush_model(["lot_id", "location_id", "quantity"])
        Company = self.env["res.company"]
        Company.flush_model(["active", "item_tracking_reject_location_id"])
        self.env.cr.execute(
            SQL(
                """SELECT lot.id, c.id, (lot.supplier_id->>c.id::text)::int,
                          (lot.production_id->>c.id::text)::int, stock.quantity
                     FROM stock_lot lot
               CROSS JOIN unnest(%(companies)s::int4[]) AS c(id)
                LEFT JOIN (SELECT q.lot_id, SUM(q.quantity) AS quantity
                             FROM stock_quant q
                             JOIN stock_location loc ON loc.id = q.location_id
                            WHERE q.lot_id = ANY(%(lots)s) AND loc.usage IN %(usages)s
                              AND q.location_id NOT IN (%(rejects)s)
                         GROUP BY q.lot_id) stock ON stock.lot_id = lot.id
                    WHERE lot.id = ANY(%(lots)s)""",
                companies=list(companies),
                lots=self.ids,
                usages=STOCK_USAGES,
                rejects=Company._item_tracking_reject_locations_sql(),
            )
        )
        current = {company: {} for company in companies}
        on_hand = {}
        for lot_id, company, supplier, production, quantity in self.env.cr.fetchall():
            current[company][lot_id] = {
                "supplier_id": supplier or False,
                "production_id": production or False,
            }
            on_hand[lot_id] = quantity or 0.0
        return current, on_hand

    def _item_tracking_recompute(self):
        """Redo the status and sources of these lots from their whole history (after an edit
        of done operations, which changes the past): the same replay as installation. A
        status that changes is logged once, on the last move that gave it."""
        if not self:
            return
        history = self._read_item_tracking_history()
        statuses, sources, logs = {}, {}, []
        kept = self._get_item_tracking_source_companies()
        for lot in self.sudo():
            status, new_sources, changes = replay(history.get(lot.id, []))
            if status != lot.tracking_status:
                statuses[lot.id] = status
                move = changes[-1][0] if changes else {"line_id": False, "reference": False}
                logs.append(self._item_tracking_log_vals(lot, move, lot.tracking_status, status))
            for company in kept.get(lot.id, set()) | set(new_sources):
                sources[lot.id, company] = {
                    **dict.fromkeys(SOURCE_FIELDS, False),
                    **new_sources.get(company, {}),
                }
        self._item_tracking_store(statuses, sources, logs)

    @api.model
    def _item_tracking_log_vals(self, lot, move, old_status, new_status):
        return {
            "lot_id": lot.id,
            "company_id": move.get("company_id") or lot.company_id.id or self.env.company.id,
            "old_status": old_status,
            "new_status": new_status,
            "move_line_id": move["line_id"],
            "reference": move["reference"],
        }

    def _get_item_tracking_source_companies(self):
        """{lot id: companies that hold source values} (company-dependent fields)."""
        self.flush_recordset(list(SOURCE_FIELDS))
        self.env.cr.execute(
            SQL(
                """SELECT id, ARRAY_AGG(DISTINCT key::int)
                     FROM stock_lot, jsonb_object_keys(
                            COALESCE(supplier_id, '{}') || COALESCE(customer_id, '{}')
                            || COALESCE(production_id, '{}') || COALESCE(receipt_date, '{}')
                            || COALESCE(delivery_date, '{}')) AS key
                    WHERE id = ANY(%s)
                 GROUP BY id""",
                self.ids,
            )
        )
        return {lot_id: set(companies) for lot_id, companies in self.env.cr.fetchall()}

    @api.model
    def _item_tracking_store(self, statuses, sources, logs, warranty_dates=None):
        """Write the new statuses {lot id: status}, warranty dates {lot id: date} and
        sources {(lot id, company id): values}, and insert the log entries, batched: one
        UPDATE for the lots (`_item_tracking_write`), one insert of all the log entries,
        whatever the number of lots."""
        vals_by_key = defaultdict(list)
        warranty_dates = warranty_dates or {}
        for lot_id in statuses.keys() | warranty_dates.keys():
            items = []
            if lot_id in statuses:
                items.append(("tracking_status", statuses[lot_id]))
            if lot_id in warranty_dates:
                items.append(("warranty_date", warranty_dates[lot_id]))
            vals_by_key[False, tuple(items)].append(lot_id)
        for (lot_id, company), values in sources.items():
            vals_by_key[company, tuple(sorted(values.items()))].append(lot_id)
        self._item_tracking_write(vals_by_key)
        self.env["stock.lot.status.log"].sudo()._create_status_logs(logs)

    def _read_item_tracking_history(self):
        """{lot id: [move]}: every done move line of these lots, oldest first, as the moves
        of `tools.lot_status` (one query; installation reads it by chunks of lots)."""
        return self._read_item_tracking_history_sql(self.ids)

    @api.model
    def _read_item_tracking_history_sql(self, lot_ids):
        self.env.flush_all()
        self.env.cr.execute(
            self._get_item_tracking_history_query(SQL("ml.lot_id = ANY(%s)", list(lot_ids)))
        )
        history = defaultdict(list)
        for row in self.env.cr.dictfetchall():
            if float_compare(row["quantity"], 0, precision_rounding=row["rounding"]) > 0:
                history[row["lot_id"]].append(row)
        return history

    @api.model
    def _get_item_tracking_history_query(self, where):
        """The query of the done move lines matching `where` (an SQL condition on `ml`), as
        the moves of `tools.lot_status`, by lot and oldest first (lines of no quantity are
        left out by the reader)."""
        rejects = self.env["res.company"]._get_item_tracking_reject_locations()
        return SQL(
            """
                SELECT ml.id AS line_id, ml.lot_id, ml.company_id, ml.date, ml.reference,
                       ml.quantity_product_uom AS quantity,
                       src.usage AS src_usage, dst.usage AS dest_usage,
                       src.usage IN %(usages)s AND NOT src.id = ANY(%(rejects)s) AS src_on_hand,
                       dst.usage IN %(usages)s AND NOT dst.id = ANY(%(rejects)s)
                           AS dest_on_hand,
                       dst.id = ANY(%(rejects)s) AS dest_rejected,
                       COALESCE(dst.scrap_location, FALSE) OR COALESCE(m.scrapped, FALSE)
                           AS dest_scrap,
                       uom.rounding,
                       COALESCE(p.partner_id, m.partner_id) AS partner_id,
                       po.partner_id AS purchase_partner_id, po.id AS purchase_order_id,
                       sol.order_id AS sale_order_id,
                       m.production_id
                  FROM stock_move_line ml
                  JOIN stock_location src ON src.id = ml.location_id
                  JOIN stock_location dst ON dst.id = ml.location_dest_id
                  JOIN product_product pp ON pp.id = ml.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom uom ON uom.id = pt.uom_id
             LEFT JOIN stock_move m ON m.id = ml.move_id
             LEFT JOIN stock_picking p ON p.id = ml.picking_id
             LEFT JOIN purchase_order_line pol ON pol.id = m.purchase_line_id
             LEFT JOIN purchase_order po ON po.id = pol.order_id
             LEFT JOIN sale_order_line sol ON sol.id = m.sale_line_id
                 WHERE %(where)s AND ml.state = 'done'
              ORDER BY ml.lot_id, ml.date, ml.id
                """,
            where=where,
            usages=STOCK_USAGES,
            rejects=rejects.ids,
        )
