from odoo.exceptions import UserError
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
        cls.sn1 = cls._create_lot(cls.product_serial, "SN-R-001")
        cls.sn2 = cls._create_lot(cls.product_serial, "SN-R-002")
        cls._put_in_stock(cls.product_serial, cls.sn1)
        cls._put_in_stock(cls.product_serial, cls.sn2)

    def _reject_form(self, lots, user=None):
        action = lots.with_user(user or self.stock_user).action_reject()
        return Form(
            self.env["stock.lot.reject"].with_user(user or self.stock_user).with_context(
                **action["context"]
            )
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
