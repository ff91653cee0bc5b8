from odoo import api, fields, models


class StockReturnPickingLine(models.TransientModel):
    _inherit = "stock.return.picking.line"

    available_registration_ids = fields.Many2many(
        "sale.serial.registration", compute="_compute_available_registration_ids"
    )
    serial_registration_ids = fields.Many2many(
        "sale.serial.registration",
        string="Returned Serial Numbers",
        domain="[('id', 'in', available_registration_ids)]",
        help="The registered serial numbers that come back. Leave empty to return the whole "
        "line with all its serial numbers.",
    )

    @api.depends("move_id")
    def _compute_available_registration_ids(self):
        for line in self:
            line.available_registration_ids = line.move_id._item_tracking_active_registrations()

    def _prepare_move_default_values(self, new_picking):
        vals = super()._prepare_move_default_values(new_picking)
        if self.serial_registration_ids:
            vals["return_registration_ids"] = [fields.Command.set(self.serial_registration_ids.ids)]
        return vals
