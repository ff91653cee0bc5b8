from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestItemTrackingCode(ItemTrackingCommon):
    def test_sales_scope_implies_serial_and_clears_inventory_options(self):
        code = self.env["item.tracking.code"].create(
            {
                "name": "Sales SN",
                "tracking": "lot",
                "scope": "sales",
                "specific_tracking": True,
                "strict_expiration": True,
                "warranty_formula": "1Y",
                "blank_issue_allowed": True,
            }
        )
        self.assertEqual(code.tracking, "serial")
        self.assertFalse(code.specific_tracking or code.strict_expiration or code.warranty_formula)
        self.assertTrue(code.blank_issue_allowed)
        code.scope = "inventory"
        self.assertFalse(code.blank_issue_allowed, "blank issue only exists for scope sales")

    def test_sales_scope_form(self):
        with Form(self.env["item.tracking.code"]) as form:
            form.name = "Sales SN (form)"
            form.tracking = "lot"
            form.specific_tracking = True
            form.scope = "sales"
            self.assertEqual(form.tracking, "serial")
            self.assertFalse(form.specific_tracking)
            form.blank_issue_allowed = True
        code = form.record
        self.assertEqual(
            (code.scope, code.tracking, code.blank_issue_allowed), ("sales", "serial", True)
        )

    def test_blank_issue_refused_outside_sales_scope(self):
        with self.assertRaisesRegex(ValidationError, "Inv SN.*blank issue"):
            self.env["item.tracking.code"].create(
                {"name": "Inv SN", "scope": "inventory", "blank_issue_allowed": True}
            )
        sales = self.env["item.tracking.code"].create({"name": "Sales", "scope": "sales"})
        with self.assertRaisesRegex(ValidationError, "only apply to numbers tracked in inventory"):
            sales.specific_tracking = True

    def test_ignore_expiration_conflicts(self):
        with self.assertRaisesRegex(ValidationError, "Conflicting.*ignored"):
            self.env["item.tracking.code"].create(
                {"name": "Conflicting", "ignore_expiration": True, "strict_expiration": True}
            )

    def test_warranty_formula_validated_and_normalized(self):
        code = self.env["item.tracking.code"].create({"name": "W", "warranty_formula": " cm + 1m "})
        self.assertEqual(code.warranty_formula, "CM+1M")
        with self.assertRaisesRegex(ValidationError, r"Invalid warranty date formula on W.*1X"):
            code.warranty_formula = "1X"
        with self.assertRaisesRegex(ValidationError, "Invalid warranty date formula"):
            with Form(self.env["item.tracking.code"]) as form:
                form.name = "Bad formula"
                form.warranty_formula = "1Y+"

    def test_name_unique_per_company(self):
        self.env["item.tracking.code"].create({"name": "Unique"})
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.env["item.tracking.code"].create({"name": "Unique", "company_id": other_company.id})
        with self.assertRaisesRegex(ValidationError, "Unique.*already exists"):
            self.env["item.tracking.code"].create({"name": "Unique"})
        with self.assertRaisesRegex(ValidationError, "Unique.*already exists"):
            self.env["item.tracking.code"].create({"name": "Unique", "active": False})

    def test_product_tracking_follows_code(self):
        self.assertEqual(self.product_serial.tracking, "serial")
        self.assertEqual(self.product_lot.tracking, "lot")
        sales = self.env["item.tracking.code"].create({"name": "Sales", "scope": "sales"})
        product = self._create_product("Phone", sales)
        self.assertEqual(product.tracking, "none", "sales-process serials are not kept in stock")
        # No moves yet: the code's tracking change flows to its products.
        code = self.env["item.tracking.code"].create({"name": "Switch", "tracking": "serial"})
        switched = self._create_product("Switchable", code)
        code.tracking = "lot"
        self.assertEqual(switched.tracking, "lot")

    def test_product_tracking_mismatch_refused(self):
        with self.assertRaisesRegex(
            ValidationError, "Drill \\(SN\\).*follow their item tracking code"
        ):
            self.product_serial.tracking = "lot"
        with self.assertRaisesRegex(ValidationError, "Service.*follow"):
            self.env["product.product"].create(
                {"name": "Service", "type": "service", "item_tracking_code_id": self.code_serial.id}
            )

    def test_product_form_assigns_code(self):
        with Form(self.env["product.template"]) as form:
            form.name = "Form product"
            form.is_storable = True
            form.item_tracking_code_id = self.code_lot
            self.assertEqual(form.tracking, "lot")
        self.assertEqual(form.record.tracking, "lot")

    def test_default_code_for_new_storable_products(self):
        settings = self.env["res.config.settings"].create({})
        settings.item_tracking_default_code_id = self.code_serial
        settings.execute()
        self.assertEqual(self.env.company.default_item_tracking_code_id, self.code_serial)
        with Form(self.env["product.template"]) as form:
            form.name = "Storable"
            form.is_storable = True
        self.assertEqual(form.record.item_tracking_code_id, self.code_serial)
        self.assertEqual(form.record.tracking, "serial")
        consumable = self.env["product.template"].create({"name": "Consumable", "type": "consu"})
        self.assertFalse(consumable.item_tracking_code_id)
        self.assertEqual(consumable.tracking, "none")

    def test_default_code_does_not_override_the_users_choice(self):
        """In the Inventory app (storable by default) a chosen or emptied code is kept."""
        self.env.company.default_item_tracking_code_id = self.code_serial
        Template = self.env["product.template"].with_context(default_is_storable=True)
        with Form(Template) as form:
            form.name = "Chosen code"
            form.item_tracking_code_id = self.code_lot
        self.assertEqual(form.record.item_tracking_code_id, self.code_lot)
        self.assertEqual(form.record.tracking, "lot")
        with Form(Template) as form:
            form.name = "No code"
            self.assertEqual(form.item_tracking_code_id, self.code_serial)
            form.item_tracking_code_id = self.env["item.tracking.code"]
            form.tracking = "none"
        self.assertFalse(form.record.item_tracking_code_id)
        self.assertEqual(form.record.tracking, "none")
        # A variant added to a used product keeps the product's code and tracking.
        template = self.product_lot.product_tmpl_id
        self._create_lot(self.product_lot, "L-VARIANT")
        variant = (
            self.env["product.product"]
            .with_context(default_is_storable=True)
            .create({"product_tmpl_id": template.id})
        )
        self.assertEqual(template.item_tracking_code_id, self.code_lot)
        self.assertEqual(variant.tracking, "lot")

    def test_tracking_locked_on_product_once_it_has_lots(self):
        self._create_lot(self.product_serial, "SN-LOCK-1")
        with self.assertRaisesRegex(UserError, "Drill \\(SN\\).*can't be changed"):
            self.product_serial.item_tracking_code_id = self.code_lot
        self.env.invalidate_all()
        self.assertEqual(self.product_serial.item_tracking_code_id, self.code_serial)
        self.assertEqual(self.product_serial.tracking, "serial")
        # Another code with the same tracking is fine.
        other = self.env["item.tracking.code"].create({"name": "SN 2", "tracking": "serial"})
        self.product_serial.item_tracking_code_id = other
        self.assertEqual(self.product_serial.tracking, "serial")

    def test_tracking_locked_in_product_form(self):
        """R004-08 through the product form: refused once used, allowed before."""
        self._create_lot(self.product_serial, "SN-LOCK-F")
        form = Form(self.product_serial.product_tmpl_id)
        form.item_tracking_code_id = self.code_lot
        with self.assertRaisesRegex(UserError, "Drill \\(SN\\).*can't be changed"):
            form.save()
        self.env.invalidate_all()
        self.assertEqual(self.product_serial.item_tracking_code_id, self.code_serial)
        self.assertEqual(self.product_serial.tracking, "serial")
        # An unused product changes code, and tracking with it, from the same form.
        with Form(self.product_lot.product_tmpl_id) as form:
            form.item_tracking_code_id = self.code_serial
            self.assertEqual(form.tracking, "serial")
        self.assertEqual(self.product_lot.tracking, "serial")

    def test_tracking_locked_through_code_once_product_has_lots(self):
        self._create_lot(self.product_serial, "SN-LOCK-1")
        with self.assertRaisesRegex(UserError, "Drill \\(SN\\).*can't be changed"):
            self.code_serial.tracking = "lot"
        self.env.invalidate_all()
        self.assertEqual(self.code_serial.tracking, "serial")
        self.assertEqual(self.product_serial.tracking, "serial")
        # Without lots or done moves the code's products follow it.
        self.code_lot.tracking = "serial"
        self.assertEqual(self.product_lot.tracking, "serial")

    def test_tracking_locked_by_done_moves(self):
        picking = self._receipt(self.product_lot, [{"lot_name": "L-DONE", "quantity": 3}])
        self._validate(picking)
        self.assertTrue(self.env["stock.move"].search([("product_id", "=", self.product_lot.id)]))
        with self.assertRaisesRegex(UserError, "Paint \\(LOT\\).*can't be changed"):
            self.product_lot.item_tracking_code_id = self.code_serial

    def test_product_without_code_behaves_as_vanilla(self):
        product = self._create_product("Vanilla", tracking="serial")
        self._create_lot(product, "V-1")
        product.tracking = "lot"  # vanilla only warns
        self.assertEqual(product.tracking, "lot")

    def test_access_rights(self):
        user = new_test_user(self.env, "itc_user", groups="stock.group_stock_user")
        manager = new_test_user(
            self.env,
            "itc_manager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )
        code = self.code_serial.with_user(user)
        self.assertEqual(code.name, "SN plain")
        with self.assertRaises(AccessError):
            code.write({"specific_tracking": True})
        with self.assertRaises(AccessError):
            self.env["item.tracking.code"].with_user(user).create({"name": "Nope"})
        self.code_serial.with_user(manager).write({"specific_tracking": True})
        self.assertTrue(self.code_serial.specific_tracking)

    def test_multi_company_rule(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        code_b = self.env["item.tracking.code"].create(
            {"name": "B code", "company_id": company_b.id}
        )
        user_a = new_test_user(
            self.env, "itc_a", groups="stock.group_stock_user", company_id=self.env.company.id
        )
        visible = self.env["item.tracking.code"].with_user(user_a).search([])
        self.assertIn(self.code_serial, visible)
        self.assertNotIn(code_b, visible)
        with self.assertRaisesRegex(UserError, "[Ii]ncompatible companies"):
            self._create_product("Cross company", code_b, company_id=self.env.company.id)

    def test_code_in_use_cannot_be_deleted(self):
        with self.assertRaisesRegex(UserError, "SN plain.*archive them instead"):
            self.code_serial.unlink()
        unused = self.env["item.tracking.code"].create({"name": "Unused"})
        unused.unlink()
        self.assertFalse(unused.exists())
