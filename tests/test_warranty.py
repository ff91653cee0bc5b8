from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestWarranty(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sn1 = cls._create_lot(cls.product_serial, "SN-W-001")
        cls.sn2 = cls._create_lot(cls.product_serial, "SN-W-002")
        cls._put_in_stock(cls.product_serial, cls.sn1)
        cls._put_in_stock(cls.product_serial, cls.sn2)

    # R001-18 warranty date formula
    @freeze_time("2024-01-15 10:00:00")
    def test_formula_sets_warranty_on_delivery(self):
        self.code_serial.warranty_formula = "CM+1M"
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn1}])
        self._validate(picking)
        self.assertEqual(self.sn1.warranty_date, date(2024, 2, 29))
        self.assertFalse(self.sn2.warranty_date)

    @freeze_time("2024-02-29 10:00:00")
    def test_formula_1y_minus_1d(self):
        self.code_serial.warranty_formula = "1Y-1D"
        self._validate(self._delivery(self.product_serial, [{"lot_id": self.sn1}]))
        self.assertEqual(self.sn1.warranty_date, date(2025, 2, 27))

    @freeze_time("2024-03-10 10:00:00")
    def test_line_date_is_no_side_door_to_the_formula(self):
        """A date typed on a delivery line counts only when the code asks for a manual
        warranty date: otherwise the code's formula gives it (whoever validates can't give a
        number a longer warranty than the code's)."""
        self.code_serial.warranty_formula = "1Y"
        picking = self._delivery(
            self.product_serial,
            [{"lot_id": self.sn1, "warranty_date": "2037-06-30"}, {"lot_id": self.sn2}],
        )
        self._validate(picking)
        self.assertEqual(self.sn1.warranty_date, date(2025, 3, 10))
        self.assertEqual(self.sn2.warranty_date, date(2025, 3, 10))

    def test_no_warranty_on_receipt_or_without_formula(self):
        self.code_serial.warranty_formula = "1Y"
        receipt = self._receipt(self.product_serial, [{"lot_name": "SN-W-IN"}])
        self._validate(receipt)
        self.assertFalse(receipt.move_line_ids.lot_id.warranty_date)
        self.code_serial.warranty_formula = False
        self._validate(self._delivery(self.product_serial, [{"lot_id": self.sn1}]))
        self.assertFalse(self.sn1.warranty_date)

    # R001-19 manual warranty date
    def test_warranty_date_required(self):
        self.code_serial.write({"warranty_date_required": True, "warranty_formula": "2Y"})
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn1}, {"lot_id": self.sn2}])
        picking.move_line_ids.filtered(
            lambda ml: ml.lot_id == self.sn1
        ).warranty_date = "2030-01-31"
        with self.assertRaisesRegex(UserError, r"warranty date(.|\n)*Drill \(SN\): SN-W-002"):
            picking.button_validate()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(self.sn1.warranty_date)
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 1.0)
        picking.move_line_ids.filtered(
            lambda ml: ml.lot_id == self.sn2
        ).warranty_date = "2031-12-31"
        self._validate(picking)
        self.assertEqual(self.sn1.warranty_date, date(2030, 1, 31))
        self.assertEqual(self.sn2.warranty_date, date(2031, 12, 31))

    def test_warranty_date_required_form(self):
        self.code_serial.warranty_date_required = True
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.warranty_date = date(2029, 5, 1)
        move_form.save()
        self._validate(picking)
        self.assertEqual(picking.move_line_ids.lot_id.warranty_date, date(2029, 5, 1))

    def test_unusable_formula_is_a_user_error_naming_the_product(self):
        """Hole 7: a formula saved before formulas were bounded (9998Y) can't stop a
        delivery with a server error: the refusal names the product, and nothing moves."""
        self.env.cr.execute(
            "UPDATE item_tracking_code SET warranty_formula = '9998Y' WHERE id = %s",
            [self.code_serial.id],
        )
        self.code_serial.invalidate_recordset()
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn1}])
        with self.assertRefused(r"Drill \(SN\)"):
            picking.button_validate()
        self.assertEqual(self._on_hand(self.product_serial, self.sn1), 1)
        self.assertEqual(self.sn1.tracking_status, "planned")
