from contextlib import contextmanager
from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon

LOCKED = r"Drill \(SN\).*can't be changed"
CODE_KEPT = r"item tracking code of Drill \(SN\) can't be removed"


@tagged("post_install", "-at_install")
class TestHardeningCodes(ItemTrackingCommon):
    """Issue 12, holes 6 (tracking lock) and 7 (warranty formulas), through the public paths."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The lowest groups that may write products, and item tracking codes.
        cls.stock_manager = new_test_user(
            cls.env, "hc_stock_manager", groups="stock.group_stock_manager"
        )
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

    def _receive_serials(self):
        """Drill (SN), by serial number, gets a done receipt of two serials."""
        picking = self._receipt(
            self.product_serial, [{"lot_name": "SN-H6-1"}, {"lot_name": "SN-H6-2"}]
        )
        self._validate(picking)
        return picking.move_line_ids.lot_id

    def _assert_still_serial(self):
        self.env.invalidate_all()
        template = self.product_serial.product_tmpl_id
        self.assertEqual(template.item_tracking_code_id, self.code_serial)
        self.assertEqual(template.tracking, "serial")
        self.assertEqual(self.product_serial.tracking, "serial")

    # Hole 6: the tracking lock (R004-08) whatever the order of the writes

    def test_hole6_remove_code_then_change_tracking_then_other_code(self):
        """The three writes of hole 6 (remove the code, set tracking "lot", give a lot code)
        on a product with done serial moves: the first one is now refused.

        The lock is kept by refusing to remove the code of a product with history: while it
        has a code, its tracking can't change (neither directly nor through another code), and
        the code can only be swapped for one of the same tracking, so the tracking its history
        was made under stays. Nothing new is stored; products that never had a code keep
        standard Odoo's free tracking changes.
        """
        lots = self._receive_serials()
        template = self.product_serial.product_tmpl_id.with_user(self.stock_manager)
        with self.assertRaisesRegex(UserError, CODE_KEPT):
            template.write({"item_tracking_code_id": False})
        self._assert_still_serial()
        # The next two writes of the hole stay refused while the product has its code.
        with self.assertRaisesRegex(UserError, LOCKED):
            template.write({"tracking": "lot"})
        with self.assertRaisesRegex(UserError, LOCKED):
            template.write({"item_tracking_code_id": self.code_lot.id})
        self._assert_still_serial()
        self.assertEqual(lots.mapped("product_qty"), [1.0, 1.0])

    def test_hole6_same_writes_on_the_variant_and_in_one_write(self):
        """The variant's write (RPC on product.product) and single writes combining the steps
        are refused alike: the lock doesn't depend on the model or on the order of the keys."""
        self._receive_serials()
        variant = self.product_serial.with_user(self.stock_manager)
        template = variant.product_tmpl_id
        with self.assertRaisesRegex(UserError, CODE_KEPT):
            variant.write({"item_tracking_code_id": False})
        for vals in (
            {"item_tracking_code_id": False, "tracking": "lot"},
            {"tracking": "lot", "item_tracking_code_id": False},
            {"item_tracking_code_id": self.code_lot.id, "tracking": "lot"},
        ):
            for record in (template, variant):
                with self.subTest(model=record._name, vals=vals):
                    with self.assertRaisesRegex(UserError, LOCKED):
                        record.write(vals)
        self._assert_still_serial()

    def test_hole6_code_kept_in_product_form(self):
        """Clearing the code in the product form of a product with done moves is refused at
        save; clearing it and choosing another tracking in the same form is refused too."""
        self._receive_serials()
        template = self.product_serial.product_tmpl_id.with_user(self.stock_manager)
        form = Form(template)
        form.item_tracking_code_id = self.env["item.tracking.code"]
        with self.assertRaisesRegex(UserError, CODE_KEPT):
            form.save()
        self._assert_still_serial()
        form = Form(template)
        form.item_tracking_code_id = self.env["item.tracking.code"]
        form.tracking = "lot"
        with self.assertRaisesRegex(UserError, LOCKED):
            form.save()
        self._assert_still_serial()

    def test_hole6_lots_alone_lock_the_code(self):
        """Lots without any move are history too (R004-08: any transaction)."""
        self._create_lot(self.product_lot, "L-H6")
        template = self.product_lot.product_tmpl_id.with_user(self.stock_manager)
        with self.assertRaisesRegex(UserError, r"item tracking code of Paint \(LOT\) can't be"):
            template.write({"item_tracking_code_id": False})
        self.env.invalidate_all()
        self.assertEqual(template.item_tracking_code_id, self.code_lot)
        # Swapping for another code of the same tracking is allowed.
        other_lot = self.env["item.tracking.code"].create({"name": "LOT 2", "tracking": "lot"})
        template.write({"item_tracking_code_id": other_lot.id})
        self.assertEqual((template.item_tracking_code_id, template.tracking), (other_lot, "lot"))

    def test_hole6_free_without_history_and_without_code(self):
        """Without history the code can be removed, the tracking changed and a code of the
        other tracking given; a product that never had a code changes tracking as in Odoo."""
        product = self._create_product("Fresh (SN)", self.code_serial)
        template = product.product_tmpl_id.with_user(self.stock_manager)
        template.write({"item_tracking_code_id": False})
        template.write({"tracking": "lot"})
        template.write({"item_tracking_code_id": self.code_serial.id})
        self.assertEqual(
            (template.item_tracking_code_id, product.tracking), (self.code_serial, "serial")
        )
        vanilla = self._create_product("Vanilla (SN)", tracking="serial")
        self._create_lot(vanilla, "V-H6")
        vanilla.with_user(self.stock_manager).write({"tracking": "lot"})
        self.assertEqual(vanilla.tracking, "lot")
        vanilla.with_user(self.stock_manager).write({"tracking": "none"})
        self.assertEqual(vanilla.tracking, "none")
        # Once it has history, a code can't bring another tracking than the current one.
        with self.assertRaisesRegex(UserError, r"Vanilla \(SN\).*can't be changed"):
            vanilla.with_user(self.stock_manager).write(
                {"item_tracking_code_id": self.code_serial.id}
            )
        self.env.invalidate_all()
        self.assertFalse(vanilla.item_tracking_code_id)
        self.assertEqual(vanilla.tracking, "none")

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
        for formula in ("99Y-CY", "1200M", "36525D", "99Y+CY", "CM+1M"):
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
