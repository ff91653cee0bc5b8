from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


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
        query), with where it is and what reserves it in the reader's companies: a fixed
        number of statements whatever the number of units (INSERT ... SELECT)."""
        self.ensure_one()
        genealogy = self.lot_ids._get_genealogy("up")
        levels = {}
        for places in genealogy.values():
            for lot_id, (level, _quantity) in places.items():
                levels[lot_id] = min(level, levels.get(lot_id, level))
        if not levels:
            return
        Line = self.env["stock.lot.recall.line"]
        self.env["stock.quant"].flush_model(["lot_id", "location_id", "quantity", "company_id"])
        self.env["stock.move.line"].flush_model(
            ["lot_id", "state", "picking_id", "move_id", "company_id"]
        )
        self.env["stock.lot"].flush_model(["product_id", "customer_id"])
        companies = self.env.companies.ids
        rejects = self.env["res.company"]._get_item_tracking_reject_locations().ids
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO stock_lot_recall_line
                       (recall_id, company_id, lot_id, product_id, level, location_id,
                        quantity, in_stock, customer_id,
                        create_uid, create_date, write_uid, write_date)
                SELECT %(recall)s, %(company)s, v.lot_id, lot.product_id, v.level,
                       stock.location_id, COALESCE(stock.quantity, 0),
                       COALESCE(stock.in_company, false),
                       (lot.customer_id ->> %(company_key)s)::int,
                       %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
                  FROM unnest(%(lot_ids)s::int4[], %(levels)s::int4[]) AS v(lot_id, level)
                  JOIN stock_lot lot ON lot.id = v.lot_id
             LEFT JOIN LATERAL (
                       SELECT (array_agg(q.location_id ORDER BY q.quantity DESC))[1]
                                  AS location_id,
                              sum(q.quantity) AS quantity,
                              bool_or(q.company_id = %(company)s) AS in_company
                         FROM (SELECT sq.location_id, sq.company_id,
                                      sum(sq.quantity) AS quantity
                                 FROM stock_quant sq
                                 JOIN stock_location loc ON loc.id = sq.location_id
                                WHERE sq.lot_id = v.lot_id
                                  AND loc.usage = 'internal'
                                  AND sq.location_id != ALL(%(rejects)s::int4[])
                                  AND sq.company_id = ANY(%(companies)s::int4[])
                             GROUP BY sq.location_id, sq.company_id
                               HAVING sum(sq.quantity) > 0) q
                       ) stock ON true
                """,
                recall=self.id,
                company=self.company_id.id,
                company_key=str(self.env.company.id),
                uid=self.env.uid,
                lot_ids=list(levels),
                levels=list(levels.values()),
                rejects=rejects,
                companies=companies,
            )
        )
        reserving = SQL(
            """
            SELECT DISTINCT line.id AS line_id, ml.picking_id, sol.order_id
              FROM stock_lot_recall_line line
              JOIN stock_move_line ml ON ml.lot_id = line.lot_id
              JOIN stock_picking picking ON picking.id = ml.picking_id
              JOIN stock_picking_type pt ON pt.id = picking.picking_type_id
              JOIN stock_move sm ON sm.id = ml.move_id
         LEFT JOIN sale_order_line sol ON sol.id = sm.sale_line_id
             WHERE line.recall_id = %(recall)s
               AND ml.state NOT IN ('done', 'cancel')
               AND pt.code = 'outgoing'
               AND ml.company_id = ANY(%(companies)s::int4[])
            """,
            recall=self.id,
            companies=companies,
        )
        self.env.cr.execute(
            SQL(
                """
                WITH reserving AS (%(reserving)s)
                INSERT INTO stock_lot_recall_line_picking_rel (line_id, picking_id)
                SELECT DISTINCT line_id, picking_id FROM reserving
                """,
                reserving=reserving,
            )
        )
        self.env.cr.execute(
            SQL(
                """
                WITH reserving AS (%(reserving)s)
                INSERT INTO stock_lot_recall_line_sale_order_rel (line_id, order_id)
                SELECT DISTINCT line_id, order_id FROM reserving WHERE order_id IS NOT NULL
                """,
                reserving=reserving,
            )
        )
        Line.invalidate_model()
        self.invalidate_recordset(["line_ids"])

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
