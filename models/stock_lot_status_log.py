from odoo import api, fields, models
from odoo.tools import SQL

from .stock_lot import TRACKING_STATUSES


class StockLotStatusLog(models.Model):
    _name = "stock.lot.status.log"
    _description = "Lot/Serial Number Status History"
    _order = "date desc, id desc"
    _rec_name = "lot_id"

    lot_id = fields.Many2one(
        "stock.lot", string="Lot/Serial Number", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one(related="lot_id.product_id")
    company_id = fields.Many2one(
        related="lot_id.company_id", store=True, index=True, precompute=True
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    old_status = fields.Selection(TRACKING_STATUSES)
    new_status = fields.Selection(TRACKING_STATUSES, required=True)
    move_line_id = fields.Many2one("stock.move.line", ondelete="set null")
    reference = fields.Char()
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user)
    note = fields.Char()

    @api.model
    def _create_status_logs(self, vals_list):
        """Insert the status changes of one stock operation in a single statement.

        Called for every validated operation with one entry per lot whose status changed,
        so the number of queries does not grow with the number of serials (the ORM's
        create inserts 100 rows per query). Entries: lot_id, company_id (the lot's),
        old_status, new_status, move_line_id, reference; the date is now, the user the
        current one.
        """
        if not vals_list:
            return
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
                "INSERT INTO stock_lot_status_log (%s, %s) SELECT %s, %s FROM unnest(%s) AS t(%s)",
                SQL(", ").join(SQL.identifier(name) for name in columns),
                SQL(", ").join(SQL.identifier(name) for name in constants),
                SQL(", ").join(SQL("t.%s", SQL.identifier(name)) for name in columns),
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
