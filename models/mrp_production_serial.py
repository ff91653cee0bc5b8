from odoo import api, fields, models
from odoo.exceptions import UserError


class MrpProductionSerial(models.Model):
    """A finished serial planned on a manufacturing order whose BoM links component numbers
    (R000-07): it exists, with status planned, from the order's confirmation until it is
    produced, and holds the component numbers linked to it (R000-01). Once the unit is
    produced, its production move line's `consume_line_ids` are the genealogy and this record
    is gone."""

    _name = "mrp.production.serial"
    _description = "Planned finished serial of a manufacturing order"
    _order = "production_id, sequence, id"
    _check_company_auto = True

    production_id = fields.Many2one(
        "mrp.production", required=True, index=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="production_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    lot_id = fields.Many2one(
        "stock.lot",
        string="Serial Number",
        required=True,
        ondelete="restrict",
        index=True,
        check_company=True,
    )
    lot_name = fields.Char(
        related="lot_id.name",
        readonly=False,
        string="Finished Serial",
        help="Can be renamed until produced.",
    )
    product_id = fields.Many2one(related="production_id.product_id")
    link_ids = fields.One2many("mrp.production.serial.link", "serial_id", string="Components")
    link_state = fields.Selection(
        [("none", "Not linked"), ("partial", "Partly linked"), ("done", "Linked")],
        compute="_compute_link_state",
        string="Linking",
    )
    link_summary = fields.Char(compute="_compute_link_state", string="Linked Components")

    _sql_constraints = [
        ("lot_unique", "unique(lot_id)", "A finished serial is planned on one order only."),
    ]

    @api.depends("link_ids.lot_id", "link_ids.quantity", "production_id.move_raw_ids")
    def _compute_link_state(self):
        missing_by_serial = self.production_id._get_item_tracking_missing_links(self)
        for serial in self:
            missing = missing_by_serial.get(serial.id)
            if not serial.link_ids:
                serial.link_state = "none"
            else:
                serial.link_state = "partial" if missing else "done"
            serial.link_summary = ", ".join(
                f"{link.lot_id.name} ({link.quantity:g})"
                if link.product_id.tracking == "lot"
                else link.lot_id.name
                for link in serial.link_ids
            )

    def write(self, vals):
        """Users may rename the planned serial (`lot_name`); what it belongs to is kept by
        the add-on."""
        if not self.env.su and set(vals) - {"lot_name"}:
            raise UserError(
                self.env._(
                    "Planned serials follow their manufacturing order; only their number can "
                    "be changed: %(serials)s",
                    serials=", ".join(self.lot_id.mapped("name")),
                )
            )
        return super().write(vals)
