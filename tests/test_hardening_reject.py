from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import SQL

from ..hooks import post_init_hook
from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestHardeningReject(ItemTrackingCommon):
    """Issue 12, holes 9 and 12: the reject wizard, the rejection location and its flag,
    reinstallation, maintenance records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company._create_item_tracking_reject_location()
        cls.reject_location = cls.env.company.item_tracking_reject_location_id
        cls.stock_user = new_test_user(cls.env, "rej_user", groups="stock.group_stock_user")
        cls.stock_manager = new_test_user(
            cls.env, "rej_stock_manager", groups="stock.group_stock_manager"
        )
        cls.it_manager = new_test_user(
            cls.env,
            "rej_it_manager",
            groups="stock.group_stock_manager,stock_item_tracking.group_item_tracking_manager",
        )
        cls.sn1 = cls._create_lot(cls.product_serial, "SN-R-001")
        cls.sn2 = cls._create_lot(cls.product_serial, "SN-R-002")
        cls._put_in_stock(cls.product_serial, cls.sn1)
        cls._put_in_stock(cls.product_serial, cls.sn2)

    def _reject_form(self, lots, user=None):
        action = lots.with_user(user or self.stock_user).action_reject()
        return Form(
            self.env["stock.lot.reject"]
            .with_user(user or self.stock_user)
            .with_context(**action["context"])
        )

    def _assert_in_stock(self, lot):
        self.assertEqual(lot.location_id, self.stock_location)
        self.assertEqual(self._on_hand(self.product_serial, lot), 1)
        self.assertEqual(self._on_hand(self.product_serial, lot, self.reject_location), 0)

    # ------------------------------------------------------------------
    # the reason
    # ------------------------------------------------------------------
    def test_reject_refuses_blank_reason_in_form(self):
        wizard_form = self._reject_form(self.sn1)
        wizard_form.reason = "  \n\t "
        with self.assertRaisesRegex(UserError, "Enter the reason .*SN-R-001"):
            wizard_form.save()
        self._assert_in_stock(self.sn1)
        self.assertFalse(self.sn1.status_log_ids.filtered(lambda log: log.new_status == "rejected"))

    def test_reject_refuses_blank_reason_over_rpc(self):
        Wizard = (
            self.env["stock.lot.reject"]
            .with_user(self.stock_user)
            .with_context(active_model="stock.lot", active_ids=self.sn1.ids)
        )
        for reason in ("", "   ", "\n\t"):
            with self.subTest(reason=reason), self.assertRaisesRegex(UserError, "SN-R-001"):
                Wizard.create({"reason": reason}).action_confirm()
        # a wizard created with a reason can't have it blanked before confirming
        wizard = Wizard.create({"reason": "scratched"})
        with (
            self.assertRaisesRegex(UserError, "Enter the reason .*SN-R-001"),
            self.env.cr.savepoint(),
        ):
            wizard.write({"reason": " "})
        wizard.invalidate_recordset()
        self.assertEqual(wizard.reason, "scratched")
        self._assert_in_stock(self.sn1)
        wizard.action_confirm()
        self.assertEqual(self.sn1.location_id, self.reject_location)
        self.assertEqual(self.sn1.tracking_status, "rejected")

    # ------------------------------------------------------------------
    # the rejection location accepts blocked numbers
    # ------------------------------------------------------------------
    def test_rejection_locations_accept_blocked_numbers(self):
        self.assertTrue(self.reject_location.item_tracking_allow_blocked)
        self.assertFalse(self.stock_location.item_tracking_allow_blocked)
        company = self.env["res.company"].create({"name": "QC Co"})
        location = company.item_tracking_reject_location_id
        self.assertEqual(location.company_id, company)
        self.assertTrue(location.item_tracking_allow_blocked)

    def test_only_item_tracking_managers_change_the_flag(self):
        parent = self.warehouse.view_location_id
        contexts = (
            {},
            {"install_mode": True, "item_tracking_allow_blocked": True, "active_test": False},
        )
        for context in contexts:
            with self.subTest(context=context):
                user_env = self.env(user=self.stock_manager, context=context)
                stock = self.stock_location.with_env(user_env)
                with self.assertRaisesRegex(AccessError, "Only Item Tracking Managers.*WH/Stock"):
                    stock.write({"item_tracking_allow_blocked": True})
                reject = self.reject_location.with_env(user_env)
                with self.assertRaisesRegex(AccessError, "Only Item Tracking Managers.*Rejected"):
                    reject.item_tracking_allow_blocked = False
                with self.assertRaisesRegex(AccessError, "Only Item Tracking Managers.*Quarantine"):
                    user_env["stock.location"].create(
                        {
                            "name": "Quarantine",
                            "location_id": parent.id,
                            "item_tracking_allow_blocked": True,
                        }
                    )
        self.assertFalse(self.stock_location.item_tracking_allow_blocked)
        self.assertTrue(self.reject_location.item_tracking_allow_blocked)
        self.assertFalse(self.env["stock.location"].search([("name", "=", "Quarantine")]))
        # the rest stays editable, an unchanged flag may be sent again, copies don't inherit it
        reject = self.reject_location.with_user(self.stock_manager)
        reject.write({"barcode": "QC-REJ", "item_tracking_allow_blocked": True})
        self.assertEqual(self.reject_location.barcode, "QC-REJ")
        self.assertFalse(reject.copy().item_tracking_allow_blocked)
        shelf = (
            self.env["stock.location"]
            .with_user(self.stock_manager)
            .create({"name": "Shelf", "location_id": parent.id})
        )
        self.assertFalse(shelf.item_tracking_allow_blocked)
        # Item Tracking Managers (and the superuser) set and clear it
        quarantine = (
            self.env["stock.location"]
            .with_user(self.it_manager)
            .create(
                {
                    "name": "Quarantine",
                    "location_id": parent.id,
                    "item_tracking_allow_blocked": True,
                }
            )
        )
        self.assertTrue(quarantine.item_tracking_allow_blocked)
        quarantine.item_tracking_allow_blocked = False
        self.assertFalse(quarantine.item_tracking_allow_blocked)
        shelf.sudo().item_tracking_allow_blocked = True
        self.assertTrue(shelf.item_tracking_allow_blocked)

    def test_location_form_shows_the_flag(self):
        with Form(self.stock_location.with_user(self.it_manager)) as location_form:
            self.assertFalse(location_form.item_tracking_allow_blocked)
            location_form.item_tracking_allow_blocked = True
        self.assertTrue(self.stock_location.item_tracking_allow_blocked)
        # shown read-only to other stock managers
        location_form = Form(self.reject_location.with_user(self.stock_manager))
        self.assertTrue(location_form.item_tracking_allow_blocked)
        with self.assertRaisesRegex(AssertionError, "readonly"):
            location_form.item_tracking_allow_blocked = False
        self.assertTrue(self.reject_location.item_tracking_allow_blocked)

    # ------------------------------------------------------------------
    # the wizard moves stock with Odoo's quant moves
    # ------------------------------------------------------------------
    def test_reject_moves_quants_unpacked_and_drops_reservations(self):
        package = self.env["stock.quant.package"].create({"name": "PACK-R"})
        self.env["stock.quant"].search([("lot_id", "=", self.sn1.id)]).package_id = package
        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        delivery.action_assign()
        self.assertEqual(len(delivery.move_line_ids.lot_id), 1)
        wizard_form = self._reject_form(self.sn1 | self.sn2)
        wizard_form.reason = "Failed QC: cracked casing"
        wizard_form.save().action_confirm()
        for lot in self.sn1 | self.sn2:
            quant = lot.quant_ids.filtered(lambda q: q.quantity > 0)
            self.assertRecordValues(
                quant,
                [{"location_id": self.reject_location.id, "quantity": 1, "package_id": False}],
            )
            self.assertEqual(lot.tracking_status, "rejected")
            log = lot.status_log_ids.filtered(lambda log: log.new_status == "rejected")
            self.assertEqual(log.note, "Failed QC: cracked casing")
            self.assertEqual(log.move_line_id.move_id.state, "done")
            self.assertIn("Failed QC: cracked casing", lot.message_ids[:1].body)
        self.assertFalse(package.quant_ids)
        self.assertEqual(self.product_serial.qty_available, 0)
        # the delivery's reservation is dropped, not left on stock that is gone
        self.assertFalse(delivery.move_line_ids)
        self.assertEqual(delivery.state, "confirmed")

    def test_rejection_location_without_company(self):
        """A company may take a location without company as its rejection location (the
        field checks the company of a location that has one): a serial rejected there is
        rejected and no longer on hand."""
        location = self.env["stock.location"].create(
            {
                "name": "Shared Rejects",
                "usage": "internal",
                "location_id": self.env.ref("stock.stock_location_locations").id,
                "company_id": False,
                "item_tracking_allow_blocked": True,
            }
        )
        self.env.company.item_tracking_reject_location_id = location
        wizard_form = self._reject_form(self.sn1)
        wizard_form.reason = "Cracked casing"
        wizard_form.save().action_confirm()
        self.assertEqual(self._on_hand(self.product_serial, self.sn1, location), 1)
        self.assertEqual(self.sn1.tracking_status, "rejected")
        self.assertEqual(self.sn1.product_qty, 0)
        self.assertEqual(self.sn2.product_qty, 1)

    def test_reject_refusal_names_lots_without_stock_and_leaves_everything(self):
        sn3 = self._create_lot(self.product_serial, "SN-R-003")
        delivery = self._create_picking(self.warehouse.out_type_id, self.product_serial, 2)
        delivery.action_assign()
        self.assertEqual(delivery.move_line_ids.lot_id, self.sn1 | self.sn2)
        wizard = (
            self.env["stock.lot.reject"]
            .with_user(self.stock_user)
            .create({"reason": "dented", "lot_ids": [Command.set((self.sn1 | sn3).ids)]})
        )
        with self.assertRaisesRegex(UserError, "no quantity on hand to reject: SN-R-003$"):
            wizard.action_confirm()
        self._assert_in_stock(self.sn1)
        self.assertEqual(delivery.move_line_ids.lot_id, self.sn1 | self.sn2)
        self.assertEqual(delivery.state, "assigned")

    def test_reject_shared_lots_to_each_company_rejection_location(self):
        company_b = self.env["res.company"].create({"name": "Reject Co B"})
        stock_b = (
            self.env["stock.warehouse"].search([("company_id", "=", company_b.id)]).lot_stock_id
        )
        self.stock_user.company_ids += company_b
        self.sn2.quant_ids.sudo().unlink()
        self._put_in_stock(self.product_serial, self.sn2, location=stock_b)
        self.env["stock.lot.reject"].with_user(self.stock_user).with_context(
            allowed_company_ids=[self.env.company.id, company_b.id]
        ).create(
            {"reason": "recall", "lot_ids": [Command.set((self.sn1 | self.sn2).ids)]}
        ).action_confirm()
        self.assertEqual(self.sn1.quant_ids.filtered("quantity").location_id, self.reject_location)
        self.assertEqual(
            self.sn2.quant_ids.filtered("quantity").location_id,
            company_b.item_tracking_reject_location_id,
        )

    # ------------------------------------------------------------------
    # uninstall, then install again
    # ------------------------------------------------------------------
    def _forget_installation(self, lots=None):
        """What uninstalling leaves: the locations and the stock, not the company's rejection
        location, the locations' flag, nor the lots' status and history (reinstalling creates
        these columns again, empty or with their default)."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(SQL("UPDATE res_company SET item_tracking_reject_location_id = NULL"))
        cr.execute(SQL("UPDATE stock_location SET item_tracking_allow_blocked = NULL"))
        if lots:
            cr.execute(SQL("DELETE FROM stock_lot_status_log WHERE lot_id IN %s", tuple(lots.ids)))
            cr.execute(
                SQL(
                    "UPDATE stock_lot SET tracking_status = 'planned' WHERE id IN %s",
                    tuple(lots.ids),
                )
            )
        self.env.invalidate_all()

    def _rejected_locations(self, company):
        return self.env["stock.location"].search(
            [
                ("location_id", "=", self.env.ref("stock.stock_location_locations").id),
                ("company_id", "=", company.id),
                ("name", "=", "Rejected"),
            ]
        )

    def test_reinstall_reuses_the_rejection_location(self):
        company = self.env.company
        company_b = self.env["res.company"].create({"name": "Reject Co B"})
        reject_b = company_b.item_tracking_reject_location_id
        # look-alikes that are not the company's rejection location
        self.env["stock.location"].create(
            {"name": "Rejected", "location_id": self.stock_location.id, "usage": "internal"}
        )
        self.env["stock.location"].create(
            {
                "name": "Rejected",
                "location_id": self.env.ref("stock.stock_location_locations").id,
                "usage": "inventory",
                "company_id": company.id,
            }
        )
        self._forget_installation()
        self.assertFalse(company.item_tracking_reject_location_id)
        self.assertFalse(self.reject_location.item_tracking_allow_blocked)
        self.env["res.company"]._create_missing_item_tracking_reject_locations()
        self.assertEqual(company.item_tracking_reject_location_id, self.reject_location)
        self.assertEqual(company_b.item_tracking_reject_location_id, reject_b)
        self.assertTrue(self.reject_location.item_tracking_allow_blocked)
        self.assertTrue(reject_b.item_tracking_allow_blocked)
        self.assertEqual(
            self._rejected_locations(company).filtered(lambda loc: loc.usage == "internal"),
            self.reject_location,
        )
        self.assertEqual(self._rejected_locations(company_b), reject_b)

    def test_reinstall_finds_rejected_lots_rejected(self):
        self.env["stock.lot.reject"].create(
            {"reason": "Failed QC", "lot_ids": [Command.set(self.sn1.ids)]}
        ).action_confirm()
        self.assertEqual(self.sn1.tracking_status, "rejected")
        self._forget_installation(self.sn1)
        self.assertEqual(self.sn1.tracking_status, "planned")
        post_init_hook(self.env)
        self.assertEqual(self.env.company.item_tracking_reject_location_id, self.reject_location)
        self.assertEqual(self._rejected_locations(self.env.company), self.reject_location)
        self.assertEqual(self.sn1.tracking_status, "rejected")
        self.assertEqual(self.sn1.location_id, self.reject_location)
        self.assertEqual(self.sn1.product_qty, 0)
        self.assertEqual(self.product_serial.qty_available, 1)

    # ------------------------------------------------------------------
    # maintenance records
    # ------------------------------------------------------------------
    def _maintenance_manager(self):
        return new_test_user(
            self.env,
            "rej_maint_manager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )

    @freeze_time("2026-06-15")
    def test_maintenance_refuses_blank_description_and_old_date(self):
        Maintenance = self.env["stock.lot.maintenance"].with_user(self._maintenance_manager())
        for description in ("", "   ", "\t"):
            with (
                self.subTest(description=description),
                self.assertRaisesRegex(ValidationError, "Describe the maintenance.*SN-R-002"),
                self.env.cr.savepoint(),
            ):
                Maintenance.create(
                    [
                        {"lot_id": self.sn1.id, "date": date(2026, 7, 1), "description": "Check"},
                        {
                            "lot_id": self.sn2.id,
                            "date": date(2026, 7, 1),
                            "description": description,
                        },
                    ]
                )
        with (
            self.assertRaisesRegex(ValidationError, "more than 10 years back.*SN-R-001"),
            self.env.cr.savepoint(),
        ):
            Maintenance.create(
                {"lot_id": self.sn1.id, "date": date(2016, 6, 14), "description": "Check"}
            )
        self.assertFalse(Maintenance.search([("lot_id", "in", (self.sn1 | self.sn2).ids)]))
        # ten years back, or any date ahead, is fine; editing stays checked
        line = Maintenance.create(
            {"lot_id": self.sn1.id, "date": date(2016, 6, 15), "description": "Late entry"}
        )
        line.date = date(2036, 6, 15)
        with (
            self.assertRaisesRegex(ValidationError, "Describe the maintenance.*SN-R-001"),
            self.env.cr.savepoint(),
        ):
            line.description = " "
        with (
            self.assertRaisesRegex(ValidationError, "10 years back.*SN-R-001"),
            self.env.cr.savepoint(),
        ):
            line.date = date(1999, 1, 1)
        line.invalidate_recordset()
        self.assertRecordValues(line, [{"date": date(2036, 6, 15), "description": "Late entry"}])

    @freeze_time("2026-06-15")
    def test_maintenance_refused_in_the_lot_form(self):
        lot = self.sn1.with_user(self._maintenance_manager())
        lot_form = Form(lot)
        with lot_form.maintenance_ids.new() as line:
            line.date = date(2001, 1, 1)
            line.description = "Calibration"
        with (
            self.assertRaisesRegex(ValidationError, "10 years back.*SN-R-001"),
            self.env.cr.savepoint(),
        ):
            lot_form.save()
        self.assertFalse(self.sn1.maintenance_ids)
        lot_form = Form(lot)
        with lot_form.maintenance_ids.new() as line:
            line.date = date(2026, 7, 1)
            line.description = "   "
        with (
            self.assertRaisesRegex(ValidationError, "Describe the maintenance.*SN-R-001"),
            self.env.cr.savepoint(),
        ):
            lot_form.save()
        self.assertFalse(self.sn1.maintenance_ids)
        with Form(lot) as lot_form:
            with lot_form.maintenance_ids.new() as line:
                line.date = date(2026, 7, 1)
                line.description = "Calibration"
        self.assertRecordValues(
            self.sn1.maintenance_ids, [{"date": date(2026, 7, 1), "description": "Calibration"}]
        )

    # ------------------------------------------------------------------
    # blocked numbers: block, inspect, reject, scrap
    # ------------------------------------------------------------------
    def _block(self, lot):
        lot.with_user(self.it_manager).write({"blocked": True, "blocked_reason": "Quality hold"})

    def _scrap(self, lot, location):
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.product_serial.id,
                "lot_id": lot.id,
                "scrap_qty": 1,
                "location_id": location.id,
            }
        )
        scrap.action_validate()
        return scrap

    def test_reject_blocked_lot(self):
        """Needs the blocked rule to let lines into a location that accepts blocked numbers."""
        self._block(self.sn1)
        wizard_form = self._reject_form(self.sn1)
        wizard_form.reason = "Inspected: cracked casing"
        wizard_form.save().action_confirm()
        self.assertTrue(self.sn1.blocked)
        self.assertEqual(self.sn1.location_id, self.reject_location)
        self.assertEqual(self._on_hand(self.product_serial, self.sn1, self.reject_location), 1)
        self.assertEqual(self.sn1.tracking_status, "rejected")
        log = self.sn1.status_log_ids.filtered(lambda log: log.new_status == "rejected")
        self.assertEqual(log.note, "Inspected: cracked casing")

    def test_scrap_blocked_lot_from_rejection_location(self):
        """Needs the blocked rule to let lines from a location that accepts blocked numbers
        into a scrap location."""
        sn3 = self._create_lot(self.product_serial, "SN-R-003")
        self._put_in_stock(self.product_serial, sn3, location=self.reject_location)
        self._block(sn3)
        scrap = self._scrap(sn3, self.reject_location)
        self.assertEqual(scrap.state, "done")
        self.assertEqual(self._on_hand(self.product_serial, sn3, self.reject_location), 0)
        self.assertEqual(self._on_hand(self.product_serial, sn3, self.scrap_location), 1)
        self.assertEqual(sn3.tracking_status, "written_off")

    def test_blocked_lot_other_moves_still_refused(self):
        sn3 = self._create_lot(self.product_serial, "SN-R-003")
        self._put_in_stock(self.product_serial, sn3, location=self.reject_location)
        self._block(sn3)
        self._block(self.sn1)
        Quant = self.env["stock.quant"].with_user(self.stock_user)
        # out of the rejection location, except to scrap it
        with self.assertRaisesRegex(UserError, "(?s)blocked.*SN-R-003"), self.env.cr.savepoint():
            Quant.search([("lot_id", "=", sn3.id)]).move_quants(self.stock_location)
        # from stock, into anything but a location that accepts blocked numbers
        shelf = self.env["stock.location"].create(
            {"name": "Shelf", "location_id": self.stock_location.id}
        )
        with self.assertRaisesRegex(UserError, "(?s)blocked.*SN-R-001"), self.env.cr.savepoint():
            Quant.search([("lot_id", "=", self.sn1.id)]).move_quants(shelf)
        with self.assertRaisesRegex(UserError, "(?s)blocked.*SN-R-001"), self.env.cr.savepoint():
            self._scrap(self.sn1, self.stock_location)
        self.assertEqual(sn3.location_id, self.reject_location)
        self._assert_in_stock(self.sn1)
