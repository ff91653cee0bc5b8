from odoo import fields, models


class StockLotMaintenance(models.Model):
    _name = "stock.lot.maintenance"
    _description = "Lot/Serial Number Maintenance Schedule"
    _order = "date, id"
    _check_company_auto = True

    lot_id = fields.Many2one(
        "stock.lot",
        string="Lot/Serial Number",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="lot_id.company_id", store=True, index=True)
    date = fields.Date(string="Planned Date", required=True)
    description = fields.Char(required=True)
    user_id = fields.Many2one("res.users", string="Responsible", default=lambda self: self.env.user)
    done = fields.Boolean()
    activity_created = fields.Boolean(
        readonly=True, copy=False, help="The to-do activity of the due visit was created."
    )

    def _create_due_activities(self):
        """One To-Do activity on the lot per due maintenance line, created once."""
        today = fields.Date.context_today(self)
        due = self.sudo().search(
            [("done", "=", False), ("activity_created", "=", False), ("date", "<=", today)]
        )
        if not due:
            return
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("stock.lot")
        self.env["mail.activity"].sudo().create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": line.lot_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": line.description,
                    "date_deadline": line.date,
                    "user_id": (line.user_id or line.lot_id.create_uid).id,
                }
                for line in due
            ]
        )
        due.write({"activity_created": True})
