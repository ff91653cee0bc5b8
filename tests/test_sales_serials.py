"""Serials registered in the sales process (issue 14, rules R002-01..30 of seed 002)."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user

from .common import ItemTrackingCommon


class SalesSerialCommon(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Code = cls.env["item.tracking.code"]
        cls.code_sales = Code.create({"name": "SN sales", "scope": "sales"})
        cls.code_sales_blank = Code.create(
            {"name": "SN sales blank", "scope": "sales", "blank_issue_allowed": True}
        )
        cls.router = cls._create_product(
            "Router (sales SN)", cls.code_sales, list_price=100.0, invoice_policy="delivery"
        )
        cls.cable = cls._create_product(
            "Modem (sales SN, blank issue)",
            cls.code_sales_blank,
            list_price=50.0,
            invoice_policy="delivery",
        )
        for product in cls.router | cls.cable:
            cls.env["stock.quant"]._update_available_quantity(product, cls.stock_location, 500)
        cls.Registration = cls.env["sale.serial.registration"]
        cls.correction_group = cls.env.ref("stock_item_tracking.group_serial_correction")
        cls.not_readable_group = cls.env.ref("stock_item_tracking.group_serial_not_readable")
        # The lowest users: a warehouse user validates deliveries, an invoicing user posts.
        cls.stock_user = new_test_user(cls.env, "sit_sales_stock", groups="stock.group_stock_user")
        cls.billing_user = new_test_user(
            cls.env, "sit_sales_billing", groups="account.group_account_invoice"
        )
        cls.salesman = new_test_user(
            cls.env, "sit_salesman", groups="sales_team.group_sale_salesman"
        )

    def _order(self, product=None, qty=3.0, **line_vals):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": (product or self.router).id,
                            "product_uom_qty": qty,
                            **line_vals,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    def _validate_with_serials(self, picking, serials, quantity=None, user=None):
        """Validate the delivery as a user does: the dialog opens, serials are pasted."""
        if quantity is not None:
            picking.move_ids.quantity = quantity
        picking = picking.with_user(user) if user else picking
        action = picking.button_validate()
        self.assertIsInstance(action, dict, "validation should open the registration dialog")
        self.assertEqual(action["res_model"], "stock.picking.register.serials")
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        if user:
            wizard = wizard.with_user(user)
        wizard = wizard.with_context(**action["context"])
        wizard.serial_text = "\n".join(serials)
        return wizard, wizard.action_confirm()

    def _names(self, registrations):
        return sorted(registrations.mapped("name"))


class TestDeliveryRegistration(SalesSerialCommon):
    def test_delivery_registers_serials_by_paste(self):
        """R002-01/04/07: one serial per unit on the packing slip; stored with the customer,
        the order line, the delivery move and picking."""
        order = self._order()
        picking = order.picking_ids
        wizard, res = self._validate_with_serials(
            picking, ["  RT-001 ", "", "RT-002", "RT-003"], user=self.stock_user
        )
        self.assertIs(res, True)
        self.assertEqual(picking.state, "done")
        regs = picking.serial_registration_ids
        self.assertEqual(self._names(regs), ["RT-001", "RT-002", "RT-003"])
        self.assertEqual(set(regs.mapped("state")), {"registered"})
        self.assertEqual(regs.sale_line_id, order.order_line)
        self.assertEqual(regs.move_id, picking.move_ids)
        self.assertEqual(regs.partner_id, self.partner)
        self.assertEqual(order.serial_registration_ids, regs)
        self.assertEqual(order.serial_registration_count, 3)
        self.assertEqual(picking.serial_registration_count, 3)

    def test_too_few_serials_refused_and_nothing_written(self):
        """R002-04/15: serial number control: every unit needs a serial or Not readable."""
        picking = self._order().picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.serial_text = "RT-010\nRT-011"
        with self.assertRefused(r"Router \(sales SN\): 2 of 3 units registered; register 1 more"):
            wizard.with_context(**action["context"]).action_confirm()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(self.Registration.search([("picking_id", "=", picking.id)]))

    def test_blank_issue_allows_fewer(self):
        """R002-06/16: with Blank issue allowed fewer serials than units may be registered."""
        picking = self._order(self.cable, 3).picking_ids
        _wizard, res = self._validate_with_serials(picking, ["MD-1"])
        self.assertIs(res, True)
        self.assertEqual(picking.state, "done")
        self.assertEqual(self._names(picking.serial_registration_ids), ["MD-1"])

    def test_more_serials_than_shipped_refused(self):
        """R002-09/10: more serials than the quantity shipped is refused, naming the extra."""
        picking = self._order(qty=2).picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.serial_text = "RT-1\nRT-2\nRT-3"
        with self.assertRefused(r"3 serial numbers for 2 units shipped, 1 too many \(RT-3\)"):
            wizard.with_context(**action["context"]).action_confirm()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(picking.serial_registration_ids)

    def test_over_registration_refused_on_any_path(self):
        """R002-10 holds when the delivery is validated without the dialog."""
        picking = self._order(qty=1).picking_ids
        self.Registration.create(
            [
                {
                    "name": n,
                    "product_id": self.router.id,
                    "move_id": picking.move_ids.id,
                    "picking_id": picking.id,
                    "sale_line_id": picking.move_ids.sale_line_id.id,
                }
                for n in ("RT-A", "RT-B")
            ]
        )
        with self.assertRefused("More serial numbers are registered than the quantity shipped"):
            picking.with_context(serial_registration_picking_ids=picking.ids).button_validate()
        self.assertEqual(picking.state, "assigned")

    def test_done_delivery_cant_be_edited_below_its_serials(self):
        """A done line edited to fewer units than registered serials is refused (every
        path that moves stock obeys the rules)."""
        picking = self._order(qty=2).picking_ids
        self._validate_with_serials(picking, ["DE-1", "DE-2"])
        with self.assertRefused("More serial numbers are registered than the quantity shipped"):
            picking.move_ids.move_line_ids.with_user(self.stock_user).write({"quantity": 1})
        self.assertEqual(picking.move_ids.quantity, 2)

    def test_duplicates_named_in_one_message(self):
        """Duplicates within the list and against existing registrations, all named."""
        first = self._order(qty=1).picking_ids
        self._validate_with_serials(first, ["RT-DUP"])
        picking = self._order(qty=3).picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.serial_text = "rt-dup \nRT-X\nRT-X"
        with self.assertRefused(r"(?s)Listed twice: RT-X.*Already registered: rt-dup"):
            wizard.with_context(**action["context"]).action_confirm()
        self.assertEqual(self.Registration.search_count([("product_id", "=", self.router.id)]), 1)

    def test_serial_unique_per_product_and_company_in_model(self):
        """Uniqueness trimmed and case-insensitive, also for a direct create (RPC)."""
        self.Registration.create({"name": "SN-UNIQ", "product_id": self.router.id})
        with self.assertRefused("already registered: sn-uniq", ValidationError):
            self.Registration.create({"name": " sn-uniq\u200b", "product_id": self.router.id})
        # another product may use the same number
        other = self.Registration.create({"name": "SN-UNIQ", "product_id": self.cable.id})
        self.assertEqual(other.name, "SN-UNIQ")

    def test_database_index_enforces_uniqueness(self):
        """The database itself refuses a second registration (what a concurrent user hits)."""
        self.Registration.create({"name": "SN-DB", "product_id": self.router.id})
        # insert past the Python check, as a concurrent transaction would
        with self.assertRaisesRegex(ValidationError, "sn-db has just been registered"):
            with self.Registration._item_tracking_unique_guard():
                self.env.cr.execute(
                    "INSERT INTO sale_serial_registration "
                    "(name, product_id, company_id, state, date, not_readable) "
                    "VALUES ('sn-db', %s, %s, 'registered', now(), false)",
                    (self.router.id, self.env.company.id),
                )
        self.assertEqual(self.Registration.search_count([("name", "=ilike", "sn-db")]), 1)

    def test_dozen_needs_twelve_serials_per_dozen(self):
        """Quantities count in the product's unit: 2 dozens need 24 serials."""
        dozen = self.env.ref("uom.product_uom_dozen")
        picking = self._order(qty=2, product_uom=dozen.id).picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        self.assertIn("0 of 24 registered", wizard.summary)
        wizard.serial_text = "\n".join(f"DZ-{i:03d}" for i in range(24))
        self.assertIs(wizard.with_context(**action["context"]).action_confirm(), True)
        self.assertEqual(len(picking.serial_registration_ids), 24)

    def test_multi_step_delivery_registers_on_the_last_step(self):
        """In a pick + ship delivery the serials are registered when goods reach the
        customer, not at picking."""
        self.warehouse.delivery_steps = "pick_ship"
        order = self._order(qty=1)
        pick = order.picking_ids.filtered(lambda p: p.location_dest_id.usage != "customer")
        self.assertEqual(pick.button_validate(), True, "no dialog on the picking step")
        ship = order.picking_ids - pick
        self.assertEqual(ship.location_dest_id, self.customer_location)
        _wizard, res = self._validate_with_serials(ship, ["RT-MS1"])
        self.assertIs(res, True)
        self.assertEqual(ship.serial_registration_ids.name, "RT-MS1")
        self.assertFalse(pick.serial_registration_ids)

    def test_every_unit_registered_no_dialog(self):
        picking = self._order(qty=1).picking_ids
        action = picking.action_register_serials()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.serial_text = "RT-PRE"
        wizard.action_confirm()
        self.assertEqual(picking.state, "assigned", "Register only doesn't validate")
        self.assertIs(picking.button_validate(), True)
        self.assertEqual(picking.serial_registration_ids.name, "RT-PRE")

    def test_broken_rule_refused_before_the_dialog(self):
        """A delivery that would open the registration dialog is refused first when an item
        tracking rule is broken (a serial without the warranty date its code asks for, on
        the delivery's other line): no dialog, nothing registered, nothing moved."""
        self.code_serial.warranty_date_required = True
        lot = self._create_lot(self.product_serial, "SN-DLG-1")
        self._put_in_stock(self.product_serial, lot)
        order = self._order(qty=1)
        order.order_line = [Command.create({"product_id": self.product_serial.id})]
        picking = order.picking_ids
        picking.action_assign()
        self.assertEqual(picking.move_line_ids.lot_id, lot)
        with self.assertRaisesRegex(UserError, r"warranty date(.|\n)*SN-DLG-1"):
            picking.button_validate()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(picking.serial_registration_ids)
        self.assertEqual(self._on_hand(self.product_serial, lot), 1)

    def test_dialog_starts_with_registrations_and_lines_given_directly(self):
        picking = self._order(qty=3).picking_ids
        self.Registration.create(
            {
                "name": "RT-OLD",
                "product_id": self.router.id,
                "move_id": picking.move_ids.id,
                "picking_id": picking.id,
            }
        )
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .create(
                {
                    "picking_id": picking.id,
                    "serial_text": "RT-P1",
                    "line_ids": [Command.create({"name": "RT-L1"})],
                }
            )
        )
        self.assertEqual(sorted(wizard.line_ids.mapped("name")), ["RT-L1", "RT-OLD", "RT-P1"])
        self.assertIn("3 of 3 registered", wizard.summary)
        wizard.action_confirm()
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(picking.serial_registration_ids), 3)

    def test_scan_add_and_remove(self):
        """R002-13/14: the scan field adds, or in Remove mode removes, a serial."""
        picking = self._order(qty=2).picking_ids
        action = picking.button_validate()
        with Form(
            self.env["stock.picking.register.serials"]
            .with_context(**action["context"])
            .browse(action["res_id"])
        ) as form:
            form.scan = "SC-1\t"
            form.scan = "SC-2"
            form.scan = "SC-3"
            form.scan_mode = "remove"
            form.scan = "SC-2"
            form.scan_mode = "add"
            form.scan = "SC-1"  # already listed: not added twice
            self.assertEqual(form.scan_message, "SC-1 is already in the list.")
            self.assertEqual(len(form.line_ids), 2)
        wizard = form.record
        self.assertEqual(sorted(wizard.line_ids.mapped("name")), ["SC-1", "SC-3"])
        wizard.with_context(**action["context"]).action_confirm()
        self.assertEqual(self._names(picking.serial_registration_ids), ["SC-1", "SC-3"])

    def test_serials_are_cleaned(self):
        picking = self._order(qty=1).picking_ids
        self._validate_with_serials(picking, ["\u200bRT-\u0007CLEAN\ufeff "])
        self.assertEqual(picking.serial_registration_ids.name, "RT-CLEAN")

    def test_kit_registers_its_components(self):
        kit = self.env["product.product"].create(
            {"name": "Router kit", "is_storable": False, "type": "consu", "list_price": 10}
        )
        self.env["mrp.bom"].create(
            {
                "product_tmpl_id": kit.product_tmpl_id.id,
                "type": "phantom",
                "bom_line_ids": [Command.create({"product_id": self.router.id, "product_qty": 2})],
            }
        )
        order = self._order(kit, qty=1)
        picking = order.picking_ids
        _wizard, res = self._validate_with_serials(picking, ["KIT-1", "KIT-2"])
        self.assertIs(res, True)
        regs = picking.serial_registration_ids
        self.assertEqual(regs.product_id, self.router)
        self.assertEqual(regs.sale_line_id, order.order_line)
        # the kit's invoice line invoices its components' serials
        invoice = order._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.serial_registration_ids, regs)
        invoice.action_post()
        self.assertEqual(set(regs.mapped("state")), {"invoiced"})


class TestNotReadable(SalesSerialCommon):
    def test_not_readable_needs_the_group(self):
        """R002-30: a blank registration needs "Register Non-readable Serial Numbers"."""
        picking = self._order(qty=2).picking_ids
        action = picking.with_user(self.stock_user).button_validate()
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .browse(action["res_id"])
            .with_context(**action["context"])
        )
        wizard.write(
            {
                "serial_text": "NR-1",
                "line_ids": [
                    Command.create({"not_readable": True, "move_id": picking.move_ids.id})
                ],
            }
        )
        with self.assertRefused("Register Non-readable Serial Numbers"):
            wizard.action_confirm()
        with self.assertRefused("Register Non-readable", AccessError):
            self.Registration.with_user(self.stock_user).create(
                {"not_readable": True, "product_id": self.router.id}
            )
        self.stock_user.groups_id += self.not_readable_group
        wizard.action_confirm()
        regs = picking.serial_registration_ids
        self.assertEqual(len(regs), 2)
        blank = regs.filtered("not_readable")
        self.assertFalse(blank.name)
        self.assertEqual(blank.display_name, "Not readable")

    def test_not_readable_completed_later_without_correction_group(self):
        """R002-20: when the number becomes readable, anyone who registers completes it."""
        picking = self._order(qty=1).picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.line_ids.filtered(lambda ln: not ln.name)[:1].unlink()
        wizard.write(
            {"line_ids": [Command.create({"not_readable": True, "move_id": picking.move_ids.id})]}
        )
        wizard.with_context(**action["context"]).action_confirm()
        blank = picking.serial_registration_ids
        self.assertTrue(blank.not_readable)
        blank.with_user(self.stock_user).write({"name": "NR-LATER"})
        self.assertEqual((blank.name, blank.not_readable), ("NR-LATER", False))


class TestInvoiceRegistration(SalesSerialCommon):
    def _deliver(self, order, serials, qty=None):
        picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        self._validate_with_serials(picking, serials, quantity=qty)
        backorder_wizard = None  # noqa: F841
        return picking

    def test_invoice_links_delivered_serials_in_delivery_order(self):
        """R002-08/17: the invoice line proposes the delivered, not invoiced serials."""
        order = self._order(qty=3)
        self._deliver(order, ["IV-1", "IV-2", "IV-3"])
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        self.assertEqual(self._names(line.serial_registration_ids), ["IV-1", "IV-2", "IV-3"])
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(set(line.serial_registration_ids.mapped("state")), {"invoiced"})
        self.assertEqual(invoice.serial_registration_count, 3)
        reg = line.serial_registration_ids[:1]
        self.assertEqual(reg.invoice_id, invoice)
        self.assertEqual(reg.invoice_date, invoice.invoice_date, "R002-02: sold on")

    def test_partial_invoice_user_picks_serials(self):
        """R002-08/11: a partial invoice includes fewer serials, the user picks which."""
        order = self._order(qty=3)
        self._deliver(order, ["PI-1", "PI-2", "PI-3"])
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        with Form(invoice) as form:
            with form.invoice_line_ids.edit(0) as line_form:
                line_form.quantity = 1
        self.assertEqual(len(line.serial_registration_ids), 1, "the proposal follows the quantity")
        pi3 = self.Registration.search([("name", "=", "PI-3")])
        line.serial_registration_ids = [Command.set(pi3.ids)]
        self.assertTrue(line.serial_registration_manual)
        line.quantity = 1
        invoice.action_post()
        self.assertEqual(pi3.state, "invoiced")
        self.assertEqual(
            set(self.Registration.search([("name", "in", ["PI-1", "PI-2"])]).mapped("state")),
            {"registered"},
        )
        second = order._create_invoices()
        self.assertEqual(
            self._names(second.invoice_line_ids.serial_registration_ids), ["PI-1", "PI-2"]
        )

    def test_more_serials_than_invoice_quantity_refused(self):
        order = self._order(qty=3)
        self._deliver(order, ["OV-1", "OV-2", "OV-3"])
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        line.write({"quantity": 2})
        line.serial_registration_ids = [
            Command.set(self.Registration.search([("name", "like", "OV-")]).ids)
        ]
        with self.assertRefused(r"3 serial numbers for a quantity of 2"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(
            set(self.Registration.search([("name", "like", "OV-")]).mapped("state")),
            {"registered"},
        )

    def test_r002_19_one_packing_slip_partly_at_most(self):
        """R002-19's example: three packing slips of two serials each; invoicing one serial
        from each is refused; registrations and invoice stay unchanged."""
        order = self._order(qty=6)
        for i in range(3):
            picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
            picking.move_ids.quantity = 2
            action = picking.button_validate()
            if action["res_model"] == "stock.backorder.confirmation":
                action = (
                    Form(self.env["stock.backorder.confirmation"].with_context(**action["context"]))
                    .save()
                    .process()
                )
            wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
            wizard.serial_text = f"S{i}-A\nS{i}-B"
            self.assertIs(wizard.with_context(**action["context"]).action_confirm(), True)
            self.assertEqual(picking.state, "done")
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        one_each = self.Registration.search([("name", "in", ["S0-A", "S1-A", "S2-A"])])
        line.write({"quantity": 3})
        line.serial_registration_ids = [Command.set(one_each.ids)]
        with self.assertRefused("at most one packing slip may be invoiced partly"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(set(one_each.mapped("state")), {"registered"})
        # two whole slips and one part is fine
        ok = self.Registration.search([("name", "in", ["S0-A", "S0-B", "S1-A", "S1-B", "S2-A"])])
        line.write({"quantity": 5})
        line.serial_registration_ids = [Command.set(ok.ids)]
        invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(set(ok.mapped("state")), {"invoiced"})

    def test_invoice_before_delivery_registers_on_invoice(self):
        """R002-07: invoiced before delivery: the invoice registers; the delivery then takes
        those serials without asking."""
        self.router.invoice_policy = "order"
        order = self._order(qty=2)
        invoice = order._create_invoices()
        action = invoice.with_user(self.billing_user).action_post()
        self.assertEqual(action["res_model"], "stock.picking.register.serials")
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.billing_user)
            .browse(action["res_id"])
            .with_context(**action["context"])
        )
        wizard.serial_text = "IB-1\nIB-2"
        wizard.action_confirm()
        self.assertEqual(invoice.state, "posted")
        regs = invoice.invoice_line_ids.serial_registration_ids
        self.assertEqual(set(regs.mapped("state")), {"invoiced"})
        self.assertFalse(regs.move_id)
        picking = order.picking_ids
        self.assertIs(picking.button_validate(), True, "every unit is registered: no dialog")
        self.assertEqual(regs.move_id, picking.move_ids)
        self.assertEqual(picking.serial_registration_ids, regs)

    def test_automatic_posting_does_not_stop_then_delivery_controls(self):
        """A posting without a user (`_post`) doesn't stop for a dialog; serial number
        control then applies at delivery."""
        self.router.invoice_policy = "order"
        order = self._order(qty=2)
        invoice = order._create_invoices()
        invoice._post()
        self.assertEqual(invoice.state, "posted")
        picking = order.picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        self.assertFalse(wizard.can_register_later, "already invoiced: register now")
        with self.assertRefused("already invoiced, so their serial numbers must be registered"):
            picking.with_context(serial_registration_picking_ids=picking.ids).button_validate()
        self.assertEqual(picking.state, "assigned")
        wizard.serial_text = "AP-1\nAP-2"
        wizard.with_context(**action["context"]).action_confirm()
        self.assertEqual(picking.state, "done")

    def test_register_later_on_invoice(self):
        """Nothing registered on the delivery: registration happens on the invoice."""
        order = self._order(qty=2)
        picking = order.picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        self.assertTrue(wizard.can_register_later)
        wizard.with_context(**action["context"]).action_register_later()
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.serial_registration_ids)
        invoice = order._create_invoices()
        action = invoice.action_post()
        wizard = (
            self.env["stock.picking.register.serials"]
            .browse(action["res_id"])
            .with_context(**action["context"])
        )
        wizard.serial_text = "RL-1"
        with self.assertRefused("1 of 2 units registered"):
            wizard.action_confirm()
        wizard.serial_text = "RL-1\nRL-2"
        wizard.action_confirm()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(self._names(invoice.serial_registration_ids), ["RL-1", "RL-2"])


class TestCorrections(SalesSerialCommon):
    def _delivered(self, serials):
        order = self._order(qty=len(serials))
        self._validate_with_serials(order.picking_ids, serials)
        return order

    def test_change_needs_correction_group_and_is_logged(self):
        """R002-21/30: serials not invoiced can be changed by Serial Number Corrections;
        the delivery follows and its chatter logs old and new serial."""
        order = self._delivered(["CR-1"])
        reg = order.serial_registration_ids
        with self.assertRefused("Serial Number Corrections", AccessError):
            reg.with_user(self.stock_user).write({"name": "CR-9"})
        self.stock_user.groups_id += self.correction_group
        reg.with_user(self.stock_user).write({"name": "CR-9"})
        picking = order.picking_ids
        self.assertEqual(picking.serial_registration_ids.name, "CR-9")
        messages = picking.with_context(tracking_disable=False).message_ids.mapped("body")
        self.assertTrue(any("CR-1" in b and "CR-9" in b for b in messages), messages)

    def test_invoiced_serial_cant_change(self):
        order = self._delivered(["CI-1"])
        invoice = order._create_invoices()
        invoice.action_post()
        with self.assertRefused("invoiced, credited or returned and can't be changed"):
            order.serial_registration_ids.write({"name": "CI-2"})

    def test_credit_note_locks_serials(self):
        """R002-22: serials of a line corrected by a credit note can't be changed, even
        after the invoice is reset to draft."""
        order = self._delivered(["CN-1", "CN-2"])
        invoice = order._create_invoices()
        invoice.action_post()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "damaged"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        refund.invoice_line_ids.quantity = 1
        refund.action_post()
        credited = refund.invoice_line_ids.refund_registration_ids
        self.assertEqual(len(credited), 1)
        invoice.button_draft()
        with self.assertRefused("can't be changed"):
            credited.write({"name": "CN-X"})

    def test_credit_note_of_a_return_locks_the_returned_serials(self):
        """R002-22/24: a return, then the order's credit note for it: the returned serial is
        credited and locked, the others stay changeable."""
        order = self._delivered(["RC-1", "RC-2"])
        order._create_invoices().action_post()
        picking = order.picking_ids
        rc2 = self.Registration.search([("name", "=", "RC-2")])
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        wizard.product_return_moves.serial_registration_ids = rc2
        ret = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        ret.button_validate()
        self.assertEqual(rc2.state, "reversed")
        refund = order._create_invoices(final=True)
        self.assertEqual(refund.move_type, "out_refund")
        refund.action_post()
        self.assertEqual(refund.invoice_line_ids.refund_registration_ids, rc2)

    def test_state_and_links_cant_be_typed(self):
        """Statuses and links are kept by documents, not typed over RPC."""
        order = self._delivered(["TY-1"])
        reg = order.serial_registration_ids.with_user(self.stock_user)
        for vals in (
            {"state": "reversed"},
            {"product_id": self.cable.id},
            {"sale_line_id": False},
            {"refund_line_id": False},
        ):
            with self.assertRefused("kept by deliveries", AccessError):
                reg.write(vals)
        with self.assertRefused("belong to a done delivery"):
            reg.write({"move_id": False})

    def test_wrong_scope_product_refused(self):
        with self.assertRefused("Sales process only", ValidationError):
            self.Registration.create({"name": "X", "product_id": self.product_serial.id})


class TestReturns(SalesSerialCommon):
    def _return(self, picking, qty, registrations=None):
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = qty
        if registrations is not None:
            wizard.product_return_moves.serial_registration_ids = registrations
        res = wizard.action_create_returns()
        return self.env["stock.picking"].browse(res["res_id"])

    def test_partial_return_must_say_which(self):
        """R002-23/24: a return of part of the quantity says which serials come back; only
        those become reversed and the next delivery of the line proposes them again."""
        order = self._order(qty=3)
        picking = order.picking_ids
        self._validate_with_serials(picking, ["RE-1", "RE-2", "RE-3"])
        ret = self._return(picking, 1)
        with self.assertRefused("say which registered serial numbers come back"):
            ret.button_validate()
        self.assertEqual(ret.state, "assigned")
        re2 = self.Registration.search([("name", "=", "RE-2")])
        ret.move_ids.return_registration_ids = re2
        self.assertIs(ret.button_validate(), True)
        self.assertEqual(re2.state, "reversed")
        self.assertEqual(re2.return_move_id, ret.move_ids)
        self.assertEqual(
            set(self.Registration.search([("name", "in", ["RE-1", "RE-3"])]).mapped("state")),
            {"registered"},
        )
        # re-deliver the returned unit: RE-2 is proposed again
        order.order_line.product_uom_qty = 4
        new = order.picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel") and p.picking_type_code == "outgoing"
        )
        action = new.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        self.assertIn("RE-2", wizard.line_ids.mapped("name"))
        self.assertTrue(wizard.line_ids.filtered(lambda ln: ln.name == "RE-2").proposed)

    def test_full_return_reverses_the_whole_line(self):
        order = self._order(qty=2)
        picking = order.picking_ids
        self._validate_with_serials(picking, ["FR-1", "FR-2"])
        ret = self._return(picking, 2)
        self.assertIs(ret.button_validate(), True)
        self.assertEqual(set(picking.serial_registration_ids.mapped("state")), {"reversed"})
        # a reversed serial may be registered again
        self.Registration.create({"name": "FR-1", "product_id": self.router.id})

    def test_return_wizard_chooses_serials(self):
        order = self._order(qty=2)
        picking = order.picking_ids
        self._validate_with_serials(picking, ["RW-1", "RW-2"])
        rw1 = self.Registration.search([("name", "=", "RW-1")])
        ret = self._return(picking, 1, rw1)
        self.assertEqual(ret.move_ids.return_registration_ids, rw1)
        ret.button_validate()
        self.assertEqual(rw1.state, "reversed")


class TestAccessAndCompanies(SalesSerialCommon):
    def test_salesman_reads_not_writes(self):
        order = self._order(qty=1)
        self._validate_with_serials(order.picking_ids, ["AC-1"])
        reg = order.serial_registration_ids.with_user(self.salesman)
        self.assertEqual(reg.name, "AC-1")
        with self.assertRaises(AccessError):
            reg.write({"name": "AC-2"})
        with self.assertRaises(AccessError):
            self.Registration.with_user(self.salesman).create(
                {"name": "AC-3", "product_id": self.router.id}
            )

    def test_other_company_cant_read(self):
        order = self._order(qty=1)
        self._validate_with_serials(order.picking_ids, ["MC-1"])
        other = self.env["res.company"].create({"name": "Other Co"})
        user = new_test_user(
            self.env,
            "sit_other_co",
            groups="stock.group_stock_user,sales_team.group_sale_salesman",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(self.Registration.with_user(user).search([("name", "=", "MC-1")]))

    def test_search_by_serial_customer_invoice(self):
        order = self._order(qty=1)
        self._validate_with_serials(order.picking_ids, ["SR-1"])
        invoice = order._create_invoices()
        invoice.action_post()
        found = self.Registration.search(
            [
                ("name", "ilike", "sr-1"),
                ("partner_id", "=", self.partner.id),
                ("invoice_id", "=", invoice.id),
            ]
        )
        self.assertEqual(found.name, "SR-1")
        self.assertEqual(found.invoice_date, invoice.invoice_date)


class TestNoSideEffectsOnCoreFlows(SalesSerialCommon):
    def test_confirmation_keeps_odoo_picking_order(self):
        """Odoo's own flows see no difference when nothing is registered: confirming an
        order whose 3-step pull delivery explodes and cancels moves must not flush the whole
        environment (a savepoint of the registrations did, and the order's cached transfers
        then came in creation order instead of stock.picking's order: sale_stock's
        test_return_with_mto_and_multisteps_old_pull failed)."""
        warehouse = self.env["stock.warehouse"].create(
            {"name": "WH 3 steps pull", "code": "W3P", "delivery_steps": "pick_pack_ship"}
        )
        rules = warehouse.delivery_route_id.rule_ids
        rules[0].write({"location_dest_id": rules[1].location_src_id.id})
        rules[1:3].write({"action": "pull"})
        product = self.env["product.product"].create({"name": "Plain", "is_storable": True})
        self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 5)
        form = Form(self.env["sale.order"])
        form.partner_id = self.partner
        form.warehouse_id = warehouse
        with form.order_line.new() as line:
            line.product_id = product
            line.product_uom_qty = 5
        order = form.save()
        order.action_confirm()
        in_database_order = self.env["stock.picking"].search([("sale_id", "=", order.id)])
        self.assertEqual(len(in_database_order), 3)
        self.assertEqual(order.picking_ids.ids, in_database_order.ids)
