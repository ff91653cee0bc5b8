from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class StockLotRecall(models.TransientModel):
    _name = "stock.lot.recall"
    _description = "Recall Impact of Lots/Serial Numbers"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    lot_ids = fields.Many2many(
        "stock.lot",
        "stock_lot_recall_lot_rel",
        string="Recalled Numbers",
        readonly=True,
    )
    line_ids = fields.One2many("stock.lot.recall.line", "recall_id", readonly=True)
    reason = fields.Text(help="Why the affected numbers are blocked; recorded on each number.")
    to_block_count = fields.Integer(compute="_compute_to_block_count", string="To Block")

    @api.depends("line_ids.in_stock", "line_ids.lot_id.blocked")
    def _compute_to_block_count(self):
        for recall in self:
            recall.to_block_count = len(recall._get_lots_to_block())

    def action_block_affected(self):
        """Block every affected number still in the company's stock, with the reason given,
        through the lots' own block path (only Item Tracking Managers may block)."""
        self.ensure_one()
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(
                self.env._(
                    "Enter the reason for blocking the numbers affected by the recall of %(lots)s.",
                    lots=", ".join(self.lot_ids.mapped("display_name")),
                )
            )
        lots = self._get_lots_to_block()
        if not lots:
            raise UserError(
                self.env._(
                    "No number affected by the recall of %(lots)s is in stock any more.",
                    lots=", ".join(self.lot_ids.mapped("display_name")),
                )
            )
        lots._check_block_access()
        lots.write({"blocked": True, "blocked_reason": reason})
        body = Markup("<p>%s</p>") % self.env._(
            "Blocked by the recall of %(lots)s: %(reason)s",
            lots=", ".join(self.lot_ids.mapped("display_name")),
            reason=reason,
        )
        lots._message_log_batch(bodies=dict.fromkeys(lots.ids, body))
        return self._get_lines_action()

    def _get_lots_to_block(self):
        """The affected numbers not blocked yet that are in the company's stock."""
        return self.line_ids.filtered("in_stock").lot_id.filtered(lambda lot: not lot.blocked)

    def _fill_lines(self):
        """One line per number made from the recalled ones (all levels, one recursive
        query), with what the reader's companies know of it, read in batch."""
        self.ensure_one()
        genealogy = self.lot_ids._get_genealogy("up")
        levels = {}
        for places in genealogy.values():
            for lot_id, (level, _quantity) in places.items():
                levels[lot_id] = min(level, levels.get(lot_id, level))
        if not levels:
            return
        lots = self.env["stock.lot"].browse(levels)
        stock = self._get_stock(lots)
        reserving = self._get_reserving_lines(lots)
        vals_list = []
        for lot in lots:
            quants = stock.get(lot.id, {})
            lines = reserving.get(lot.id, self.env["stock.move.line"])
            customer = lot.customer_id
            vals_list.append(
                {
                    "recall_id": self.id,
                    "lot_id": lot.id,
                    "product_id": lot.product_id.id,
                    "level": levels[lot.id],
                    "location_id": max(quants, key=quants.get).id if quants else False,
                    "quantity": sum(quants.values()),
                    "in_stock": any(
                        location.company_id == self.company_id and quantity > 0
                        for location, quantity in quants.items()
                    ),
                    "customer_id": customer.id,
                    "customer_address": customer._display_address(without_company=True)
                    if customer
                    else False,
                    "picking_ids": [Command.set(lines.picking_id.ids)],
                    "sale_order_ids": [Command.set(lines.move_id.sale_line_id.order_id.ids)],
                }
            )
        self.env["stock.lot.recall.line"].create(vals_list)

    def _get_stock(self, lots):
        """{lot id: {location: quantity}}: positive internal stock of the lots, rejection
        locations excepted (one query; the reader's companies only, by the quants' record
        rules)."""
        stock = defaultdict(dict)
        rejects = self.env["res.company"]._get_item_tracking_reject_locations()
        for lot, location, quantity in self.env["stock.quant"]._read_group(
            [
                ("lot_id", "in", lots.ids),
                ("location_id.usage", "=", "internal"),
                ("location_id", "not in", rejects.ids),
                ("quantity", ">", 0),
            ],
            ["lot_id", "location_id"],
            ["quantity:sum"],
        ):
            stock[lot.id][location] = quantity
        return stock

    def _get_reserving_lines(self, lots):
        """{lot id: open outgoing move lines of the lot} (one query)."""
        lines = self.env["stock.move.line"].search(
            [
                ("lot_id", "in", lots.ids),
                ("state", "not in", ("done", "cancel")),
                ("picking_code", "=", "outgoing"),
            ]
        )
        by_lot = defaultdict(lambda: self.env["stock.move.line"])
        for line in lines:
            by_lot[line.lot_id.id] |= line
        return by_lot

    def _get_lines_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Recall Impact of %(lots)s", lots=", ".join(self.lot_ids.mapped("display_name"))
            ),
            "res_model": "stock.lot.recall.line",
            "view_mode": "list",
            "views": [
                (self.env.ref("stock_item_tracking.view_stock_lot_recall_line_list").id, "list")
            ],
            "search_view_id": self.env.ref(
                "stock_item_tracking.view_stock_lot_recall_line_search"
            ).id,
            "domain": [("recall_id", "=", self.id)],
            "context": {"item_tracking_recall_id": self.id, "create": False},
        }

    def _get_block_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Block Affected Numbers"),
            "res_model": "stock.lot.recall",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("stock_item_tracking.view_stock_lot_recall_form").id, "form")],
            "target": "new",
        }
