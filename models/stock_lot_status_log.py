from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from .stock_lot import TRACKING_STATUSES


class StockLotStatusLog(models.Model):
    _name = "stock.lot.status.log"
    _inherit = ["item.tracking.selection.order"]
    _selection_order_fields = ("old_status", "new_status")
    _description = "Lot/Serial Number Status History"
    _order = "date desc, id desc"
    _rec_name = "lot_id"
    _check_company_auto = True

    lot_id = fields.Many2one(
        "stock.lot",
        string="Lot/Serial Number",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    product_id = fields.Many2one(related="lot_id.product_id")
    # The company of the operation that changed the status: a shared lot (no company) gets
    # logs of every company that moves it, and each company reads only its own.
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        index=True,
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    old_status = fields.Selection(TRACKING_STATUSES)
    new_status = fields.Selection(TRACKING_STATUSES, required=True)
    move_line_id = fields.Many2one("stock.move.line", ondelete="set null")
    reference = fields.Char()
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user)
    note = fields.Char()

    def _auto_init(self):
        """Logs that had no company (those of shared lots, when the company was the lot's)
        take the company of their move line, else their creator's."""
        cr = self.env.cr
        if column_exists(cr, self._table, "company_id"):
            cr.execute(
                SQL(
                    """UPDATE stock_lot_status_log log
                          SET company_id = COALESCE(
                                  (SELECT ml.company_id FROM stock_move_line ml
                                    WHERE ml.id = log.move_line_id),
                                  (SELECT company_id FROM res_users WHERE id = log.create_uid),
                                  (SELECT MIN(id) FROM res_company))
                        WHERE log.company_id IS NULL"""
                )
            )
        return super()._auto_init()

    @api.depends("lot_id")
    def _compute_company_id(self):
        for log in self:
            log.company_id = log.lot_id.company_id or log.company_id or self.env.company

    @api.model
    def _create_status_logs(self, vals_list):
        """Insert the status changes of one stock operation in a single statement.

        Called for every validated operation with one entry per lot whose status changed,
        so the number of queries does not grow with the number of serials (the ORM's
        create inserts 100 rows per query). Entries: lot_id, company_id (the operation's;
        when missing, the move line's), old_status, new_status, move_line_id, reference; the
        date is now, the user the current one.
        """
        if not vals_list:
            return
        self.env["stock.move.line"].flush_model(["company_id"])
        now = self.env.cr.now()
        uid = self.env.uid
        columns = {
            "lot_id": "int4",
            "company_id": "int4",
            "old_status": "varchar",
            "new_status": "varchar",
            "move_line_id": "int4",
            "reference": "varchar",
        }
        constants = {"date": now, "user_id": uid, "create_uid": uid, "create_date": now}
        constants.update(write_uid=uid, write_date=now)
        self.env.cr.execute(
            SQL(
                """INSERT INTO stock_lot_status_log (%s, %s)
                   SELECT %s, %s FROM unnest(%s) WITH ORDINALITY AS t(%s, position)
              LEFT JOIN stock_move_line ml ON ml.id = t.move_line_id
               ORDER BY t.position""",
                SQL(", ").join(SQL.identifier(name) for name in columns),
                SQL(", ").join(SQL.identifier(name) for name in constants),
                SQL(", ").join(
                    SQL("COALESCE(t.company_id, ml.company_id, %s)", self.env.company.id)
                    if name == "company_id"
                    else SQL("t.%s", SQL.identifier(name))
                    for name in columns
                ),
                SQL(", ").join(SQL("%s", value) for value in constants.values()),
                SQL(", ").join(
                    SQL("%s::%s[]", [vals[name] or None for vals in vals_list], SQL(sql_type))
                    for name, sql_type in columns.items()
                ),
                SQL(", ").join(SQL.identifier(name) for name in columns),
            )
        )
        lots = self.env["stock.lot"].browse(vals["lot_id"] for vals in vals_list)
        lots.invalidate_recordset(["status_log_ids"])
