from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero


class MrpProductionLinkSerials(models.TransientModel):
    """Link Serial Numbers (R000-08): one row per finished serial and component cell; a
    serial cell takes one component serial, a lot cell a lot and its quantity."""

    _name = "mrp.production.link.serials"
    _description = "Link component numbers to the finished serials of a manufacturing order"

    production_id = fields.Many2one("mrp.production", required=True, readonly=True)
    company_id = fields.Many2one(related="production_id.company_id")
    product_id = fields.Many2one(related="production_id.product_id")
    line_ids = fields.One2many("mrp.production.link.serials.line", "wizard_id", string="Links")
    current_serial_id = fields.Many2one(
        "mrp.production.serial",
        string="Current Unit",
        domain="[('production_id', '=', production_id)]",
        help="The unit that scanned component numbers go to; scanning a finished serial "
        "selects its unit.",
    )
    scan = fields.Char(
        help="Scan or type a component serial/lot number and press Enter or Tab: it fills the "
        "next empty cell of the current unit."
    )
    scan_message = fields.Char(readonly=True)
    summary = fields.Char(compute="_compute_summary")

    @api.depends("line_ids.lot_id", "line_ids.quantity")
    def _compute_summary(self):
        for wizard in self:
            serials = wizard.line_ids.serial_id
            empty = wizard.line_ids.filtered(lambda line: not line.lot_id).serial_id
            wizard.summary = self.env._(
                "%(done)s of %(total)s units linked",
                done=len(serials - empty),
                total=len(serials),
            )

    @api.model_create_multi
    def create(self, vals_list):
        productions = self.env["mrp.production"].browse(
            [vals.get("production_id") for vals in vals_list if vals.get("production_id")]
        )
        productions._item_tracking_check_linkable()
        wizards = super().create(vals_list)
        for wizard, vals in zip(wizards, vals_list, strict=True):
            if "line_ids" not in vals:
                wizard.line_ids = wizard._get_default_line_commands()
            if not wizard.current_serial_id:
                wizard.current_serial_id = wizard._next_open_serial()
        return wizards

    def _get_default_line_commands(self):
        """The stored assignment, and an empty cell for what is still missing: one per
        component serial, one for the rest of each lot component."""
        self.ensure_one()
        production = self.production_id
        needed = production._get_item_tracking_requirements()
        commands = []
        sequence = 0
        for serial in production.planned_serial_ids.sorted(lambda s: (s.sequence, s.id)):
            for product, qty in sorted(needed.items(), key=lambda item: item[0].display_name):
                links = serial.link_ids.filtered(lambda link, p=product: link.product_id == p)
                rows = [(link.lot_id.id, link.quantity) for link in links]
                rest = qty - sum(links.mapped("quantity"))
                if float_compare(rest, 0, precision_rounding=product.uom_id.rounding) > 0:
                    if product.tracking == "serial":
                        rows += [(False, 1.0)] * round(rest)
                    else:
                        rows.append((False, rest))
                for lot_id, quantity in rows:
                    sequence += 1
                    commands.append(
                        Command.create(
                            {
                                "sequence": sequence,
                                "serial_id": serial.id,
                                "product_id": product.id,
                                "lot_id": lot_id,
                                "quantity": quantity,
                            }
                        )
                    )
        return commands

    def _get_action(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "stock_item_tracking.action_mrp_production_link_serials"
        )
        action["res_id"] = self.id
        return action

    def _next_open_serial(self, after=None):
        """The first unit (after `after`) with an empty cell, else the first one with one."""
        open_serials = (
            self.line_ids.filtered(lambda line: not line.lot_id).sorted("sequence").serial_id
        )
        if after and after in open_serials:
            return after
        return open_serials[:1]

    @api.onchange("scan")
    def _onchange_scan(self):
        """A scanned finished serial selects its unit; a scanned component number fills the
        next empty cell of the current unit for that component, then the next unit."""
        if not self.scan:
            return
        code = self.scan.strip()
        self.scan = False
        if not code:
            return
        serial = self.line_ids.serial_id.filtered(lambda s: s.lot_id.name == code)
        if serial:
            self.current_serial_id = serial[:1]
            self.scan_message = self.env._("Unit %(unit)s", unit=code)
            return
        products = self.line_ids.product_id
        lot = self.env["stock.lot"].search(
            [
                ("name", "=", code),
                ("product_id", "in", products.ids),
                ("company_id", "in", [self.company_id.id, False]),
            ],
            limit=1,
        )
        if not lot:
            self.scan_message = self.env._(
                "%(code)s is not a number of a component to link.", code=code
            )
            return
        if lot in self.line_ids.lot_id and lot.product_id.tracking == "serial":
            self.scan_message = self.env._("%(code)s is linked already.", code=code)
            return
        current = self.current_serial_id or self._next_open_serial()
        cells = self.line_ids.filtered(
            lambda line: line.serial_id == current and line.product_id == lot.product_id
        ).sorted("sequence")
        cell = cells.filtered(lambda line: not line.lot_id)[:1]
        if not cell:
            self.scan_message = self.env._(
                "Unit %(unit)s has no empty cell for %(component)s.",
                unit=current.lot_id.name,
                component=lot.product_id.display_name,
            )
            return
        cell.lot_id = lot
        self.scan_message = self.env._(
            "%(code)s linked to %(unit)s", code=code, unit=current.lot_id.name
        )
        if not self.line_ids.filtered(lambda line: line.serial_id == current and not line.lot_id):
            self.current_serial_id = self._next_open_serial()

    def action_fill_in_order(self):
        """Propose numbers for the empty cells from what is reserved or picked for the order
        (then what is free in its component location): serials one per unit in name order,
        lots in reservation (FEFO) order."""
        self.ensure_one()
        production = self.production_id
        production._item_tracking_check_linkable()
        pools = self._get_fill_pools()
        new_lines = []
        for line in self.line_ids.sorted("sequence"):
            if line.lot_id:
                continue
            product = line.product_id
            rounding = product.uom_id.rounding
            pool = pools[product]
            if product.tracking == "serial":
                if pool:
                    line.lot_id = pool.pop(0)[0]
                continue
            need = line.quantity
            first = True
            while pool and float_compare(need, 0, precision_rounding=rounding) > 0:
                lot, free = pool[0]
                taken = min(need, free)
                if first:
                    line.write({"lot_id": lot.id, "quantity": taken})
                    first = False
                else:
                    new_lines.append(
                        {
                            "wizard_id": self.id,
                            "sequence": line.sequence,
                            "serial_id": line.serial_id.id,
                            "product_id": product.id,
                            "lot_id": lot.id,
                            "quantity": taken,
                        }
                    )
                need -= taken
                if float_is_zero(free - taken, precision_rounding=rounding):
                    pool.pop(0)
                else:
                    pool[0] = (lot, free - taken)
            if not first and not float_is_zero(need, precision_rounding=rounding):
                new_lines.append(
                    {
                        "wizard_id": self.id,
                        "sequence": line.sequence,
                        "serial_id": line.serial_id.id,
                        "product_id": product.id,
                        "quantity": need,
                    }
                )
        if new_lines:
            self.env["mrp.production.link.serials.line"].create(new_lines)
        self.current_serial_id = self._next_open_serial()
        return self._get_action()

    def _get_fill_pools(self):
        """{component: [(lot, quantity left)]}: the order's reserved/picked lots first (serials
        by name, lots in reservation order), then free stock of the component location in
        removal order, less what the dialog has linked already."""
        production = self.production_id
        used = defaultdict(float)
        for line in self.line_ids.filtered("lot_id"):
            used[line.lot_id] += line.quantity
        products = self.line_ids.product_id
        pools = defaultdict(list)
        seen = defaultdict(float)
        order = []
        lines = production._item_tracking_linkable_moves().move_line_ids.filtered("lot_id")
        for ml in lines.sorted(lambda ml: (ml.move_id.id, ml.id)):
            if ml.lot_id not in seen:
                order.append(ml.lot_id)
            seen[ml.lot_id] += ml.quantity_product_uom
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "in", products.ids),
                ("lot_id", "!=", False),
                ("location_id", "child_of", production.location_src_id.id),
                ("location_id.usage", "in", ("internal", "transit")),
                ("quantity", ">", 0),
            ]
        )
        free = defaultdict(float)
        for quant in quants.sorted(
            lambda q: (
                q.removal_date or q.in_date or fields.Datetime.now(),
                q.in_date,
                q.lot_id.name,
            )
        ):
            if quant.lot_id not in seen and quant.lot_id not in free:
                order.append(quant.lot_id)
            free[quant.lot_id] += max(quant.quantity - quant.reserved_quantity, 0.0)
        reserved_lots = [lot for lot in order if lot in seen]
        free_lots = [lot for lot in order if lot not in seen]
        for lots in (
            sorted(
                reserved_lots,
                key=lambda lot: lot.name if lot.product_id.tracking == "serial" else "",
            ),
            free_lots,
        ):
            for lot in lots:
                if lot.product_id not in products or lot.blocked:
                    continue
                left = seen[lot] + free[lot] - used[lot]
                if float_compare(left, 0, precision_rounding=lot.product_id.uom_id.rounding) > 0:
                    pools[lot.product_id].append((lot, left))
        return pools

    def action_confirm(self):
        """Check the assignment (each refusal names the unit and component) and store it; can
        be called again to change it while the order is not done."""
        self.ensure_one()
        production = self.production_id
        production._item_tracking_check_linkable()
        entries = [
            {
                "serial": line.serial_id,
                "product": line.product_id,
                "lot": line.lot_id,
                "quantity": line.quantity,
            }
            for line in self.line_ids
            if line.lot_id
        ]
        foreign = self.line_ids.serial_id.filtered(lambda s: s.production_id != production)
        if foreign:
            raise UserError(
                self.env._(
                    "These serials are not planned on %(order)s: %(serials)s",
                    order=production.display_name,
                    serials=", ".join(foreign.lot_id.mapped("name")),
                )
            )
        errors = production._get_item_tracking_link_errors(entries)
        if errors:
            raise UserError("\n".join(errors))
        production._item_tracking_store_links(entries)
        return {"type": "ir.actions.act_window_close"}
