from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..tools.date_formula import apply_date_formula
from .stock_lot import STATUS_CONTEXT_KEY

STOCK_USAGES = ("internal", "transit")
# Cursor cache key: the lines a picking validation checked (see _was_checked_for_validation).
CHECKED_LINES_KEY = "stock_item_tracking.checked_lines"


def format_product_lots(pairs):
    """'- Product: LOT1, LOT2' lines from (product, lot name) pairs, for error messages."""
    by_product = defaultdict(list)
    for product, name in pairs:
        by_product[product].append(name or "-")
    return "\n".join(
        f"- {product.display_name}: {', '.join(sorted(set(names)))}"
        for product, names in by_product.items()
    )


def blocked_lots_message(env, pairs):
    """The refusal of blocked numbers (R001-22), from (product, lot name) pairs."""
    return env._(
        "These lots/serial numbers are blocked and can't be moved:\n%(lines)s",
        lines=format_product_lots(pairs),
    )


def missing_expiration_message(env, pairs):
    """The refusal of numbers without a manual expiration date (R001-16)."""
    return env._(
        "Enter the expiration date of these lots/serial numbers before validating:\n%(lines)s",
        lines=format_product_lots(pairs),
    )


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
        manual = self.filtered(
            lambda ml: (
                ml.product_id.item_tracking_code_id.expiration_date_required
                or ml.product_id.item_tracking_code_id.ignore_expiration
            )
        )
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

    def _action_done(self):
        if not self._was_checked_for_validation():
            self._check_item_tracking_rules()
        res = super()._action_done()
        done = self.exists()
        done._set_lot_warranty_dates()
        done._update_lot_tracking()
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

    def _get_item_tracking_fingerprint(self):
        """What the rules look at, per line id (see `_was_checked_for_validation`)."""
        return {
            ml.id: (
                ml.product_id.id,
                ml.product_uom_id.id,
                ml.quantity,
                ml.lot_id.id,
                ml.lot_name,
                ml.lot_id.blocked,
                ml.lot_id.expiration_date,
                ml.location_id.id,
                ml.location_dest_id.id,
                ml.expiration_date,
                ml.warranty_date,
            )
            for ml in self
        }

    def _remember_checked_for_validation(self):
        """Called by a picking's validation once these lines passed the rules: the
        `_action_done` of the same `button_validate` needn't check them again. Outside a
        validation (no record under way) nothing is remembered."""
        if CHECKED_LINES_KEY in self.env.cr.cache:
            self.env.cr.cache[CHECKED_LINES_KEY] = self._get_item_tracking_fingerprint()

    def _was_checked_for_validation(self):
        """True when every line was checked, unchanged, earlier in the same validation.

        A subset of checked lines passes too: every rule is per line, but for the on-hand
        quantities of specific tracking, which a subset needs less of."""
        checked = self.env.cr.cache.get(CHECKED_LINES_KEY)
        if not self:
            return True  # nothing to check
        if not checked:
            return False
        fingerprint = self._get_item_tracking_fingerprint()
        return all(checked.get(line_id) == values for line_id, values in fingerprint.items())

    def _get_item_tracking_errors(self):
        """The messages of `_check_item_tracking_rules`, one per rule broken."""
        lines = self.filtered(
            lambda ml: (
                float_compare(ml.quantity, 0, precision_rounding=ml.product_uom_id.rounding) > 0
                and ml.product_id.tracking != "none"
            )
        )
        if not lines:
            return []
        lots = lines._get_item_tracking_lots()
        errors = lines._check_blocked_lots(lots)
        coded = lines.filtered(lambda ml: ml.product_id.item_tracking_code_id.scope == "inventory")
        if coded:
            errors += coded._check_specific_tracking(lots)
            errors += coded._check_strict_expiration(lots)
            errors += coded._check_expiration_date_entered(lots)
            errors += coded._check_warranty_date_entered()
        return errors

    def _get_item_tracking_lots(self):
        """Map each line to its lot: `lot_id`, or the existing lot named by `lot_name`."""
        lots = {ml: ml.lot_id for ml in self if ml.lot_id}
        named = self.filtered(lambda ml: not ml.lot_id and ml.lot_name)
        if named:
            existing = self.env["stock.lot"].search(
                [
                    ("product_id", "in", named.product_id.ids),
                    ("name", "in", named.mapped("lot_name")),
                    ("company_id", "in", named.company_id.ids + [False]),
                ]
            )
            by_key = {(lot.product_id, lot.name): lot for lot in existing}
            for ml in named:
                lots[ml] = by_key.get((ml.product_id, ml.lot_name), self.env["stock.lot"])
        return lots

    def _format_lines(self, lots=None):
        """'Product: LOT1, LOT2' per product, for error messages."""
        return format_product_lots(self._product_lot_pairs(lots))

    def _product_lot_pairs(self, lots=None):
        """(product, lot name) per line, for error messages."""
        return [
            (ml.product_id, ((lots or {}).get(ml) or ml.lot_id).name or ml.lot_name) for ml in self
        ]

    def _check_blocked_lots(self, lots):
        blocked = self.filtered(lambda ml: lots.get(ml) and lots[ml].blocked)
        if not blocked:
            return []
        return [blocked_lots_message(self.env, blocked._product_lot_pairs(lots))]

    def _check_specific_tracking(self, lots):
        outgoing = self.filtered(
            lambda ml: (
                ml.product_id.item_tracking_code_id.specific_tracking
                and ml.location_id.usage in STOCK_USAGES
            )
        )
        if not outgoing:
            return []
        errors = []
        unknown = outgoing.filtered(lambda ml: not lots.get(ml))
        if unknown:
            errors.append(
                self.env._(
                    "Specific tracking: these products must use an existing lot/serial number "
                    "that is on hand:\n%(lines)s",
                    lines=unknown._format_lines(lots),
                )
            )
        known = outgoing - unknown
        if not known:
            return errors
        needed = defaultdict(float)
        for ml in known:
            needed[lots[ml], ml.location_id] += ml.quantity_product_uom
        on_hand = defaultdict(list)  # lot id -> [(location, quantity)]
        for lot, location, quantity in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", [lot.id for lot, _location in needed]),
                    ("location_id", "child_of", known.location_id.ids),
                ],
                ["lot_id", "location_id"],
                ["quantity:sum"],
            )
        ):
            on_hand[lot.id].append((location, quantity))
        short_keys = set()
        for (lot, location), quantity in needed.items():
            available = sum(
                qty
                for quant_location, qty in on_hand[lot.id]
                if quant_location.parent_path.startswith(location.parent_path)
            )
            rounding = lot.product_id.uom_id.rounding
            if float_compare(available, quantity, precision_rounding=rounding) < 0:
                short_keys.add((lot, location))
        short = known.filtered(lambda ml: (lots[ml], ml.location_id) in short_keys)
        if short:
            errors.append(
                self.env._(
                    "Specific tracking: these lots/serial numbers are not on hand in the quantity "
                    "taken from their source location:\n%(lines)s",
                    lines=short._format_lines(lots),
                )
            )
        return errors

    def _check_strict_expiration(self, lots):
        now = fields.Datetime.now()
        expired = self.filtered(
            lambda ml: (
                ml.product_id.item_tracking_code_id.strict_expiration
                and ml.location_id.usage in STOCK_USAGES
                and ml.location_dest_id.usage in ("customer", "production")
                and lots.get(ml)
                and lots[ml].expiration_date
                and lots[ml].expiration_date <= now
            )
        )
        if not expired:
            return []
        return [
            self.env._(
                "Strict expiration: these lots/serial numbers have expired and can't be delivered "
                "or consumed:\n%(lines)s",
                lines=expired._format_lines(lots),
            )
        ]

    def _check_expiration_date_entered(self, lots):
        missing = self.filtered(
            lambda ml: (
                ml.product_id.item_tracking_code_id.expiration_date_required
                and ml.location_id.usage in ("supplier", "production")
                and ml.location_dest_id.usage in STOCK_USAGES
                and not ml.expiration_date
                and not (lots.get(ml) and lots[ml].expiration_date)
            )
        )
        if not missing:
            return []
        return [missing_expiration_message(self.env, missing._product_lot_pairs(lots))]

    def _check_warranty_date_entered(self):
        missing = self.filtered(
            lambda ml: (
                ml.product_id.item_tracking_code_id.warranty_date_required
                and ml.location_dest_id.usage == "customer"
                and not ml.warranty_date
            )
        )
        if not missing:
            return []
        return [
            self.env._(
                "Enter the warranty date of these lots/serial numbers on the operation before "
                "validating:\n%(lines)s",
                lines=missing._format_lines(),
            )
        ]

    def _set_lot_warranty_dates(self):
        """Set the warranty date of lots delivered to a customer (R001-18, R001-19)."""
        delivered = self.filtered(
            lambda ml: (
                ml.lot_id
                and ml.location_dest_id.usage == "customer"
                and (ml.warranty_date or ml.product_id.item_tracking_code_id.warranty_formula)
            )
        )
        lots_by_date = defaultdict(lambda: self.env["stock.lot"])
        for ml in delivered:
            date = ml.warranty_date or apply_date_formula(
                ml.product_id.item_tracking_code_id.warranty_formula,
                fields.Date.context_today(ml, ml.date),
            )
            lots_by_date[date] |= ml.lot_id
        # Set by the operation itself, recorded in its move lines: no chatter message per lot.
        Lot = self.env["stock.lot"].sudo().with_context(tracking_disable=True)
        for date, lots in lots_by_date.items():
            Lot.browse(lots.filtered(lambda lot, date=date: lot.warranty_date != date).ids).write(
                {"warranty_date": date}
            )

    # ------------------------------------------------------------------
    # Lot status and sources (information card)
    # ------------------------------------------------------------------
    def _update_lot_tracking(self):
        """Set the status and sources of the lots of these done lines, and log the changes.

        Batched: one read of the on-hand quantities per lot, one write per distinct set of
        values and one create of all the log records, whatever the number of lots.
        """
        lines = self.filtered(
            lambda ml: (
                ml.lot_id
                and float_compare(ml.quantity, 0, precision_rounding=ml.product_uom_id.rounding) > 0
            )
        )
        if not lines:
            return
        lots = lines.lot_id
        reject_locations = self.env["res.company"]._get_item_tracking_reject_locations()
        on_hand = {
            lot
            for lot, quantity in self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", lots.ids),
                    ("location_id.usage", "in", STOCK_USAGES),
                    ("location_id", "not in", reject_locations.ids),
                ],
                ["lot_id"],
                ["quantity:sum"],
            )
            if float_compare(quantity, 0, precision_rounding=lot.product_id.uom_id.rounding) > 0
        }
        vals_by_lot = {}
        first_line = {}
        last_line = {}
        for ml in lines.sorted(lambda ml: (ml.date, ml.id)):
            lot = ml.lot_id
            first_line.setdefault(lot, ml)
            last_line[lot] = ml
            vals = vals_by_lot.setdefault(lot, {})
            source, dest = ml.location_id, ml.location_dest_id
            move = ml.move_id
            if source.usage == "supplier" and dest.usage in STOCK_USAGES:
                if not lot.supplier_id and "supplier_id" not in vals:
                    partner = (
                        move.purchase_line_id.order_id.partner_id
                        or ml.picking_id.partner_id
                        or move.partner_id
                    )
                    vals.update(
                        supplier_id=partner.id,
                        receipt_date=ml.date,
                        purchase_order_id=move.purchase_line_id.order_id.id,
                    )
            elif source.usage == "production" and dest.usage in STOCK_USAGES:
                if move.production_id and not lot.production_id:
                    vals["production_id"] = move.production_id.id
            elif dest.usage == "customer":
                vals.update(
                    customer_id=(ml.picking_id.partner_id or move.partner_id).id,
                    delivery_date=ml.date,
                    sale_order_id=move.sale_line_id.order_id.id,
                )
        logs = []
        for lot, vals in vals_by_lot.items():
            new_status = lines._get_lot_status(
                lot, last_line[lot], lot in on_hand, reject_locations
            )
            if new_status and new_status != lot.tracking_status:
                vals["tracking_status"] = new_status
                logs.append(
                    {
                        "lot": lot,
                        "old_status": lot.tracking_status,
                        "new_status": new_status,
                        "move_line": last_line[lot],
                    }
                )
        self._write_lot_values(vals_by_lot)
        self.env["stock.lot.status.log"].sudo()._create_status_logs(logs)

    @api.model
    def _get_lot_status(self, lot, last_line, has_on_hand, reject_locations):
        """The status of `lot` after `last_line`, its latest done line in the operation."""
        source, dest = last_line.location_id, last_line.location_dest_id
        if has_on_hand:
            if dest.usage in STOCK_USAGES and source.usage == "customer":
                return "returned"
            if (
                lot.tracking_status == "returned"
                and source.usage in STOCK_USAGES
                and dest.usage in STOCK_USAGES
                and dest not in reject_locations
            ):
                return "returned"
            return "received"
        if dest in reject_locations:
            return "rejected"
        if dest.scrap_location or last_line.move_id.scrapped:
            return "written_off"
        if dest.usage == "customer":
            return "shipped"
        if dest.usage == "production":
            return "consumed"
        if dest.usage == "inventory":
            return "written_off"
        # Back to a vendor, or a negative quant left behind: the status does not change.
        return False

    def _write_lot_values(self, vals_by_lot):
        """One write per distinct set of values."""
        groups = defaultdict(list)
        for lot, vals in vals_by_lot.items():
            if vals:
                groups[tuple(sorted(vals.items()))].append(lot.id)
        Lot = self.env["stock.lot"].sudo().with_context(**{STATUS_CONTEXT_KEY: True})
        for items, lot_ids in groups.items():
            Lot.browse(lot_ids).write(dict(items))
