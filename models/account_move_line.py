from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    serial_registration_ids = fields.One2many(
        "sale.serial.registration",
        "invoice_line_id",
        "Serial Numbers",
        help="Serial numbers registered in the sales process that this line invoices.",
    )
    refund_registration_ids = fields.One2many(
        "sale.serial.registration",
        "refund_line_id",
        "Credited Serial Numbers",
        help="Serial numbers of the invoice that this credit note line corrects.",
    )
    lot_allocation_ids = fields.One2many(
        "account.move.line.lot",
        "account_move_line_id",
        "Lots/Serial Numbers",
        help="Lots/serial numbers tracked in stock that this line invoices, with quantities.",
    )
    serial_registration_manual = fields.Boolean(
        copy=False,
        help="The user chose the serial numbers of this line: they no longer follow its quantity.",
    )

    # ------------------------------------------------ serials registered in the sales process

    def _item_tracking_registration_lines(self):
        """Customer invoice lines of products whose serials are registered in the sales
        process (scope "sales")."""
        return self.filtered(
            lambda ln: ln.display_type == "product"
            and ln.move_id.move_type == "out_invoice"
            and (
                ln.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
                or ln._item_tracking_kit_components()
            )
        )

    def _item_tracking_units(self):
        self.ensure_one()
        return self.product_uom_id._compute_quantity(
            self.quantity, self.product_id.uom_id, round=False
        )

    def _item_tracking_kit_components(self):
        """{component: quantity per kit} of the components with sales-process serials of a
        kit (phantom BoM) line; empty for other lines. The kit's delivery registers them."""
        self.ensure_one()
        product = self.product_id
        if not product or not product.bom_ids.filtered(lambda b: b.type == "phantom"):
            return {}
        bom = self.env["mrp.bom"]._bom_find(
            product, bom_type="phantom", company_id=self.company_id.id
        )[product]
        if not bom:
            return {}
        _boms, bom_lines = bom.explode(product, 1)
        components = {}
        for bom_line, data in bom_lines:
            component = bom_line.product_id
            if component.product_tmpl_id.item_tracking_code_id.scope == "sales":
                components[component] = components.get(component, 0.0) + (
                    bom_line.product_uom_id._compute_quantity(data["qty"], component.uom_id)
                )
        return components

    def _item_tracking_serial_products(self):
        self.ensure_one()
        components = self._item_tracking_kit_components()
        return self.product_id.browse([p.id for p in components]) if components else self.product_id

    def _item_tracking_expected_serials(self):
        """How many serials the line invoices: one per unit, or per kit component unit."""
        self.ensure_one()
        units = self._item_tracking_units()
        components = self._item_tracking_kit_components()
        if components:
            units *= sum(components.values())
        return int(units + 1e-6)

    def _item_tracking_blank_issue_allowed(self):
        self.ensure_one()
        codes = self._item_tracking_serial_products().product_tmpl_id.item_tracking_code_id
        return bool(codes) and all(codes.mapped("blank_issue_allowed"))

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._item_tracking_registration_lines().filtered(
            lambda ln: ln.parent_state == "draft" and ln.sale_line_ids
        )._item_tracking_propose_registrations()
        return lines

    def write(self, vals):
        manual = "serial_registration_ids" in vals
        if manual:
            vals = dict(vals, serial_registration_manual=True)
        res = super().write(vals)
        if {"quantity", "product_uom_id", "product_id"} & vals.keys() and not manual:
            self._item_tracking_registration_lines().filtered(
                lambda ln: ln.parent_state == "draft"
                and ln.sale_line_ids
                and not ln.serial_registration_manual
            )._item_tracking_propose_registrations()
        return res

    def _item_tracking_propose_registrations(self):
        """Link to each line the serials of its sales order line that were delivered and
        are not invoiced yet, in delivery order, as many as its quantity (R002-08, R002-17);
        the line's earlier proposal is replaced."""
        Registration = self.env["sale.serial.registration"]
        available = Registration.search(
            [
                ("sale_line_id", "in", self.sale_line_ids.ids),
                ("state", "=", "registered"),
                ("move_id.state", "=", "done"),
                "|",
                ("invoice_line_id", "=", False),
                ("invoice_line_id", "in", self.ids),
            ]
        ).sorted(lambda r: (r.move_id.date, r.move_id.id, r.id))
        for line in self:
            wanted = line._item_tracking_expected_serials()
            products = line._item_tracking_serial_products()
            mine = available.filtered(
                lambda r, line=line, products=products: r.sale_line_id in line.sale_line_ids
                and r.product_id in products
            )[: max(wanted, 0)]
            available -= mine
            current = line.serial_registration_ids
            if current == mine:
                continue
            # The proposal is the add-on's own bookkeeping of lines the user may edit.
            (current - mine).sudo().write({"invoice_line_id": False})
            (mine - current).sudo().write({"invoice_line_id": line.id})

    def _item_tracking_refund_lines(self):
        return self.filtered(
            lambda ln: ln.display_type == "product"
            and ln.move_id.move_type == "out_refund"
            and ln.product_id.product_tmpl_id.item_tracking_code_id.scope == "sales"
        )
