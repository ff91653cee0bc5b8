from contextlib import contextmanager
from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestHardeningCodes(ItemTrackingCommon):
    """Issue 12, hole 7 (warranty formulas), through the public paths."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The lowest groups that may write item tracking codes.
        cls.code_manager = new_test_user(
            cls.env,
            "hc_code_manager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )

    @contextmanager
    def _refused(self, exception, regex):
        """assertRaisesRegex, rolling back what the refused call wrote: a constraint fails
        after the INSERT/UPDATE, and assertRaisesRegex (unlike Odoo's assertRaises) takes no
        savepoint."""
        with self.assertRaisesRegex(exception, regex), self.env.cr.savepoint():
            yield
        self.env.invalidate_all()

    # Hole 7: warranty formulas that stop deliveries

    def test_hole7_formulas_beyond_100_years_refused_at_save(self):
        """9998Y, 9000Y and -3000Y (and anything reaching over 100 years of 365.25 days) are
        refused when the code is saved over RPC, naming the code; 100 years are accepted."""
        Code = self.env["item.tracking.code"].with_user(self.code_manager)
        for formula in ("9998Y", "9000Y", "-3000Y", "100Y+1D", "1201M", "36526D"):
            with self.subTest(formula=formula):
                with self._refused(
                    ValidationError,
                    r"Invalid warranty date formula on Far warranty.*more than 100 years",
                ):
                    Code.create({"name": "Far warranty", "warranty_formula": formula})
        self.assertFalse(
            Code.with_context(active_test=False).search([("name", "=", "Far warranty")])
        )
        code = Code.create({"name": "Century", "warranty_formula": "100y"})
        self.assertEqual(code.warranty_formula, "100Y")
        for formula in ("-100Y", "1200M", "36525D", "99Y+CY", "CM+1M"):
            code.write({"warranty_formula": formula})
            self.assertEqual(code.warranty_formula, formula)
        for formula in ("9998Y", "9000Y", "-3000Y"):
            with self.subTest(formula=formula):
                with self._refused(ValidationError, rf"Century.*'{formula}'.*more than 100 years"):
                    code.write({"warranty_formula": formula})
        self.env.invalidate_all()
        self.assertEqual(code.warranty_formula, "CM+1M")

    def test_hole7_formula_beyond_100_years_refused_in_form(self):
        """The code form refuses the formula at save, with the reason."""
        with self._refused(
            ValidationError, r"Invalid warranty date formula on Form warranty.*100 years"
        ):
            with Form(self.env["item.tracking.code"].with_user(self.code_manager)) as form:
                form.name = "Form warranty"
                form.warranty_formula = "9998Y"
        self.assertFalse(self.env["item.tracking.code"].search([("name", "=", "Form warranty")]))

    def test_hole7_apply_warranty_formula_raises_a_user_error_naming_the_product(self):
        """What can still go wrong at delivery (a formula saved before the check, a date at
        the end of the calendar) is a UserError naming the product, not a DateFormulaError."""
        code = self.code_serial
        self.assertFalse(code._apply_warranty_formula(date(2024, 2, 29), self.product_serial))
        code.warranty_formula = "1Y"
        self.assertEqual(
            code._apply_warranty_formula(date(2024, 2, 29), self.product_serial), date(2025, 2, 28)
        )
        code.warranty_formula = "1M"
        self.assertEqual(
            code._apply_warranty_formula(date(2024, 1, 31), self.product_serial), date(2024, 2, 29)
        )
        with self.assertRaisesRegex(UserError, r"Drill \(SN\).*1M.*SN plain.*outside the years"):
            code._apply_warranty_formula(date(9999, 12, 15), self.product_serial)
        code.warranty_formula = "CW"
        with self.assertRaisesRegex(UserError, r"Drill \(SN\).*CW"):
            code._apply_warranty_formula(date(9999, 12, 31), self.product_serial)
        # Formulas stored before the save checks existed.
        code.flush_recordset()
        for legacy in ("9998Y", "-3000Y", "1X"):
            self.env.cr.execute(
                "UPDATE item_tracking_code SET warranty_formula = %s WHERE id = %s",
                [legacy, code.id],
            )
            code.invalidate_recordset(["warranty_formula"])
            with self.subTest(formula=legacy):
                with self.assertRaisesRegex(
                    UserError, rf"warranty date of Drill \(SN\).*{legacy}.*SN plain"
                ):
                    code._apply_warranty_formula(date(2026, 12, 1), self.product_serial)
