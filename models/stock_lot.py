from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from odoo.addons.stock.models.stock_lot import OPERATORS

MANAGER_GROUP = "stock_item_tracking.group_item_tracking_manager"
# Context key of the stock operations (and install hook) that maintain `tracking_status`.
STATUS_CONTEXT_KEY = "item_tracking_status_update"
TRACKING_STATUSES = [
    ("planned", "Planned"),
    ("received", "Received"),
    ("consumed", "Consumed"),
    ("shipped", "Shipped"),
    ("written_off", "Written Off"),
    ("rejected", "Rejected"),
    ("returned", "Returned"),
]
MAINTENANCE_STATUSES = [
    ("under_warranty", "Under Warranty"),
    ("out_of_warranty", "Out of Warranty"),
    ("under_amc", "Under AMC"),
    ("out_of_amc", "Out of AMC"),
]
# Fields that can't change once the lot has done moves (R001-23/24, R004-S05).
LOCKED_FIELDS = ("name", "product_id", "company_id")
# Lot fields the item tracking rules look at: see stock.move.line._was_checked_for_validation.
CHECKED_LOT_FIELDS = frozenset(("name", "product_id", "company_id", "blocked", "expiration_date"))
# Cursor cache key: the ids of the move lines a picking validation checked (a set).
CHECKED_LINES_KEY = "stock_item_tracking.checked_lines"


class StockLot(models.Model):
    _inherit = "stock.lot"
    _rec_names_search = ("name", "ref", "manufacturer_serial")

    item_tracking_code_id = fields.Many2one(related="product_id.item_tracking_code_id")
    blocked = fields.Boolean(
        tracking=True,
        copy=False,
        index=True,
        help="A blocked lot/serial number can't be reserved nor moved by any stock operation. "
        "Only Item Tracking Managers can block or unblock.",
    )
    blocked_reason = fields.Char(tracking=True, copy=False)
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
    supplier_id = fields.Many2one("res.partner", readonly=True, copy=False, index="btree_not_null")
    receipt_date = fields.Datetime(readonly=True, copy=False)
    purchase_order_id = fields.Many2one("purchase.order", readonly=True, copy=False)
    production_id = fields.Many2one(
        "mrp.production", string="Manufacturing Order", readonly=True, copy=False
    )
    customer_id = fields.Many2one("res.partner", readonly=True, copy=False, index="btree_not_null")
    delivery_date = fields.Datetime(readonly=True, copy=False)
    sale_order_id = fields.Many2one("sale.order", string="Sales Order", readonly=True, copy=False)
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

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("blocked") for vals in vals_list):
            self._check_block_access()
        if not self.env.context.get(STATUS_CONTEXT_KEY):
            if any(vals.get("tracking_status", "planned") != "planned" for vals in vals_list):
                self._raise_status_write()
            if any(vals.get("amc_expiry_date") for vals in vals_list):
                self._check_service_access()
        vals_list = self._drop_new_lot_locations(vals_list)
        lots = self
        if self.env.context.get("default_location_id"):
            lots = self.with_context(default_location_id=False)
        return super(StockLot, lots).create(vals_list)

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
        if CHECKED_LOT_FIELDS.intersection(vals) and self.env.cr.cache.get(CHECKED_LINES_KEY):
            # The lines of a validation under way that were checked must be checked again.
            self.env.cr.cache[CHECKED_LINES_KEY].clear()
        if not self.env.context.get(STATUS_CONTEXT_KEY):
            if "tracking_status" in vals:
                self._raise_status_write()
            if "amc_expiry_date" in vals:
                self._check_service_access()
        self._check_locked_fields(vals)
        if "blocked_reason" in vals and any(
            (lot.blocked_reason or False) != (vals["blocked_reason"] or False) for lot in self
        ):
            self._check_block_access()
        if "blocked" in vals:
            to_change = self.filtered(lambda lot: lot.blocked != bool(vals["blocked"]))
            if to_change:
                self._check_block_access()
                res = super().write(vals)
                if vals["blocked"]:
                    to_change._free_blocked_reservations()
                return res
        return super().write(vals)

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
        }

    def action_reject(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject"),
            "res_model": "stock.lot.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "stock.lot", "active_ids": self.ids},
        }

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

    def _raise_status_write(self):
        raise UserError(
            self.env._(
                "The status of lots/serial numbers is set by stock operations and can't be "
                "changed by hand."
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
        """Drop the open reservations of lots that were just blocked (R001-22)."""
        lines = self._get_open_move_lines(picked=False)
        if lines:
            moves = lines.move_id
            lines.unlink()
            moves._recompute_state()
