import re

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import html2plaintext

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestInvoiceLots(ItemTrackingCommon):
    """Lots/serial numbers stored on invoice lines (issue 14, item 7)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref("stock_account.group_lot_on_invoice") + cls.env.ref(
            "uom.group_uom"
        )
        # Edits are a user's: the test environment is the superuser, whose writes are the
        # add-on's own (system) ones.
        cls.invoicing_user = new_test_user(
            cls.env,
            "sit_invoicing",
            groups="account.group_account_invoice,stock.group_stock_user,"
            "stock.group_production_lot",
        )
        (cls.product_serial | cls.product_lot).invoice_policy = "delivery"
        cls.serials = cls.env["stock.lot"].create(
            [{"name": f"SN-INV-{i}", "product_id": cls.product_serial.id} for i in range(1, 5)]
        )
        for serial in cls.serials:
            cls._put_in_stock(cls.product_serial, serial)
        cls.lot_a, cls.lot_b = cls.env["stock.lot"].create(
            [
                {"name": name, "product_id": cls.product_lot.id}
                for name in ("LOT-INV-A", "LOT-INV-B")
            ]
        )
        cls._put_in_stock(cls.product_lot, cls.lot_a, 30)
        cls._put_in_stock(cls.product_lot, cls.lot_b, 30)

    # ---- helpers ---------------------------------------------------------------------------

    def _sell(self, product, qty, **line_vals):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": qty, **line_vals})
                ],
            }
        )
        order.action_confirm()
        return order

    def _deliver(self, picking, lines):
        """Validate `picking` with `lines` [(lot, qty)]; the rest goes to a backorder."""
        self._set_lines(picking, [{"lot_id": lot, "quantity": qty} for lot, qty in lines])
        res = picking.with_context(cancel_backorder=False).button_validate()
        if res is not True:
            Form.from_action(self.env, res).save().process()
        self.assertEqual(picking.state, "done")
        return picking.backorder_ids

    def _return(self, picking, lines):
        """Return `lines` [(lot, qty)] of the done `picking` from the customer."""
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_ids=picking.ids, active_id=picking.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = sum(qty for __, qty in lines)
        return_picking = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self._deliver(return_picking, lines)
        return return_picking

    def _stored(self, move):
        """[(lot name, quantity)] stored on the move's lines, in order."""
        return [
            (allocation.lot_id.name, allocation.quantity)
            for allocation in move.invoice_line_ids.lot_allocation_ids
        ]

    def _printed(self, move):
        html = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice_with_payments", move.ids
        )[0]
        return re.sub(r"\[\d+\] data:\S+", "", html2plaintext(html.decode()))

    def _set_quantity(self, move, qty):
        move.write(
            {"invoice_line_ids": [Command.update(move.invoice_line_ids.id, {"quantity": qty})]}
        )

    def _refund(self, invoice):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "test"})
        )
        wizard.refund_moves()
        return wizard.new_move_ids

    # ---- customer invoices -------------------------------------------------------------------

    def test_partial_invoice_then_second_invoice_reprint_unchanged(self):
        s1, s2, s3, s4 = self.serials
        order = self._sell(self.product_serial, 4)
        backorder = self._deliver(order.picking_ids, [(s1, 1), (s2, 1), (s3, 1)])
        invoice1 = order._create_invoices()
        # Proposed on the draft: the delivered, not yet invoiced ones, first delivered first.
        self.assertEqual(self._stored(invoice1), [(s1.name, 1), (s2.name, 1), (s3.name, 1)])
        self._set_quantity(invoice1, 2)
        self.assertEqual(self._stored(invoice1), [(s1.name, 1), (s2.name, 1)])
        self.assertIn(s1.name, self._printed(invoice1), "a draft prints its lots")
        invoice1.action_post()
        self.assertEqual(self._stored(invoice1), [(s1.name, 1), (s2.name, 1)])
        text = self._printed(invoice1)
        self.assertRegex(text, rf"Drill \(SN\)\n1.00Units\n{s1.name}")
        self.assertNotIn(s3.name, text)

        self._deliver(backorder, [(s4, 1)])
        invoice2 = order._create_invoices()
        invoice2.action_post()
        self.assertEqual(self._stored(invoice2), [(s3.name, 1), (s4.name, 1)])
        # The first invoice reprints the same, also after a reset to draft and a new posting.
        self.assertEqual(self._printed(invoice1), text)
        invoice1.button_draft()
        invoice1.action_post()
        self.assertEqual(self._stored(invoice1), [(s1.name, 1), (s2.name, 1)])
        values = invoice1._get_invoiced_lot_values()
        self.assertEqual(
            [(v["lot_name"], v["lot_id"], v["product_name"], v["uom_name"]) for v in values],
            [(s.name, s.id, "Drill (SN)", "Units") for s in (s1, s2)],
        )
        self.assertEqual(values[0]["quantity"], "1.00")

    def test_credit_note_takes_the_reversed_invoice_lots(self):
        s1, s2 = self.serials[:2]
        order = self._sell(self.product_serial, 2)
        self._deliver(order.picking_ids, [(s2, 1), (s1, 1)])
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(self._stored(invoice), [(s2.name, 1), (s1.name, 1)])
        refund = self._refund(invoice)
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.invoice_line_ids.lot_origin_line_id, invoice.invoice_line_ids)
        self.assertEqual(self._stored(refund), [(s2.name, 1), (s1.name, 1)])
        # A partial credit note follows its quantity, from the reversed invoice's lots.
        self._set_quantity(refund, 1)
        self.assertEqual(self._stored(refund), [(s2.name, 1)])
        refund.action_post()
        self.assertRegex(self._printed(refund), rf"1.00Units\n{s2.name}")
        self.assertNotIn(s1.name, self._printed(refund))
        # A second credit note credits what is left.
        refund2 = self._refund(invoice)
        self.assertEqual(self._stored(refund2), [(s1.name, 1)])

    def test_renamed_credit_note_pairs_lines(self):
        """odoo/odoo#264776: lines are paired with the reversed ones, not by name."""
        s1, s2, s3 = self.serials[:3]
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_serial.id,
                            "product_uom_qty": 1,
                            "name": "First",
                        }
                    ),
                    Command.create(
                        {
                            "product_id": self.product_serial.id,
                            "product_uom_qty": 2,
                            "name": "Second",
                        }
                    ),
                ],
            }
        )
        order.action_confirm()
        first, second = order.order_line
        picking = order.picking_ids
        move_first = picking.move_ids.filtered(lambda m: m.sale_line_id == first)
        move_second = picking.move_ids - move_first
        move_first.move_line_ids.unlink()
        move_second.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "lot_id": lot.id,
                    "quantity": 1,
                    "product_id": self.product_serial.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                }
                for move, lot in ((move_first, s3), (move_second, s1), (move_second, s2))
            ]
        )
        picking.move_ids.picked = True
        self._validate(picking)
        invoice = order._create_invoices()
        invoice.action_post()
        line_first = invoice.invoice_line_ids.filtered(lambda line: line.sale_line_ids == first)
        self.assertEqual(line_first.lot_allocation_ids.lot_id, s3)
        refund = self._refund(invoice)
        # Renamed (swapped names) and re-ordered: each line still credits its own lots.
        refund_first = refund.invoice_line_ids.filtered(lambda line: line.sale_line_ids == first)
        refund_second = refund.invoice_line_ids - refund_first
        refund.write(
            {
                "ref": "Renamed credit note",
                "invoice_line_ids": [
                    Command.update(refund_first.id, {"name": "Second", "sequence": 99}),
                    Command.update(refund_second.id, {"name": "First", "sequence": 1}),
                ],
            }
        )
        refund.action_post()
        self.assertEqual(refund_first.lot_allocation_ids.lot_id, s3)
        self.assertEqual(refund_second.lot_allocation_ids.lot_id, s1 | s2)
        text = self._printed(refund)
        for serial in (s1, s2, s3):
            self.assertIn(serial.name, text)

    def test_modify_invoice_keeps_lots(self):
        """Full refund and new draft: the new invoice gets the same lots again."""
        s1 = self.serials[0]
        order = self._sell(self.product_serial, 1)
        self._deliver(order.picking_ids, [(s1, 1)])
        invoice = order._create_invoices()
        invoice.action_post()
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        new_invoice = self.env["account.move"].browse(wizard.modify_moves()["res_id"])
        refund = invoice.reversal_move_ids
        self.assertEqual(refund.state, "posted")
        self.assertEqual(self._stored(refund), [(s1.name, 1)])
        self.assertEqual(self._stored(new_invoice), [(s1.name, 1)])

    def test_credit_note_of_a_return_between_two_invoices(self):
        s1, s2, s3 = self.serials[:3]
        order = self._sell(self.product_serial, 3)
        delivery = order.picking_ids
        backorder = self._deliver(delivery, [(s1, 1), (s2, 1)])
        invoice1 = order._create_invoices()
        invoice1.action_post()
        self.assertEqual(self._stored(invoice1), [(s1.name, 1), (s2.name, 1)])
        # s2 comes back; the credit note of the return credits s2, not the first one.
        self._return(delivery, [(s2, 1)])
        self.assertEqual(order.order_line.qty_delivered, 1)
        refund = order._create_invoices(final=True)
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(self._stored(refund), [(s2.name, 1)])
        refund.action_post()
        self.assertIn(s2.name, self._printed(refund))
        self.assertNotIn(s1.name, self._printed(refund))
        # Then s3 is delivered and invoiced.
        self._deliver(backorder, [(s3, 1)])
        invoice2 = order._create_invoices()
        invoice2.action_post()
        self.assertEqual(self._stored(invoice2), [(s3.name, 1)])
        self.assertEqual(self._stored(invoice1), [(s1.name, 1), (s2.name, 1)])

    def test_invoice_before_delivery(self):
        self.product_lot.invoice_policy = "order"
        order = self._sell(self.product_lot, 4)
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertFalse(invoice.invoice_line_ids.lot_allocation_ids)
        backorder = self._deliver(order.picking_ids, [(self.lot_a, 3)])
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 3)])
        self._deliver(backorder, [(self.lot_b, 1)])
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 3), (self.lot_b.name, 1)])
        self.assertRegex(self._printed(invoice), rf"3.00Units\n{self.lot_a.name}")

    def test_dozen_line(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        order = self._sell(self.product_lot, 2, product_uom=dozen.id)
        self._deliver(order.picking_ids, [(self.lot_a, 20), (self.lot_b, 4)])
        invoice = order._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.product_uom_id, dozen)
        self._set_quantity(invoice, 1.5)
        invoice.action_post()
        # In the product's unit: 1.5 dozen = 18 units.
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 18)])
        self.assertEqual(invoice.invoice_line_ids.lot_allocation_ids.product_uom_id.name, "Units")

    def test_kit_line_stores_component_lots(self):
        kit = self.env["product.product"].create({"name": "Paint kit", "type": "consu"})
        self.env["mrp.bom"].create(
            {
                "product_tmpl_id": kit.product_tmpl_id.id,
                "type": "phantom",
                "bom_line_ids": [
                    Command.create({"product_id": self.product_lot.id, "product_qty": 2})
                ],
            }
        )
        order = self._sell(kit, 3)
        self._deliver(order.picking_ids, [(self.lot_b, 6)])
        invoice = order._create_invoices()
        self._set_quantity(invoice, 2)
        invoice.action_post()
        allocation = invoice.invoice_line_ids.lot_allocation_ids
        self.assertEqual(allocation.product_id, self.product_lot)
        self.assertEqual((allocation.lot_id, allocation.quantity), (self.lot_b, 4))
        self.assertRegex(self._printed(invoice), rf"Paint \(LOT\)\n4.00Units\n{self.lot_b.name}")

    def test_user_edit_kept(self):
        s1, s2, s3 = self.serials[:3]
        order = self._sell(self.product_serial, 3)
        self._deliver(order.picking_ids, [(s1, 1), (s2, 1), (s3, 1)])
        invoice = order._create_invoices()
        self._set_quantity(invoice, 1)
        line = invoice.invoice_line_ids
        self.assertFalse(line.lot_allocation_edited)
        # The user picks s3 in the lots dialog of the line.
        with Form(
            line.with_user(self.invoicing_user),
            view="stock_item_tracking.view_move_line_form_lot_allocation",
        ) as form:
            with form.lot_allocation_ids.edit(0) as allocation:
                allocation.lot_id = s3
        self.assertTrue(line.lot_allocation_edited)
        self.assertEqual(self._stored(invoice), [(s3.name, 1)])
        self._set_quantity(invoice, 2)
        self.assertEqual(self._stored(invoice), [(s3.name, 1)], "edited lots do not follow")
        self._set_quantity(invoice, 1)
        invoice.action_post()
        self.assertEqual(self._stored(invoice), [(s3.name, 1)])
        # The next invoice takes the first ones not invoiced.
        invoice2 = order._create_invoices()
        self.assertEqual(self._stored(invoice2), [(s1.name, 1), (s2.name, 1)])
        # Posted: the lots can no longer be changed by a user.
        with self.assertRefused("no longer be changed"):
            line.lot_allocation_ids.with_user(self.invoicing_user).quantity = 0

    def test_product_change_drops_or_proposes_lots(self):
        order = self._sell(self.product_lot, 5)
        self._deliver(order.picking_ids, [(self.lot_a, 5)])
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 5)])
        service = self.env["product.product"].create({"name": "Painting", "type": "service"})
        invoice.write({"invoice_line_ids": [Command.update(line.id, {"product_id": service.id})]})
        self.assertFalse(line.lot_allocation_ids)
        self.assertFalse(line.lot_allocation_visible)

    def test_over_allocation_refused(self):
        order = self._sell(self.product_lot, 5)
        self._deliver(order.picking_ids, [(self.lot_a, 5)])
        invoice = order._create_invoices()
        line = invoice.invoice_line_ids.with_user(self.invoicing_user)
        line.write(
            {"lot_allocation_ids": [Command.update(line.lot_allocation_ids.id, {"quantity": 6})]}
        )
        with self.assertRefused(r"(?s)add up to more.*LOT-INV-A"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 6)])
        # A lot this order never delivered is refused too.
        line.write(
            {
                "lot_allocation_ids": [
                    Command.update(line.lot_allocation_ids.id, {"quantity": 4}),
                    Command.create({"lot_id": self.lot_b.id, "quantity": 1}),
                ]
            }
        )
        with self.assertRefused(r"(?s)not delivered.*LOT-INV-B"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 4), (self.lot_b.name, 1)])
        # A lot of another product is refused at once.
        with self.assertRefused("not of a product"):
            line.write(
                {
                    "lot_allocation_ids": [
                        Command.create({"lot_id": self.serials[0].id, "quantity": 1})
                    ]
                }
            )
        line.write({"lot_allocation_ids": [Command.unlink(line.lot_allocation_ids[1].id)]})
        invoice.action_post()
        self.assertEqual(self._stored(invoice), [(self.lot_a.name, 4)])

    def test_lowest_invoicing_user_posts(self):
        invoicing_user = new_test_user(
            self.env, "sit_invoicing_lowest", groups="account.group_account_invoice"
        )
        s1 = self.serials[0]
        order = self._sell(self.product_serial, 1)
        self._deliver(order.picking_ids, [(s1, 1)])
        invoice = order._create_invoices()
        invoice.with_user(invoicing_user).action_post()
        self.assertEqual(invoice.state, "posted")
        as_user = invoice.with_user(invoicing_user)
        self.assertEqual(as_user.invoice_line_ids.lot_allocation_ids.lot_name, s1.name)
        values = as_user._get_invoiced_lot_values()
        self.assertEqual([v["lot_name"] for v in values], [s1.name])

    def test_other_company_cannot_read(self):
        s1 = self.serials[0]
        order = self._sell(self.product_serial, 1)
        self._deliver(order.picking_ids, [(s1, 1)])
        invoice = order._create_invoices()
        invoice.action_post()
        allocation = invoice.invoice_line_ids.lot_allocation_ids
        other = self.env["res.company"].create({"name": "Other company (lots)"})
        other_user = new_test_user(
            self.env,
            "sit_other_invoicing",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        Allocation = self.env["account.move.line.lot"].with_user(other_user)
        self.assertFalse(Allocation.search([("id", "=", allocation.id)]))
        with self.assertRaises(AccessError):
            Allocation.browse(allocation.id).read(["quantity"])

    def test_posted_lots_refused_to_users_on_every_path(self):
        """A posted invoice's stored lots can't be changed by the lowest invoicing user,
        whatever the path (write, create, unlink, load, a context key), nor by a user of
        another company; a later edit of the done delivery doesn't change them either."""
        s1, s2 = self.serials[:2]
        order = self._sell(self.product_serial, 1)
        picking = order.picking_ids
        self._deliver(picking, [(s1, 1)])
        invoice = order._create_invoices()
        invoice.action_post()
        line = invoice.invoice_line_ids
        allocation = line.lot_allocation_ids
        user = new_test_user(self.env, "sit_inv_hostile", groups="account.group_account_invoice")
        Allocation = self.env["account.move.line.lot"].with_user(user)
        with self.assertRefused("no longer be changed"):
            allocation.with_user(user).write({"quantity": 5})
        with self.assertRefused("no longer be changed"):
            allocation.with_user(user).with_context(item_tracking_proposal=True).unlink()
        with self.assertRefused("no longer be changed"):
            Allocation.create({"account_move_line_id": line.id, "lot_id": s2.id, "quantity": 1})
        result = Allocation.load(
            ["account_move_line_id/.id", "lot_id/.id", "quantity"],
            [[str(line.id), str(s2.id), "1"]],
        )
        self.assertFalse(result["ids"], "load must be refused")
        self.assertEqual(self._stored(invoice), [(s1.name, 1)])
        # another company's user can't write them
        other = self.env["res.company"].create({"name": "Other company (lots write)"})
        other_user = new_test_user(
            self.env,
            "sit_other_inv_write",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        with self.assertRaises(AccessError):
            allocation.with_user(other_user).write({"quantity": 2})
        # a correction of the done delivery (another serial) keeps the printed invoice
        self._put_in_stock(self.product_serial, s2)
        picking.move_line_ids.write({"lot_id": s2.id})
        self.assertEqual(self._stored(invoice), [(s1.name, 1)])
        self.assertIn(s1.name, self._printed(invoice))

    # ---- vendor bills --------------------------------------------------------------------------

    def test_vendor_bill_lots_read_only(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create({"product_id": self.product_lot.id, "product_qty": 8})
                ],
            }
        )
        order.button_confirm()
        receipt = order.picking_ids
        self._set_lines(
            receipt,
            [{"lot_name": "LOT-RCV-1", "quantity": 5}, {"lot_name": "LOT-RCV-2", "quantity": 3}],
        )
        self._validate(receipt)
        order.action_create_invoice()
        bill = order.invoice_ids
        self.assertEqual(self._stored(bill), [("LOT-RCV-1", 5), ("LOT-RCV-2", 3)])
        line = bill.invoice_line_ids.with_user(self.invoicing_user)
        first, second = line.lot_allocation_ids
        with self.assertRefused("only their quantities"):
            first.lot_id = self.lot_a
        with self.assertRefused("only their quantities"):
            line.write(
                {"lot_allocation_ids": [Command.create({"lot_id": self.lot_a.id, "quantity": 1})]}
            )
        first.quantity = 4
        second.unlink()
        self.assertTrue(line.lot_allocation_edited)
        bill.invoice_date = bill.date
        bill.action_post()
        self.assertEqual(self._stored(bill), [("LOT-RCV-1", 4)])

    # ---- performance -------------------------------------------------------------------------

    def test_queries_do_not_grow_per_serial(self):
        """Invoicing, posting and printing the lots: as many queries for 9 serials as for 3."""
        product = self._create_product(
            "Drill bulk (SN)", self.code_serial, invoice_policy="delivery"
        )
        serials = self.env["stock.lot"].create(
            [{"name": f"SN-BULK-{i:02}", "product_id": product.id} for i in range(13)]
        )
        for serial in serials:
            self._put_in_stock(product, serial)

        def invoice_lots(lots):
            order = self._sell(product, len(lots))
            self._deliver(order.picking_ids, [(lot, 1) for lot in lots])
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            invoice = order._create_invoices()
            invoice.action_post()
            values = invoice._get_invoiced_lot_values()
            self.env.flush_all()
            self.assertEqual([v["lot_name"] for v in values], lots.mapped("name"))
            return self.cr.sql_log_count - before

        invoice_lots(serials[:1])  # warm-up: first invoice of the sequence, caches
        small = invoice_lots(serials[1:4])
        large = invoice_lots(serials[4:13])
        self.assertLessEqual(large, small + 2, f"{small} queries for 3 serials, {large} for 9")
