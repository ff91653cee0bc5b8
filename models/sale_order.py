from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "order_id", "Serial Numbers"
    )
    serial_registration_count = fields.Integer(compute="_compute_serial_registration_count")

    @api.depends("serial_registration_ids")
    def _compute_serial_registration_count(self):
        counts = dict(
            self.env["sale.serial.registration"]._read_group(
                [("order_id", "in", self.ids)], ["order_id"], ["__count"]
            )
        )
        for order in self:
            order.serial_registration_count = counts.get(order, 0)

    def action_view_serial_registrations(self):
        self.ensure_one()
        return self.serial_registration_ids._item_tracking_action_view(
            self.env._("Serial Numbers of %(document)s", document=self.name)
        )
