from contextlib import contextmanager
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from .common import ItemTrackingCommon

REPORT = "stock_item_tracking.report_lot_history"


class MultiCompanyCommon(ItemTrackingCommon):
    """Two companies selling the same product, which has no company (shared): its lot
    LOT-MC-1 has no company either. Company A receives it from its vendor and delivers it
    to its customer; company B receives the same lot from its vendor and delivers it to
    its own customer. Each company has a stock user with the lowest groups."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Northwind (Company B)"})
        cls.warehouse_b = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_b.id)], limit=1
        )
        cls.vendor_b = cls.env["res.partner"].create({"name": "Litware Vendor of B"})
        cls.customer_b = cls.env["res.partner"].create({"name": "Tailspin Customer of B"})
        cls.user_a = cls._create_company_user("mc_user_a", cls.company_a)
        cls.user_b = cls._create_company_user("mc_user_b", cls.company_b)
        cls.lot = cls._create_lot(cls.product_lot, "LOT-MC-1")

    @classmethod
    def _create_company_user(cls, login, company):
        return new_test_user(
            cls.env,
            login=login,
            groups="stock.group_stock_user",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    @contextmanager
    def _in_company(self, company):
        env = self.env
        self.env = env(context=dict(env.context, allowed_company_ids=company.ids))
        try:
            yield
        finally:
            self.env = env

    def _ship(self, company, warehouse, vendor, customer, lot):
        """Receive `lot` from `vendor` and deliver it to `customer` in `company`."""
        pickings = self.env["stock.picking"]
        with self._in_company(company):
            for picking_type, partner in (
                (warehouse.in_type_id, vendor),
                (warehouse.out_type_id, customer),
            ):
                picking = self._create_picking(picking_type, lot.product_id, 1)
                picking.partner_id = partner
                self._set_lines(picking, [{"lot_id": lot}])
                self._validate(picking)
                pickings |= picking
        return pickings

    def _ship_in_a(self):
        return self._ship(self.company_a, self.warehouse, self.vendor, self.partner, self.lot)

    def _ship_in_b(self):
        return self._ship(
            self.company_b, self.warehouse_b, self.vendor_b, self.customer_b, self.lot
        )

    def _as(self, user, company, records):
        """`records` as `user` in `company`, read afresh as in a new request (the cache of
        x2many fields is shared by all users of a transaction)."""
        self.env.invalidate_all()
        return records.with_user(user).with_company(company)

    def _report_html(self, user, lot):
        self.env.invalidate_all()
        html, _type = (
            self.env["ir.actions.report"].with_user(user)._render_qweb_html(REPORT, lot.ids)
        )
        return html.decode()


class TestMultiCompany(MultiCompanyCommon):
    def test_number_received_in_b_has_its_history_in_b_and_no_note(self):
        with self._in_company(self.company_b):
            receipt = self._set_lines(
                self._create_picking(self.warehouse_b.in_type_id, self.product_serial, 1),
                [{"lot_name": "SN-MC-NOTE"}],
            )
        receipt = receipt.with_user(self.user_b).with_context(
            tracking_disable=False, allowed_company_ids=self.company_b.ids
        )
        self.assertIs(receipt.button_validate(), True)
        lot = receipt.move_line_ids.lot_id.sudo()
        self.assertEqual(lot.name, "SN-MC-NOTE")
        self.assertFalse(
            self.env["mail.message"].search([("model", "=", "stock.lot"), ("res_id", "=", lot.id)])
        )
        self.assertRecordValues(
            lot.status_log_ids,
            [
                {
                    "company_id": self.company_b.id,
                    "user_id": self.user_b.id,
                    "reference": receipt.name,
                }
            ],
        )
        self.assertFalse(
            self._as(self.user_a, self.company_a, lot.with_env(self.env)).status_log_ids
        )

    def test_shared_lot_fixture(self):
        self.assertFalse(self.product_lot.company_id)
        self.assertFalse(self.lot.company_id)
        self.assertEqual(self.warehouse_b.company_id, self.company_b)

    def test_status_logs_belong_to_the_operation_company(self):
        """Each company reads the status history its own operations wrote, none of the
        other's, on the same shared serial."""
        receipt_a, delivery_a = self._ship_in_a()
        receipt_b, delivery_b = self._ship_in_b()
        logs = self.lot.status_log_ids
        self.assertEqual(len(logs), 4)
        logs_a = logs.filtered(lambda log: log.company_id == self.company_a)
        logs_b = logs.filtered(lambda log: log.company_id == self.company_b)
        self.assertEqual(set(logs_a.mapped("reference")), {receipt_a.name, delivery_a.name})
        self.assertEqual(set(logs_b.mapped("reference")), {receipt_b.name, delivery_b.name})

        lot_b = self._as(self.user_b, self.company_b, self.lot)
        self.assertEqual(lot_b.status_log_ids, logs_b)
        Log = self._as(self.user_b, self.company_b, self.env["stock.lot.status.log"])
        self.assertEqual(Log.search([("lot_id", "=", self.lot.id)]), logs_b)
        with self.assertRaises(AccessError):
            Log.browse(logs_a.ids).read(["reference"])
        lot_a = self._as(self.user_a, self.company_a, self.lot)
        self.assertEqual(lot_a.status_log_ids, logs_a)
        self.assertEqual(
            set(lot_a.status_log_ids.mapped("reference")), {receipt_a.name, delivery_a.name}
        )

    def test_status_log_company_defaults_to_the_current_company(self):
        Log = self.env["stock.lot.status.log"].sudo()
        log = Log.with_company(self.company_b).create(
            {"lot_id": self.lot.id, "new_status": "received"}
        )
        self.assertEqual(log.company_id, self.company_b)
        self.assertFalse(self._as(self.user_a, self.company_a, self.lot).status_log_ids)
        self.assertEqual(self._as(self.user_b, self.company_b, self.lot).status_log_ids, log)

    def test_maintenance_lines_by_company(self):
        """A shared serial gets maintenance lines of any company; each company reads only
        its own. A serial of company A only gets lines of company A."""
        Maintenance = self.env["stock.lot.maintenance"]
        vals = {"lot_id": self.lot.id, "date": date(2030, 1, 1)}
        line_a = Maintenance.with_company(self.company_a).create(
            dict(vals, description="Visit of A")
        )
        line_b = Maintenance.with_company(self.company_b).create(
            dict(vals, description="Visit of B")
        )
        self.assertEqual(line_a.company_id, self.company_a)
        self.assertEqual(line_b.company_id, self.company_b)
        self.assertEqual(self.lot.maintenance_ids, line_a | line_b)
        lot_b = self._as(self.user_b, self.company_b, self.lot)
        self.assertEqual(lot_b.maintenance_ids.mapped("description"), ["Visit of B"])
        maintenance_b = self._as(self.user_b, self.company_b, Maintenance)
        self.assertEqual(maintenance_b.search([("lot_id", "=", self.lot.id)]), line_b)
        with self.assertRaises(AccessError):
            maintenance_b.browse(line_a.ids).read(["description"])
        lot_a = self._as(self.user_a, self.company_a, self.lot)
        self.assertEqual(lot_a.maintenance_ids.mapped("description"), ["Visit of A"])

        # A serial of company A: its lines are A's, whatever the current company ...
        own_lot = self._create_lot(self.product_serial, "SN-MC-A", company_id=self.company_a.id)
        own_vals = {"lot_id": own_lot.id, "date": date(2030, 1, 1), "description": "A only"}
        line = Maintenance.with_company(self.company_b).create(own_vals)
        self.assertEqual(line.company_id, self.company_a)
        # ... and a line of company B is refused, leaving nothing behind.
        with self.assertRaisesRegex(UserError, "Incompatible companies"), self.cr.savepoint():
            Maintenance.create(dict(own_vals, company_id=self.company_b.id))
        with self.assertRaisesRegex(UserError, "Incompatible companies"), self.cr.savepoint():
            line.company_id = self.company_b
        self.env.invalidate_all()
        self.assertEqual(own_lot.maintenance_ids, line)
        self.assertEqual(line.company_id, self.company_a)

    def test_history_lines_and_report_of_the_reader_company(self):
        """The history (button, list, report) of a shared serial lists only the movements
        of the reader's companies."""
        pickings_a = self._ship_in_a()
        pickings_b = self._ship_in_b()
        lines_a = pickings_a.move_line_ids
        lines_b = pickings_b.move_line_ids
        self.assertEqual(self.lot._get_history_lines(), lines_a | lines_b)

        lot_b = self._as(self.user_b, self.company_b, self.lot)
        self.assertEqual(lot_b._get_history_lines(), lines_b)
        self.assertEqual(lot_b.move_line_done_count, 2)
        action = lot_b.action_view_history()
        MoveLine = self._as(self.user_b, self.company_b, self.env["stock.move.line"])
        self.assertEqual(MoveLine.search(action["domain"]), lines_b)
        html = self._report_html(self.user_b, self.lot)
        for picking in pickings_b:
            self.assertIn(picking.name, html)
        for picking in pickings_a:
            self.assertNotIn(picking.name, html)

        lot_a = self._as(self.user_a, self.company_a, self.lot)
        self.assertEqual(lot_a._get_history_lines(), lines_a)
        html = self._report_html(self.user_a, self.lot)
        for picking in pickings_a:
            self.assertIn(picking.name, html)
        for picking in pickings_b:
            self.assertNotIn(picking.name, html)

    def test_report_of_a_lot_of_another_company_is_refused(self):
        own_lot = self._create_lot(self.product_serial, "SN-MC-A", company_id=self.company_a.id)
        self.assertIn("SN-MC-A", self._report_html(self.user_a, own_lot))
        with self.assertRaises(AccessError):
            self._report_html(self.user_b, own_lot)
        with self.assertRaises(AccessError):
            own_lot.with_user(self.user_b)._get_history_lines()

    def test_one_serials_button_on_the_partner_form(self):
        """Odoo's Lot/Serial Numbers button is the only serials button (the add-on extends
        its list)."""
        arch = self.env["res.partner"].get_view(self.env.ref("base.view_partner_form").id, "form")[
            "arch"
        ]
        self.assertEqual(arch.count('name="action_view_stock_lots"'), 1)
        self.assertNotIn("action_view_item_tracking_lots", arch)


class TestMultiCompanySources(MultiCompanyCommon):
    """Needs the lead's change: the lot's source fields (customer, delivery date, sales
    order, supplier, receipt date, ...) hold one value per company."""

    def test_sources_of_another_company_are_empty(self):
        self._ship_in_a()
        lot_b = self._as(self.user_b, self.company_b, self.lot)
        self.assertRecordValues(
            lot_b,
            [
                {
                    "customer_id": False,
                    "delivery_date": False,
                    "sale_order_id": False,
                    "supplier_id": False,
                    "receipt_date": False,
                    "purchase_order_id": False,
                }
            ],
        )
        lot_a = self._as(self.user_a, self.company_a, self.lot)
        self.assertEqual(lot_a.customer_id, self.partner)
        self.assertEqual(lot_a.supplier_id, self.vendor)
        self.assertTrue(lot_a.delivery_date)

    def test_each_company_reads_its_own_customer(self):
        self._ship_in_a()
        self._ship_in_b()
        self.assertEqual(self._as(self.user_a, self.company_a, self.lot).customer_id, self.partner)
        self.assertEqual(
            self._as(self.user_b, self.company_b, self.lot).customer_id, self.customer_b
        )
        self.assertEqual(self._as(self.user_b, self.company_b, self.lot).supplier_id, self.vendor_b)

    def test_two_companies_delivered_in_one_validation(self):
        """Deliveries of the shared lot by both companies validated together (a user of both
        companies): each company's sources go into its own key of the lot's row, the other's
        are kept, and each company's stock user reads only its own customer."""
        both = self.company_a | self.company_b
        deliveries = self.env["stock.picking"]
        for company, warehouse, vendor, customer in (
            (self.company_a, self.warehouse, self.vendor, self.partner),
            (self.company_b, self.warehouse_b, self.vendor_b, self.customer_b),
        ):
            with self._in_company(company):
                receipt = self._create_picking(warehouse.in_type_id, self.product_lot, 1)
                receipt.partner_id = vendor
                self._set_lines(receipt, [{"lot_id": self.lot}])
                self._validate(receipt)
                delivery = self._create_picking(warehouse.out_type_id, self.product_lot, 1)
                delivery.partner_id = customer
                self._set_lines(delivery, [{"lot_id": self.lot}])
                deliveries |= delivery
        deliveries.with_context(allowed_company_ids=both.ids).button_validate()
        self.assertEqual(set(deliveries.mapped("state")), {"done"})
        self.env.flush_all()
        self.env.cr.execute("SELECT customer_id FROM stock_lot WHERE id = %s", [self.lot.id])
        self.assertEqual(
            self.env.cr.fetchone()[0],
            {str(self.company_a.id): self.partner.id, str(self.company_b.id): self.customer_b.id},
        )
        self.assertEqual(self._as(self.user_a, self.company_a, self.lot).customer_id, self.partner)
        self.assertEqual(
            self._as(self.user_b, self.company_b, self.lot).customer_id, self.customer_b
        )
        self.assertEqual(self._as(self.user_b, self.company_b, self.lot).supplier_id, self.vendor_b)

    def test_unit_costs_kept_per_company(self):
        """The unit cost of a shared lot is a value per company: recording one company's
        keeps the other's, in the lot's row as in what each company reads."""
        Lot = self.env["stock.lot"]
        a, b = self.company_a.id, self.company_b.id
        Lot._item_tracking_write_unit_costs({(self.lot.id, a): 12.5, (self.lot.id, b): 20.0})
        Lot._item_tracking_write_unit_costs({(self.lot.id, a): 13.0})
        self.env.cr.execute("SELECT unit_cost FROM stock_lot WHERE id = %s", [self.lot.id])
        self.assertEqual(self.env.cr.fetchone()[0], {str(a): 13.0, str(b): 20.0})
        self.env.invalidate_all()
        self.assertEqual(self.lot.with_company(self.company_a).unit_cost, 13.0)
        self.assertEqual(self.lot.with_company(self.company_b).unit_cost, 20.0)

    def test_serials_button_lists_the_current_company_deliveries(self):
        """The partner's Serials list shows a shared lot's deliveries of the reader's allowed
        companies only (record rule, whatever the action's domain)."""
        self._ship_in_a()
        partner_b = self._as(self.user_b, self.company_b, self.partner)
        action = partner_b.action_view_stock_lots()
        Report = self._as(self.user_b, self.company_b, self.env["stock.lot.report"])
        self.assertFalse(Report.search(action["domain"]))
        self.assertFalse(Report.search([("lot_id", "=", self.lot.id)]))
        partner_a = self._as(self.user_a, self.company_a, self.partner)
        action = partner_a.action_view_stock_lots()
        Report = self._as(self.user_a, self.company_a, self.env["stock.lot.report"])
        lines = Report.search(action["domain"])
        self.assertEqual(lines.lot_id, self.lot)
        self.assertEqual(lines.company_id, self.company_a)
        self.assertEqual(lines.tracking_status, "shipped")

    def test_report_prints_only_the_reader_company_sources(self):
        self._ship_in_a()
        html = self._report_html(self.user_b, self.lot)
        self.assertIn("LOT-MC-1", html)
        for name in (self.partner.name, self.vendor.name):
            self.assertNotIn(name, html)
        html = self._report_html(self.user_a, self.lot)
        for name in (self.partner.name, self.vendor.name):
            self.assertIn(name, html)


class TestNewLotCompany(MultiCompanyCommon):
    """A new lot gets the company Odoo's own rule gives it whatever path or context the
    lowest user of another company uses (the add-on computes it before the INSERT)."""

    def _lots_named(self, name):
        return self.env["stock.lot"].sudo().search([("name", "=", name)])

    def test_lowest_user_of_another_company(self):
        product_a = self._create_product(
            "Drill of A", self.code_serial, company_id=self.company_a.id
        )
        product_b = self._create_product(
            "Drill of B", self.code_serial, company_id=self.company_b.id
        )
        Lot = self.env["stock.lot"].with_user(self.user_b)
        with self.assertRaises(UserError):
            Lot.create({"name": "SN-NC-A", "product_id": product_a.id})
        self.assertFalse(self._lots_named("SN-NC-A"))
        # A context default naming the other company doesn't move the lot there.
        lot_b = Lot.with_context(default_company_id=self.company_a.id).create(
            {"name": "SN-NC-B", "product_id": product_b.id}
        )
        self.assertEqual(lot_b.sudo().company_id, self.company_b)
        # An import (load) of a lot of the shared product: no company, as Odoo gives it.
        result = Lot.load(["name", "product_id/.id"], [["SN-NC-S", str(self.product_serial.id)]])
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(len(self._lots_named("SN-NC-S")), 1)
        self.assertFalse(self._lots_named("SN-NC-S").company_id)

    def test_branch_user_gets_the_branch(self):
        branch = self.env["res.company"].create(
            {"name": "Northwind Branch", "parent_id": self.company_b.id}
        )
        # A user of the parent and its branch working in the branch only: Odoo's rule gives
        # the branch to a lot of a parent-company product.
        user = new_test_user(
            self.env,
            login="mc_user_branch",
            groups="stock.group_stock_user",
            company_id=branch.id,
            company_ids=[Command.set((self.company_b | branch).ids)],
        )
        product_b = self._create_product("Saw of B", self.code_serial, company_id=self.company_b.id)
        Lot = self.env["stock.lot"].with_user(user).with_context(allowed_company_ids=branch.ids)
        lot = Lot.create({"name": "SN-NC-BR", "product_id": product_b.id})
        self.assertEqual(lot.sudo().company_id, branch)
        # Working in both companies, the lot takes the product's company.
        lot = Lot.with_context(allowed_company_ids=(branch | self.company_b).ids).create(
            {"name": "SN-NC-BR2", "product_id": product_b.id}
        )
        self.assertEqual(lot.sudo().company_id, self.company_b)
