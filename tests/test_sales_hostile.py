"""Hostile tests of the serials registered in the sales process (issue 14, R002-01..30).

`TestSalesHostile` holds findings: each test fails on the current code and passes once the
add-on is fixed. `TestSalesGuardsHold` documents guards that hold against the same attacks.
All attacks are made over RPC-equivalent calls as the lowest users."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user

from .test_sales_serials import SalesSerialCommon

# AccessError and ValidationError are UserErrors: any refusal that names the problem.
REFUSED = UserError


class SalesHostileCommon(SalesSerialCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Hostile Co B"})
        cls.user_b = new_test_user(
            cls.env,
            "sit_hostile_b",
            groups="stock.group_stock_user,account.group_account_invoice,"
            "sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.other_partner = cls.env["res.partner"].create({"name": "Other Customer"})

    def _delivered(self, serials, product=None, partner=None):
        order = self._order(product, qty=len(serials))
        if partner:
            order.partner_id = partner
        self._validate_with_serials(order.picking_ids, serials)
        return order

    def _register_only(self, picking, serials, user=None):
        picking = picking.with_user(user) if user else picking
        action = picking.action_register_serials()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        if user:
            wizard = wizard.with_user(user)
        wizard.serial_text = "\n".join(serials)
        wizard.action_confirm()
        return picking.serial_registration_ids

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

    def _reg(self, name):
        return self.Registration.search([("name", "=", name)])


class TestSalesHostileFixed(SalesHostileCommon):
    # ---------------------------------------------------------------- typed states and links

    def test_create_cannot_type_invoiced_state(self):
        """Statuses are kept by documents (R002-02, lessons: a guard never depends on what a
        client sends): a warehouse user creating a registration with state 'invoiced' (no
        invoice at all) must be refused, as `write` refuses it."""
        with self.assertRefused("created as Registered", AccessError):
            self.Registration.with_user(self.stock_user).create(
                {"name": "TYPE-INV", "product_id": self.router.id, "state": "invoiced"}
            )
        self.assertFalse(self._reg("TYPE-INV"))

    def test_create_cannot_type_refund_or_return_links(self):
        """A credit note line (R002-22) or a return move (R002-23/24) is set by the add-on
        when the document is posted/validated; a billing user typing `refund_line_id` at
        create (locking a serial forever) must be refused."""
        order = self._delivered(["TYPE-R1"])
        invoice = order._create_invoices()
        invoice.action_post()
        with self.assertRefused("created as Registered", AccessError):
            self.Registration.with_user(self.billing_user).create(
                {
                    "name": "TYPE-R2",
                    "product_id": self.router.id,
                    "refund_line_id": invoice.invoice_line_ids.id,
                }
            )
        self.assertFalse(self._reg("TYPE-R2"))

    def test_load_cannot_type_reversed_state(self):
        """`load` (import) is create: a registration imported as 'reversed' (a state only a
        validated return sets, R002-23/24) is outside the uniqueness of active serials and
        of every delivery/invoice rule; the import must be refused, nothing imported."""
        res = self.Registration.with_user(self.stock_user).load(
            ["name", "product_id/.id", "state"],
            [["LOAD-2", str(self.router.id), "reversed"]],
        )
        self.assertFalse(res["ids"], "a typed 'reversed' state must not be imported")
        self.assertFalse(self._reg("LOAD-2"))

    def test_dialog_with_default_state_context_registers_registered(self):
        """Lessons (context keys come from the caller): a warehouse user confirming the
        dialog with `default_state='reversed'` in the context (as any RPC call may send)
        must get 'registered' registrations, not reversed ones that escape uniqueness and
        every delivery/invoice rule."""
        picking = self._order(qty=1).picking_ids
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .with_context(default_state="reversed")
            .create({"picking_id": picking.id, "register_only": True, "serial_text": "DEF-1"})
        )
        wizard.action_confirm()
        self.assertEqual(picking.serial_registration_ids.mapped("state"), ["registered"])

    def test_create_on_posted_invoice_line_refused(self):
        """Serials are added to draft invoices only (R002-07/08, the add-on's own rule on
        `write`): creating a registration directly on the line of a posted invoice must be
        refused, otherwise the posted invoice shows a serial that was never posted."""
        order = self._delivered(["PI-1"])
        invoice = order._create_invoices()
        invoice.action_post()
        with self.assertRefused("draft"):
            self.Registration.with_user(self.billing_user).create(
                {
                    "name": "PI-EXTRA",
                    "product_id": self.router.id,
                    "invoice_line_id": invoice.invoice_line_ids.id,
                    "sale_line_id": order.order_line.id,
                }
            )
        self.assertEqual(len(invoice.invoice_line_ids.serial_registration_ids), 1)

    # ---------------------------------------------------------------- over-registration

    def test_create_on_done_delivery_beyond_quantity_refused(self):
        """R002-09/10: never more serials than units shipped. A warehouse user creating one
        more registration directly on a done delivery line (1 unit, 1 serial) must be
        refused, as the dialog and done-line edits refuse it."""
        order = self._delivered(["OV-1"])
        move = order.picking_ids.move_ids
        with self.assertRefused("More serial numbers are registered than the quantity shipped"):
            self.Registration.with_user(self.stock_user).create(
                {
                    "name": "OV-2",
                    "product_id": self.router.id,
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                    "sale_line_id": move.sale_line_id.id,
                }
            )
        self.assertEqual(len(move.serial_registration_ids), 1)

    def test_write_move_onto_done_delivery_beyond_quantity_refused(self):
        """R002-09/10: a registration of an open delivery moved (write `move_id`) onto a done
        delivery line that is already fully registered must be refused; the guard only
        looks at the registration's current move, not at the target."""
        done_order = self._delivered(["WM-1"])
        done_move = done_order.picking_ids.move_ids
        open_picking = self._order(qty=1).picking_ids
        reg = self._register_only(open_picking, ["WM-2"])
        with self.assertRefused("quantity shipped|done delivery|belong"):
            reg.with_user(self.stock_user).write(
                {"move_id": done_move.id, "picking_id": done_move.picking_id.id}
            )
        self.assertEqual(len(done_move.serial_registration_ids), 1)

    def test_write_move_of_another_order_refused(self):
        """R002-02 traceability: a registration is the serial of the unit its sales order
        line delivered to its customer. Writing `move_id` to the delivery of another order
        (another customer) leaves sale_line/partner of order A on the delivery of order B;
        it must be refused."""
        picking_a = self._order(qty=1).picking_ids
        reg = self._register_only(picking_a, ["MX-1"])
        order_b = self._order(qty=1)
        order_b.partner_id = self.other_partner
        move_b = order_b.picking_ids.move_ids
        with self.assertRefused("."):
            reg.with_user(self.stock_user).write(
                {"move_id": move_b.id, "picking_id": move_b.picking_id.id}
            )
        self.assertEqual(reg.picking_id, picking_a)

    def test_create_links_must_agree(self):
        """R002-02/09: a registration is the serial of one unit of its product on its
        delivery line. Created over RPC with the router as product but the delivery line of
        the modem (and the picking of yet another delivery), it is counted against the
        modem's units and shown on the wrong delivery; it must be refused."""
        cable_picking = self._order(self.cable, 1).picking_ids
        other_picking = self._order(qty=1).picking_ids
        with self.assertRefused("."):
            self.Registration.with_user(self.stock_user).create(
                {
                    "name": "AGREE-1",
                    "product_id": self.router.id,
                    "move_id": cable_picking.move_ids.id,
                    "picking_id": other_picking.id,
                    "sale_line_id": other_picking.move_ids.sale_line_id.id,
                }
            )
        self.assertFalse(self._reg("AGREE-1"))

    def test_dialog_line_cannot_steal_registration_of_another_delivery(self):
        """The dialog lists and writes the registrations of its own delivery. A line given
        over RPC with `registration_id` of another (open) delivery's registration must be
        refused ("Not on this document"), not silently moved to this delivery."""
        picking_a = self._order(qty=1).picking_ids
        reg = self._register_only(picking_a, ["ST-1"])
        picking_b = self._order(qty=1).picking_ids
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .create(
                {
                    "picking_id": picking_b.id,
                    "register_only": True,
                    "line_ids": [Command.create({"registration_id": reg.id, "name": "ST-1"})],
                }
            )
        )
        with self.assertRefused("."):
            wizard.action_confirm()
        self.assertEqual(reg.picking_id, picking_a)

    def test_done_move_line_moved_to_another_move_refused(self):
        """Every path that moves stock is a path (lessons), R002-09: moving the done line
        of a delivery with 2 registered serials to another done delivery move (write
        `move_id`) leaves 2 serials on a move of 0 units; it must be refused."""
        order = self._delivered(["DL-1", "DL-2"])
        other = self._delivered(["DL-3"])
        move = order.picking_ids.move_ids
        with self.assertRefused("quantity shipped"):
            move.move_line_ids.with_user(self.stock_user).write(
                {"move_id": other.picking_ids.move_ids.id}
            )
        self.assertEqual(move.quantity, 2)

    def test_cancelled_delivery_releases_its_serials(self):
        """R002-24: serials registered on a packing slip that is cancelled are not kept by
        the customer. Registered on a delivery (Register Serials) that is then cancelled, the
        serial stays 'registered' on the cancelled move and can never be registered on the
        delivery that really ships that unit."""
        picking = self._order(qty=1).picking_ids
        self._register_only(picking, ["CXL-1"], user=self.stock_user)
        picking.with_user(self.stock_user).action_cancel()
        self.assertEqual(picking.state, "cancel")
        other = self._order(qty=1).picking_ids
        _wizard, res = self._validate_with_serials(other, ["CXL-1"], user=self.stock_user)
        self.assertIs(res, True)
        self.assertEqual(other.serial_registration_ids.name, "CXL-1")

    # ---------------------------------------------------------------- duplicates

    def test_duplicate_case_fold_both_ways(self):
        """Uniqueness is case-insensitive as the database's index compares (lower()), the
        same in both orders: 'SN-STRASSE'/'sn-straße' and 'SN-GROß'/'sn-gross' are different
        serials whichever comes first (they were refused in one order only), while
        'SN-GROß'/'sn-groß' is the same serial."""
        self.Registration.create({"name": "SN-STRASSE", "product_id": self.router.id})
        self.Registration.create({"name": "sn-straße", "product_id": self.router.id})
        self.Registration.create({"name": "SN-GROß", "product_id": self.cable.id})
        self.Registration.create({"name": "sn-gross", "product_id": self.cable.id})
        with self.assertRefused("already registered", ValidationError):
            self.Registration.create({"name": "sn-groß", "product_id": self.cable.id})

    # ---------------------------------------------------------------- invoices

    def test_cancel_draft_invoice_keeps_returned_serials_reversed(self):
        """R002-23/24: a returned serial stays reversed. Resetting the invoice to draft keeps
        it so, but cancelling the draft writes every serial of its lines back to
        'registered', reviving a unit that is back in stock."""
        order = self._delivered(["CX-1", "CX-2"])
        invoice = order._create_invoices()
        invoice.action_post()
        cx2 = self._reg("CX-2")
        ret = self._return(order.picking_ids, 1, cx2)
        ret.button_validate()
        self.assertEqual(cx2.state, "reversed")
        invoice.with_user(self.billing_user).button_draft()
        self.assertEqual(cx2.state, "reversed")
        invoice.with_user(self.billing_user).button_cancel()
        self.assertEqual(cx2.state, "reversed", "a returned serial must stay reversed")

    def test_full_reversal_and_new_invoice_takes_the_serials(self):
        """R002-02/08/22: "Reverse and create a new draft" credits the whole invoice and
        re-invoices the same delivered units: the serials are still with the customer and
        must be invoiced (and traceable) by the corrected invoice. Today they stay locked on
        the credited invoice, the new invoice proposes none and its dialog refuses the same
        serials as "already registered", so it can only be posted without them."""
        order = self._delivered(["MOD-1", "MOD-2"])
        invoice = order._create_invoices()
        invoice.action_post()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "wrong price"})
        )
        new_invoice = self.env["account.move"].browse(reversal.modify_moves()["res_id"])
        self.assertEqual(new_invoice.move_type, "out_invoice")
        self.assertEqual(new_invoice.state, "draft")
        res = new_invoice.action_post()
        self.assertEqual(new_invoice.state, "posted", f"the new invoice asks again: {res}")
        self.assertEqual(
            self._names(new_invoice.invoice_line_ids.serial_registration_ids), ["MOD-1", "MOD-2"]
        )

    def test_registration_cannot_be_linked_to_credit_note_line(self):
        """Serials are invoiced by customer invoice lines (R002-08); a credit note line
        corrects them through `refund_line_id`. Linking a delivered serial to a draft credit
        note line through `serial_registration_ids` must be refused: otherwise the serial
        is hidden from the proposals of every later invoice."""
        order = self._delivered(["CN-L1", "CN-L2"])
        invoice = order._create_invoices()
        invoice.action_post()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "hostile"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        self.assertEqual(refund.state, "draft")
        order.order_line.product_uom_qty = 3
        new_picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        self._validate_with_serials(new_picking, ["CN-L3"])
        cn3 = self._reg("CN-L3")
        with self.assertRefused("."):
            refund.invoice_line_ids.with_user(self.billing_user).write(
                {"serial_registration_ids": [Command.link(cn3.id)]}
            )
        self.assertFalse(cn3.invoice_line_id)

    def test_registration_of_another_customer_cannot_be_invoiced(self):
        """R002-02: the invoice tells which customer got the unit. A registration made on
        the draft invoice of customer X (no sales order) linked by the billing user to the
        invoice of customer Y must be refused, not posted with partner X on Y's invoice."""
        Move = self.env["account.move"]
        inv_x = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.router.id, "quantity": 1, "price_unit": 1})
                ],
            }
        )
        reg = self.Registration.with_user(self.billing_user).create(
            {
                "name": "CUST-X",
                "product_id": self.router.id,
                "invoice_line_id": inv_x.invoice_line_ids.id,
                "partner_id": self.partner.id,
            }
        )
        inv_y = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.other_partner.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.router.id, "quantity": 1, "price_unit": 1})
                ],
            }
        )
        with self.assertRefused("."):
            inv_y.invoice_line_ids.with_user(self.billing_user).write(
                {"serial_registration_ids": [Command.link(reg.id)]}
            )
            inv_y.with_context(serial_registration_invoice_ids=inv_y.ids).action_post()
        self.assertEqual(reg.invoice_id, inv_x)

    def test_serials_registered_on_posted_invoice_are_invoiced(self):
        """A posted invoice's serials are 'invoiced' (R002-02: traced to the invoice, locked
        by R002-21). An invoice posted without its serials (automatic posting, delivery
        registered later), then completed with the invoice's Register Serials button by the
        billing user, gets registrations still 'registered' on a posted invoice: changeable,
        removable and proposed to the next invoice. Either refuse it or mark them invoiced."""
        order = self._order(qty=2)
        picking = order.picking_ids
        action = picking.button_validate()
        self.env["stock.picking.register.serials"].browse(action["res_id"]).with_context(
            **action["context"]
        ).action_register_later()
        invoice = order._create_invoices()
        invoice._post()
        self.assertEqual(invoice.state, "posted")
        action = invoice.with_user(self.billing_user).action_register_serials()
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.billing_user)
            .browse(action["res_id"])
        )
        wizard.serial_text = "PST-1\nPST-2"
        wizard.action_confirm()
        regs = invoice.invoice_line_ids.serial_registration_ids
        self.assertEqual(sorted(regs.mapped("name")), ["PST-1", "PST-2"])
        self.assertEqual(set(regs.mapped("state")), {"invoiced"})

    def test_redelivered_return_keeps_its_invoice(self):
        """R002-02/24: a unit delivered and invoiced, returned, then delivered again (return
        of the return) is still the unit the invoice sold; the registered number is reused
        (R002-24), so the active registration of that serial must trace to the invoice.
        Today the dialog registers a new registration without invoice, and the unit can no
        longer be traced to an invoice."""
        order = self._delivered(["RR-1"])
        invoice = order._create_invoices()
        invoice.action_post()
        ret = self._return(order.picking_ids, 1)
        ret.button_validate()
        self.assertEqual(self._reg("RR-1").state, "reversed")
        again = self._return(ret, 1)
        res = again.button_validate()
        if isinstance(res, dict) and res.get("res_model") == "stock.picking.register.serials":
            wizard = self.env["stock.picking.register.serials"].browse(res["res_id"])
            if "RR-1" not in wizard.line_ids.mapped("name"):
                wizard.serial_text = "RR-1"
            wizard.with_context(**res["context"]).action_confirm()
        self.assertEqual(again.state, "done")
        active = self.Registration.search([("name", "=", "RR-1"), ("state", "!=", "reversed")])
        self.assertEqual(len(active), 1)
        self.assertEqual(active.invoice_id, invoice, "the re-delivered unit has no invoice")

    # ---------------------------------------------------------------- dialog skipped

    def test_partly_invoiced_before_delivery_skip_context_refused(self):
        """R002-04/15 at delivery: 2 of 3 units were invoiced (automatic posting, no serials)
        before the delivery; validating the delivery of 3 with the dialog skipped by the
        context key must still require serials for the 2 invoiced units. Today the check
        only applies when the whole move was invoiced, so the 3 units leave unregistered."""
        product = self._create_product(
            "Switch (sales SN, ordered)", self.code_sales, list_price=10.0, invoice_policy="order"
        )
        self.env["stock.quant"]._update_available_quantity(product, self.stock_location, 10)
        order = self._order(product, qty=3)
        invoice = order._create_invoices()
        invoice.invoice_line_ids.quantity = 2
        invoice._post()
        self.assertEqual(order.order_line.qty_invoiced, 2)
        picking = order.picking_ids.with_user(self.stock_user)
        with self.assertRefused("already invoiced|registered"):
            picking.with_context(serial_registration_picking_ids=picking.ids).button_validate()
        self.assertEqual(picking.state, "assigned")

    # ---------------------------------------------------------------- access

    def test_billing_user_can_invoice_sales_serial_products(self):
        """R002-29: registration is available to every role that maintains sales invoices.
        The lowest invoicing user (account.group_account_invoice only) posting the invoice
        of a product with sales-process serials, in a fresh request (empty cache), gets an
        AccessError on item.tracking.code: the add-on reads the code's scope/blank issue as
        the user, and only stock users imply Item Tracking User."""
        order = self._delivered(["BIL-1"])
        invoice = order._create_invoices()
        self.env.invalidate_all()
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.invoice_line_ids.serial_registration_ids.state, "invoiced")

    def test_salesman_reads_only_registrations_of_his_orders(self):
        """R002-29: registrations follow the documents of the role. A salesman restricted to
        his own documents (sales_team.group_sale_salesman, core rule on sale.order) must not
        list the serials and customers of other salesmen's orders."""
        other_salesman = new_test_user(
            self.env, "sit_other_salesman", groups="sales_team.group_sale_salesman"
        )
        order = self._order(qty=1, **{})
        order.user_id = other_salesman
        self._validate_with_serials(order.picking_ids, ["OWN-1"])
        found = self.Registration.with_user(self.salesman).search([("name", "=", "OWN-1")])
        self.assertFalse(found, "another salesman's order serials are listed")


class TestSalesGuardsHold(SalesHostileCommon):
    def test_salesman_sells_with_fresh_cache(self):
        self.env.invalidate_all()
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.partner.id,
                    "order_line": [
                        Command.create({"product_id": self.router.id, "product_uom_qty": 1})
                    ],
                }
            )
        )
        self.env.invalidate_all()
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_write_state_and_links_refused(self):
        order = self._delivered(["G-ST"])
        reg = order.serial_registration_ids.with_user(self.billing_user)
        for vals in ({"state": "invoiced"}, {"return_move_id": reg.move_id.id}, {"date": False}):
            with self.assertRefused("kept by deliveries", AccessError):
                reg.write(vals)

    def test_load_name_change_needs_correction_group(self):
        order = self._delivered(["G-LD"])
        reg = order.serial_registration_ids
        res = self.Registration.with_user(self.stock_user).load(
            [".id", "name"], [[str(reg.id), "G-LD2"]]
        )
        self.assertFalse(res["ids"])
        self.assertEqual(reg.name, "G-LD")

    def test_not_readable_refused_by_create_load_and_wizard(self):
        with self.assertRefused("Non-readable", AccessError):
            self.Registration.with_user(self.stock_user).create(
                {"name": "\u200b ", "product_id": self.router.id}
            )
        res = self.Registration.with_user(self.stock_user).load(
            ["not_readable", "product_id/.id"], [["1", str(self.router.id)]]
        )
        self.assertFalse(res["ids"])
        picking = self._order(qty=1).picking_ids
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .create(
                {
                    "picking_id": picking.id,
                    "register_only": True,
                    "line_ids": [Command.create({"not_readable": True})],
                }
            )
        )
        with self.assertRefused("Non-readable"):
            wizard.action_confirm()
        self.assertFalse(picking.serial_registration_ids)

    def test_wizard_name_change_needs_correction_group(self):
        order = self._delivered(["G-WZ"])
        picking = order.picking_ids
        action = picking.with_user(self.stock_user).action_register_serials()
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .browse(action["res_id"])
        )
        wizard.line_ids.name = "G-WZ2"
        with self.assertRefused("Serial Number Corrections", AccessError):
            wizard.action_confirm()
        self.assertEqual(picking.serial_registration_ids.name, "G-WZ")

    def test_unlink_done_or_invoiced_refused(self):
        order = self._delivered(["G-UL1", "G-UL2"])
        regs = order.serial_registration_ids
        with self.assertRefused("Serial Number Corrections", AccessError):
            regs[:1].with_user(self.stock_user).unlink()
        with self.assertRefused("belong to a done delivery"):
            order.picking_ids.with_user(self.stock_user).write(
                {"serial_registration_ids": [Command.unlink(regs[:1].id)]}
            )
        order._create_invoices().action_post()
        self.stock_user.groups_id += self.correction_group
        with self.assertRefused("invoiced or reversed"):
            regs.with_user(self.stock_user).unlink()
        self.assertEqual(len(order.serial_registration_ids), 2)

    def test_duplicates_zero_width_case_space_and_in_one_dialog(self):
        self._delivered(["G-DUP"])
        for variant in ("g-dup", " G-DUP\u200b", "\ufeffG-DUP\t", "G-\u200dDUP"):
            with self.assertRefused("already registered", ValidationError):
                self.Registration.with_user(self.stock_user).create(
                    {"name": variant, "product_id": self.router.id}
                )
        with self.assertRefused("already registered", ValidationError):
            self.Registration.with_user(self.stock_user).create(
                [
                    {"name": "G-TWICE", "product_id": self.router.id},
                    {"name": "g-twice ", "product_id": self.router.id},
                ]
            )
        # two lines of the same product in one dialog, the same serial
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create({"product_id": self.router.id, "product_uom_qty": 1}),
                    Command.create({"product_id": self.router.id, "product_uom_qty": 1}),
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.serial_text = "G-2L\ng-2l"
        with self.assertRefused("Listed twice"):
            wizard.with_context(**action["context"]).action_confirm()
        self.assertFalse(picking.serial_registration_ids)

    def test_same_serial_other_product_other_company_and_after_reversal(self):
        order = self._delivered(["G-MC"])
        self.Registration.create({"name": "G-MC", "product_id": self.cable.id})
        other = self.Registration.with_user(self.user_b).create(
            {"name": "G-MC", "product_id": self.router.id}
        )
        self.assertEqual(other.company_id, self.company_b)
        ret = self._return(order.picking_ids, 1)
        ret.button_validate()
        self.Registration.create({"name": "g-mc", "product_id": self.router.id})

    def test_dialog_overflow_never_over_registers(self):
        picking = self._order(qty=2).picking_ids
        action = picking.button_validate()
        wizard = self.env["stock.picking.register.serials"].browse(action["res_id"])
        wizard.serial_text = "G-O1\nG-O2\nG-O3"
        with self.assertRefused("1 too many"):
            wizard.with_context(**action["context"]).action_confirm()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(picking.serial_registration_ids)

    def test_dialog_foreign_move_line_refused(self):
        other = self._order(qty=1).picking_ids
        picking = self._order(qty=1).picking_ids
        wizard = (
            self.env["stock.picking.register.serials"]
            .with_user(self.stock_user)
            .create(
                {
                    "picking_id": picking.id,
                    "register_only": True,
                    "line_ids": [
                        Command.create({"name": "G-F1"}),
                        Command.create({"name": "G-F2", "move_id": other.move_ids.id}),
                    ],
                }
            )
        )
        with self.assertRefused("Not on this document: G-F2"):
            wizard.action_confirm()
        self.assertFalse(self._reg("G-F1") | self._reg("G-F2"))

    def test_done_move_quantity_decrease_refused(self):
        order = self._delivered(["G-Q1", "G-Q2"])
        move = order.picking_ids.move_ids
        with self.assertRefused("quantity shipped"):
            move.with_user(self.stock_user).write({"quantity": 1})
        self.assertEqual(move.quantity, 2)

    def test_invoice_over_quantity_and_foreign_line_refused_by_post(self):
        order = self._delivered(["G-IV1", "G-IV2"])
        order_b = self._delivered(["G-IVB"])
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        line.with_user(self.billing_user).write(
            {
                "quantity": 1,
                "serial_registration_ids": [Command.set(order.serial_registration_ids.ids)],
            }
        )
        with self.assertRefused("2 serial numbers for a quantity of 1"):
            invoice.with_user(self.billing_user)._post()
        with self.assertRefused("was sold on"):
            line.with_user(self.billing_user).write(
                {"serial_registration_ids": [Command.set(order_b.serial_registration_ids.ids)]}
            )
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(
            set((order | order_b).serial_registration_ids.mapped("state")), {"registered"}
        )

    def test_r002_19_via_private_post(self):
        order = self._order(qty=4)
        for serials in (["G19-A1", "G19-A2"], ["G19-B1", "G19-B2"]):
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
            wizard.serial_text = "\n".join(serials)
            wizard.with_context(**action["context"]).action_confirm()
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        pick = self.Registration.search([("name", "in", ["G19-A1", "G19-B1"])])
        line.write({"quantity": 2, "serial_registration_ids": [Command.set(pick.ids)]})
        with self.assertRefused("at most one packing slip"):
            invoice.with_user(self.billing_user)._post()
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(set(pick.mapped("state")), {"registered"})

    def test_reset_to_draft_and_repost_consistent(self):
        order = self._delivered(["G-RP1"])
        invoice = order._create_invoices()
        invoice.with_user(self.billing_user).action_post()
        reg = order.serial_registration_ids
        self.assertEqual(reg.state, "invoiced")
        invoice.with_user(self.billing_user).button_draft()
        self.assertEqual(reg.state, "registered")
        self.assertEqual(reg.invoice_id, invoice)
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(reg.state, "invoiced")
        with self.assertRefused("reset the invoice to draft"):
            reg.with_user(self.billing_user).write({"invoice_line_id": False})

    def test_return_choices_guarded(self):
        order = self._delivered(["G-RT1", "G-RT2"])
        other = self._delivered(["G-RTX"])
        ret = self._return(order.picking_ids, 1)
        ret.move_ids.return_registration_ids = other.serial_registration_ids
        with self.assertRefused("not delivered by"):
            ret.button_validate()
        ret.move_ids.return_registration_ids = order.serial_registration_ids
        with self.assertRefused("2 serial numbers chosen for 1.0 units"):
            ret.button_validate()
        self.assertEqual(set(order.serial_registration_ids.mapped("state")), {"registered"})
        self.assertEqual(ret.state, "assigned")

    def test_invoiced_before_delivery_skip_context_refused(self):
        self.router.invoice_policy = "order"
        order = self._order(qty=2)
        order._create_invoices()._post()
        picking = order.picking_ids.with_user(self.stock_user)
        with self.assertRefused("already invoiced"):
            picking.with_context(serial_registration_picking_ids=picking.ids).button_validate()
        self.assertEqual(picking.state, "assigned")

    def test_other_company_reads_nothing(self):
        order = self._delivered(["G-MCO"])
        invoice = order._create_invoices()
        invoice.action_post()
        Reg = self.Registration.with_user(self.user_b)
        self.assertEqual(Reg.search_count([]), 0)
        self.assertFalse(Reg.read_group([], ["product_id"], ["product_id"]))
        self.assertFalse(Reg.name_search("G-MCO"))
        with self.assertRaises(AccessError):
            self.Registration.browse(order.serial_registration_ids.ids).with_user(self.user_b).read(
                ["name"]
            )
        with self.assertRaises(AccessError):
            self.env["stock.picking.register.serials"].with_user(self.user_b).create(
                {"picking_id": order.picking_ids.id, "register_only": True}
            )

    def test_other_company_cannot_link_or_register(self):
        order = self._order(qty=1)
        move = order.picking_ids.move_ids
        with self.assertRaises(REFUSED), self.env.cr.savepoint():
            self.Registration.with_user(self.user_b).create(
                {
                    "name": "G-MCL",
                    "product_id": self.router.id,
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                }
            )
        with self.assertRaises(REFUSED), self.env.cr.savepoint():
            self.Registration.with_user(self.user_b).create(
                {
                    "name": "G-MCL2",
                    "product_id": self.router.id,
                    "sale_line_id": order.order_line.id,
                }
            )
