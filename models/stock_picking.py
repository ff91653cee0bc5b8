from odoo import api, fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration", "picking_id", "Serial Numbers"
    )
    serial_registration_count = fields.Integer(compute="_compute_serial_registration_count")
    has_registration_serials = fields.Boolean(compute="_compute_serial_registration_count")

    @api.depends("serial_registration_ids", "move_ids.product_id")
    def _compute_serial_registration_count(self):
        counts = dict(
            self.env["sale.serial.registration"]._read_group(
                [("picking_id", "in", self.ids), ("state", "!=", "reversed")],
                ["picking_id"],
                ["__count"],
            )
        )
        for picking in self:
            picking.serial_registration_count = counts.get(picking, 0)
            picking.has_registration_serials = bool(
                picking.move_ids._item_tracking_registration_moves()
            )

    def _pre_action_done_hook(self):
        """Refuse before any wizard or dialog (backorder, expired lots, SMS, serial
        registration) when a rule is broken. When the validation goes on without one, the
        rules are checked once, by the lines' `_action_done`, which every path that moves
        stock goes through: nothing written before it outlives the refusal's rollback."""
        res = super()._pre_action_done_hook()
        if res is True:
            res = self._item_tracking_registration_dialog() or True
        if res is not True:
            self._get_lines_to_validate()._check_item_tracking_rules()
        return res

    def _item_tracking_registration_dialog(self):
        """The serial registration dialog of the first delivery whose sales-process serials
        are not all registered (R002-07): the dialog registers them and validates again. A
        delivery the dialog was done with (context) doesn't ask again; the rules themselves
        are checked by the moves whatever the context says."""
        done_ids = set(self.env.context.get("serial_registration_picking_ids") or [])
        for picking in self:
            if picking.id in done_ids:
                continue
            moves = picking.move_ids.filtered(lambda m: m.picked and not m.scrapped)
            deliveries = moves._item_tracking_registration_moves()
            if not deliveries:
                continue
            deliveries._item_tracking_take_invoice_registrations()
            if deliveries._item_tracking_registrations_needed():
                return picking._item_tracking_action_register_serials()
        return False

    def _item_tracking_action_register_serials(self):
        self.ensure_one()
        wizard = self.env["stock.picking.register.serials"].create({"picking_id": self.id})
        return wizard._item_tracking_action()

    def action_register_serials(self):
        """Button of a delivery: register (or complete) its sales-process serials."""
        self.ensure_one()
        wizard = self.env["stock.picking.register.serials"].create(
            {"picking_id": self.id, "register_only": True}
        )
        return wizard._item_tracking_action()

    def action_view_serial_registrations(self):
        self.ensure_one()
        return self.serial_registration_ids._item_tracking_action_view(
            self.env._("Serial Numbers of %(document)s", document=self.name)
        )

    def _get_lines_to_validate(self):
        """The move lines that validating the pickings will process: those of the picked moves,
        or all of them when nothing is picked (as `_pre_action_done_hook` then picks all)."""
        lines = self.env["stock.move.line"]
        for picking in self:
            moves = picking.move_ids.filtered(lambda m: m.picked and not m.scrapped)
            lines |= (moves or picking.move_ids).move_line_ids
        return lines
