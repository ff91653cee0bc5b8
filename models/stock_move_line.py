from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..tools.date_formula import apply_date_formula

STOCK_USAGES = ("internal", "transit")


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
            lambda ml: ml.item_tracking_code_id.expiration_date_required
            or ml.item_tracking_code_id.ignore_expiration
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
        self._check_item_tracking_rules()
        res = super()._action_done()
        self.exists()._set_lot_warranty_dates()
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
        lines = self.filtered(
            lambda ml: float_compare(ml.quantity, 0, precision_rounding=ml.product_uom_id.rounding)
            > 0
            and ml.product_id.tracking != "none"
        )
        if not lines:
            return
        lots = lines._get_item_tracking_lots()
        errors = lines._check_blocked_lots(lots)
        coded = lines.filtered(lambda ml: ml.item_tracking_code_id.scope == "inventory")
        if coded:
            errors += coded._check_specific_tracking(lots)
            errors += coded._check_strict_expiration(lots)
            errors += coded._check_expiration_date_entered(lots)
            errors += coded._check_warranty_date_entered()
        if errors:
            raise UserError("\n\n".join(errors))

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
        by_product = defaultdict(list)
        for ml in self:
            lot = (lots or {}).get(ml) or ml.lot_id
            by_product[ml.product_id].append(lot.name or ml.lot_name or "-")
        return "\n".join(
            f"- {product.display_name}: {', '.join(sorted(set(names)))}"
            for product, names in by_product.items()
        )

    def _check_blocked_lots(self, lots):
        blocked = self.filtered(lambda ml: lots.get(ml) and lots[ml].blocked)
        if not blocked:
            return []
        return [
            self.env._(
                "These lots/serial numbers are blocked and can't be moved:\n%(lines)s",
                lines=blocked._format_lines(lots),
            )
        ]

    def _check_specific_tracking(self, lots):
        outgoing = self.filtered(
            lambda ml: ml.item_tracking_code_id.specific_tracking
            and ml.location_id.usage in STOCK_USAGES
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
        on_hand = (
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
        )
        short = self.env["stock.move.line"]
        for (lot, location), quantity in needed.items():
            available = sum(
                qty
                for quant_lot, quant_location, qty in on_hand
                if quant_lot == lot and quant_location.parent_path.startswith(location.parent_path)
            )
            if (
                float_compare(
                    available, quantity, precision_rounding=lot.product_id.uom_id.rounding
                )
                < 0
            ):
                short |= known.filtered(
                    lambda ml, lot=lot, loc=location: lots[ml] == lot and ml.location_id == loc
                )
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
            lambda ml: ml.item_tracking_code_id.strict_expiration
            and ml.location_id.usage in STOCK_USAGES
            and ml.location_dest_id.usage in ("customer", "production")
            and lots.get(ml)
            and lots[ml].expiration_date
            and lots[ml].expiration_date <= now
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
            lambda ml: ml.item_tracking_code_id.expiration_date_required
            and ml.location_id.usage in ("supplier", "production")
            and ml.location_dest_id.usage in STOCK_USAGES
            and not ml.expiration_date
            and not (lots.get(ml) and lots[ml].expiration_date)
        )
        if not missing:
            return []
        return [
            self.env._(
                "Enter the expiration date of these lots/serial numbers before validating:\n"
                "%(lines)s",
                lines=missing._format_lines(lots),
            )
        ]

    def _check_warranty_date_entered(self):
        missing = self.filtered(
            lambda ml: ml.item_tracking_code_id.warranty_date_required
            and ml.location_dest_id.usage == "customer"
            and not ml.warranty_date
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
            lambda ml: ml.lot_id
            and ml.location_dest_id.usage == "customer"
            and (ml.warranty_date or ml.item_tracking_code_id.warranty_formula)
        )
        lots_by_date = defaultdict(lambda: self.env["stock.lot"])
        for ml in delivered:
            date = ml.warranty_date or apply_date_formula(
                ml.item_tracking_code_id.warranty_formula,
                fields.Date.context_today(ml, ml.date),
            )
            lots_by_date[date] |= ml.lot_id
        # Set by the operation itself, recorded in its move lines: no chatter message per lot.
        Lot = self.env["stock.lot"].sudo().with_context(tracking_disable=True)
        for date, lots in lots_by_date.items():
            Lot.browse(lots.filtered(lambda lot, date=date: lot.warranty_date != date).ids).write(
                {"warranty_date": date}
            )
