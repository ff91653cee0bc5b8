from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

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
