from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, format_date
from odoo.tools.sql import column_exists

from .stock_lot import MANAGER_GROUP

# How far back a maintenance may be planned (older dates are typing mistakes).
MAX_YEARS_BACK = 10


# What an Inventory user responsible for a service may write on it (planning is the Item
# Tracking Managers', on the lot's card).
DONE_FIELDS = ("done",)


class StockLotMaintenance(models.Model):
    _name = "stock.lot.maintenance"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Lot/Serial Maintenance"
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
    # The lot's company, or for a shared lot (no company) the company that plans the visit:
    # each company reads only its own lines.
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        index=True,
    )
    product_id = fields.Many2one(related="lot_id.product_id")
    customer_id = fields.Many2one(related="lot_id.customer_id", string="Customer")
    date = fields.Date(string="Planned Date", required=True)
    description = fields.Char(required=True)
    user_id = fields.Many2one("res.users", string="Responsible", default=lambda self: self.env.user)
    done = fields.Boolean()
    activity_created = fields.Boolean(
        readonly=True, copy=False, help="The to-do activity of the due visit was created."
    )

    def _auto_init(self):
        """Lines of shared lots had no company: they take their creator's company."""
        cr = self.env.cr
        if column_exists(cr, self._table, "company_id"):
            cr.execute(
                SQL(
                    """UPDATE stock_lot_maintenance line
                          SET company_id = COALESCE(
                                  (SELECT company_id FROM res_users WHERE id = line.create_uid),
                                  (SELECT MIN(id) FROM res_company))
                        WHERE line.company_id IS NULL"""
                )
            )
        return super()._auto_init()

    @api.depends("lot_id")
    def _compute_company_id(self):
        for line in self:
            line.company_id = line.lot_id.company_id or line.company_id or self.env.company

    @api.constrains("description", "date")
    def _check_description_and_date(self):
        blank = self.filtered(lambda line: not (line.description or "").strip())
        if blank:
            raise ValidationError(
                self.env._(
                    "Describe the maintenance planned for these lots/serial numbers: %(lots)s",
                    lots=", ".join(blank.lot_id.mapped("display_name")),
                )
            )
        oldest = fields.Date.context_today(self) - relativedelta(years=MAX_YEARS_BACK)
        too_old = self.filtered(lambda line: line.date and line.date < oldest)
        if too_old:
            raise ValidationError(
                self.env._(
                    "A maintenance can't be planned more than %(years)s years back (before "
                    "%(date)s): %(lines)s",
                    years=MAX_YEARS_BACK,
                    date=format_date(self.env, oldest),
                    lines=", ".join(
                        f"{line.lot_id.display_name} ({format_date(self.env, line.date)})"
                        for line in too_old
                    ),
                )
            )

    def write(self, vals):
        self._check_planning_access(vals)
        res = super().write(vals)
        if vals.get("done"):
            # The service's to-do is done with it (as its responsible would mark it).
            self.sudo().activity_ids.action_feedback()
        return res

    def action_mark_done(self):
        """Mark the service done (the list's and the form's button)."""
        self.write({"done": True})

    def _check_planning_access(self, vals):
        """Only Item Tracking Managers plan services; the responsible Inventory user (record
        rule) may only mark his service done (`DONE_FIELDS`)."""
        mail_fields = set(self.env["mail.thread"]._fields) | set(
            self.env["mail.activity.mixin"]._fields
        )
        planning = set(vals) - set(DONE_FIELDS) - mail_fields
        if planning and not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only Item Tracking Managers can plan services (%(fields)s); the "
                    "responsible can only mark them done: %(lines)s",
                    fields=", ".join(
                        self._fields[fname].string
                        for fname in sorted(planning)
                        if fname in self._fields
                    ),
                    lines=", ".join(self._service_names()),
                )
            )

    def _service_names(self):
        return [
            f"{line.lot_id.display_name} ({line.description}, {format_date(self.env, line.date)})"
            for line in self
        ]

    def _create_due_activities(self):
        """One To-Do activity per due service, on the service (it opens the service; the
        activity menu lists one's services), created once."""
        today = fields.Date.context_today(self)
        due = self.sudo().search(
            [("done", "=", False), ("activity_created", "=", False), ("date", "<=", today)]
        )
        if not due:
            return
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["mail.activity"].sudo().create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": line.id,
                    "activity_type_id": activity_type.id,
                    "summary": line.description,
                    "date_deadline": line.date,
                    "user_id": (line.user_id or line.lot_id.create_uid).id,
                }
                for line in due
            ]
        )
        due.write({"activity_created": True})
