"""Issue 15, items 1-2: one lot per number (guaranteed by PostgreSQL) and clean numbers."""

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user
from odoo.tools import mute_logger

from .common import ItemTrackingCommon

# (typed, stored number or None if refused, refusal message part)
BAD_INPUTS = [
    (" SN1", "SN1", None),
    ("SN1 ", "SN1", None),
    ("\u00a0SN1\u00a0", "SN1", None),
    ("SN1\t", "SN1", None),
    ("SN1\r\n", "SN1", None),
    ("SN\u00a01", "SN 1", None),
    ("000123", "000123", None),
    ("A" * 128, "A" * 128, None),
    ("\u0421N1", "\u0421N1", None),  # Cyrillic Es: another number
    ("SN\t1", None, "control or invisible"),
    ("SN\n1", None, "control or invisible"),
    ("SN\u200b1", None, "control or invisible"),
    ("\ufeffSN1", None, "control or invisible"),
    ("", None, "empty"),
    ("   ", None, "empty"),
    ("A" * 129, None, "more than 128"),
]


class LotIntegrityCommon(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_plain = cls.env["product.product"].create(
            {"name": "Plain SN", "is_storable": True, "tracking": "serial"}
        )
        cls.company_b = cls.env["res.company"].create({"name": "Company B (lots)"})

    def _lots(self, product, name=None):
        domain = [("product_id", "=", product.id)]
        if name is not None:
            domain.append(("name", "=", name))
        return self.env["stock.lot"].search(domain)


class TestLotNumberKey(LotIntegrityCommon):
    def test_key_of_code_and_plain_products(self):
        coded = self._create_lot(self.product_serial, " Sn-01 ")
        plain = self._create_lot(self.product_plain, " Sn-01 ")
        self.assertEqual(coded.name, "Sn-01")
        self.assertEqual(coded.name_key, "sn-01")
        self.assertEqual(plain.name, " Sn-01 ", "products without a code keep vanilla")
        self.assertEqual(plain.name_key, " Sn-01 ")
        coded.name = "SN-02"
        self.assertEqual(coded.name_key, "sn-02")

    def test_case_variant_refused_with_odoo_error(self):
        self._create_lot(self.product_serial, "SN1")
        for variant in ("sn1", " SN1 ", "\uff33\uff2e\uff11"):
            with self.assertRefused("SN1", ValidationError):
                self._create_lot(self.product_serial, variant)
        self.assertEqual(len(self._lots(self.product_serial)), 1)
        # Products without a code: Odoo's rule, the name as is.
        self._create_lot(self.product_plain, "SN1")
        self._create_lot(self.product_plain, "sn1")
        with self.assertRefused("SN1", ValidationError):
            self._create_lot(self.product_plain, "SN1")

    def test_company_rule(self):
        """Lots of two companies may share a number; a lot without company conflicts with
        every company's lot (Odoo's rule), also for case variants of a code product."""
        self._create_lot(self.product_serial, "CO-1", company_id=self.env.company.id)
        other = self._create_lot(self.product_serial, "co-1", company_id=self.company_b.id)
        self.assertTrue(other)
        with self.assertRefused("CO-1", ValidationError):
            self._create_lot(self.product_serial, " Co-1", company_id=False)
        shared = self._create_lot(self.product_serial, "SH-1", company_id=False)
        with self.assertRefused("SH-1", ValidationError):
            self._create_lot(self.product_serial, "sh-1", company_id=self.company_b.id)
        self.assertFalse(shared.company_id)

    def test_database_refuses_what_python_misses(self):
        """The key is the database's: a row inserted behind the ORM's back is refused."""
        lot = self._create_lot(self.product_serial, "DB-1", company_id=self.env.company.id)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO stock_lot (name, product_id, company_id, name_key,"
                    " tracking_status)"
                    " VALUES ('db-1', %s, %s, 'db-1', 'planned')",
                    [lot.product_id.id, lot.company_id.id or None],
                )
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO stock_lot (name, product_id, company_id, name_key,"
                    " tracking_status)"
                    " VALUES ('db-1', %s, NULL, 'db-1', 'planned')",
                    [lot.product_id.id],
                )
        # Another company may hold the number.
        with self.env.cr.savepoint() as sp:
            self.env.cr.execute(
                "INSERT INTO stock_lot (name, product_id, company_id, name_key,"
                " tracking_status)"
                " VALUES ('db-1', %s, %s, 'db-1', 'planned')",
                [lot.product_id.id, self.company_b.id],
            )
            sp.rollback()

    def test_constraint_is_the_exclusion(self):
        """btree_gist is available here: the exclusion constraint is in place."""
        self.env.cr.execute(
            "SELECT contype FROM pg_constraint WHERE conname = 'stock_lot_name_key_excl'"
        )
        self.assertEqual(self.env.cr.fetchone(), ("x",))
        self.assertEqual(
            self.env["stock.lot"]._item_tracking_ensure_name_key_constraint(), "exclusion"
        )

    def test_fallback_indexes(self):
        """Without btree_gist, unique indexes cover one company and the lots without one."""
        cr = self.env.cr
        cr.execute("ALTER TABLE stock_lot DROP CONSTRAINT stock_lot_name_key_excl")
        self.env["stock.lot"]._item_tracking_create_name_key_fallback()
        lot = self._create_lot(self.product_serial, "FB-1", company_id=self.env.company.id)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with cr.savepoint():
                cr.execute(
                    "INSERT INTO stock_lot (name, product_id, company_id, name_key,"
                    " tracking_status)"
                    " VALUES ('fb-1', %s, %s, 'fb-1', 'planned')",
                    [lot.product_id.id, lot.company_id.id or None],
                )

    def test_key_not_writable(self):
        lot = self._create_lot(self.product_serial, "KEY-1")
        with self.assertRefused("computed"):
            lot.with_user(self.lowest_user).write({"name_key": "other"})
        with self.assertRefused("computed"):
            self.env["stock.lot"].with_user(self.lowest_user).create(
                {"name": "KEY-2", "product_id": self.product_serial.id, "name_key": "x"}
            )

    def test_giving_a_code_lists_variants(self):
        self._create_lot(self.product_plain, "VAR-1")
        self._create_lot(self.product_plain, "var-1 ")
        self._create_lot(self.product_plain, "VAR-2")
        self._create_lot(self.product_plain, "var-3", company_id=self.company_b.id)
        with self.assertRefused(r"'VAR-1', 'var-1 '"):
            self.product_plain.product_tmpl_id.item_tracking_code_id = self.code_serial
        self.assertFalse(self.product_plain.item_tracking_code_id)
        self._lots(self.product_plain, "var-1 ").name = "VAR-1B"
        self.product_plain.product_tmpl_id.item_tracking_code_id = self.code_serial
        self.assertEqual(self._lots(self.product_plain, "VAR-1B").name_key, "var-1b")
        with self.assertRefused("VAR-2", ValidationError):
            self._create_lot(self.product_plain, "var-2")


class TestCleanNumbers(LotIntegrityCommon):
    """The table of bad inputs through every entry path."""

    def _through_create(self, typed):
        return self._create_lot(self.product_serial, typed).name

    def _through_write(self, typed):
        lot = self._create_lot(self.product_serial, "TMP-WRITE")
        lot.write({"name": typed})
        return lot.name

    def _through_load(self, typed):
        result = self.env["stock.lot"].load(
            ["name", "product_id/.id"], [[typed, str(self.product_serial.id)]]
        )
        if not result["ids"]:
            raise UserError("; ".join(m["message"] for m in result["messages"]))
        return self.env["stock.lot"].browse(result["ids"]).name

    def _through_receipt(self, typed):
        picking = self._receipt(self.product_serial, [{"lot_name": typed}])
        self._validate(picking)
        return picking.move_line_ids.lot_id.name

    def _through_generator(self, typed):
        picking = self._create_picking(self.warehouse.in_type_id, self.product_serial, 1)
        move = picking.move_ids
        move._generate_serial_numbers(typed, 1)
        return move.move_line_ids.lot_name

    def _through_import(self, typed):
        picking = self._create_picking(self.warehouse.in_type_id, self.product_serial, 1)
        move = picking.move_ids
        context = {
            "default_product_id": self.product_serial.id,
            "default_tracking": "serial",
            "default_quantity": 1,
            "default_location_dest_id": move.location_dest_id.id,
            "default_picking_type_id": picking.picking_type_id.id,
            "default_company_id": picking.company_id.id,
        }
        vals = self.env["stock.move"].action_generate_lot_line_vals(
            context, "import", False, 0, f"{typed}\nOTHER-1"
        )
        return vals[0]["lot_name"]

    def test_bad_input_table(self):
        paths = {
            "create": self._through_create,
            "write": self._through_write,
            "load": self._through_load,
            "receipt": self._through_receipt,
        }
        for path, call in paths.items():
            for typed, stored, refusal in BAD_INPUTS:
                if path == "receipt" and not typed:
                    refusal = "(?i)supply a Lot/Serial Number"  # Odoo's: no number typed
                with self.subTest(path=path, typed=typed):
                    self._assert_entry(call, typed, stored, refusal)

    def test_bad_input_table_generators(self):
        for path, call in (
            ("generator", self._through_generator),
            ("import", self._through_import),
        ):
            for typed, stored, refusal in BAD_INPUTS:
                if path == "import" and (not typed.strip() or "\t" in typed or "\n" in typed):
                    continue  # tabs/newlines separate pasted columns/lines, blank lines skipped
                if path == "generator" and stored and len(stored) >= 128:
                    # No digit: Odoo's generator appends a "0", one character too many.
                    stored, refusal = None, "more than 128"
                with self.subTest(path=path, typed=typed):
                    self._assert_entry(call, typed, stored, refusal)

    def _assert_entry(self, call, typed, stored, refusal):
        """`call(typed)` gives the number `stored`, or is refused with `refusal` (and
        leaves nothing behind)."""
        if stored is None:
            before = self.env["stock.lot"].search_count([])
            with self.assertRefused(refusal):
                call(typed)
            self.assertEqual(self.env["stock.lot"].search_count([]), before)
        else:
            with self.env.cr.savepoint() as sp:
                self.assertEqual(call(typed), stored)
                sp.rollback()
            self.env.invalidate_all()

    def test_products_without_code_keep_vanilla(self):
        for typed in (" SN1", "SN\u200b1", "a\tb"):
            lot = self._create_lot(self.product_plain, typed)
            self.assertEqual(lot.name, typed)

    def test_batch_with_repeats_names_all(self):
        with self.assertRefused(r"R-1 = r-1 ; .*R-2 = R-2|R-1 = r-1; R-2 = R-2"):
            self.env["stock.lot"].create(
                [
                    {"name": name, "product_id": self.product_serial.id}
                    for name in ("R-1", "r-1 ", "R-2", "R-2", "R-3")
                ]
            )
        self.assertFalse(self._lots(self.product_serial))

    def test_batch_of_one_number_for_two_companies(self):
        """Odoo's company rule holds within one batch too: one number for two companies is
        two lots; with a lot without company it is a repeat."""
        lots = self.env["stock.lot"].create(
            [
                {"name": "MC-1", "product_id": self.product_serial.id, "company_id": company.id}
                for company in (self.env.company, self.company_b)
            ]
        )
        self.assertEqual(lots.company_id, self.env.company | self.company_b)
        self.assertEqual(set(lots.mapped("name_key")), {"mc-1"})
        with self.assertRefused("MC-2 = mc-2|mc-2 = MC-2"):
            self.env["stock.lot"].create(
                [
                    {"name": "MC-2", "product_id": self.product_serial.id, "company_id": False},
                    {
                        "name": "mc-2",
                        "product_id": self.product_serial.id,
                        "company_id": self.company_b.id,
                    },
                ]
            )

    def test_bad_batch_names_all(self):
        with self.assertRefused(r"'A\\u200b1'.*'B\\t2'.*''"):
            self.env["stock.lot"].create(
                [
                    {"name": name, "product_id": self.product_serial.id}
                    for name in ("A\u200b1", "OK-1", "B\t2", "")
                ]
            )
        self.assertFalse(self._lots(self.product_serial))

    def test_paste_with_repeats_names_all(self):
        picking = self._create_picking(self.warehouse.in_type_id, self.product_serial, 3)
        context = {
            "default_product_id": self.product_serial.id,
            "default_tracking": "serial",
            "default_quantity": 3,
            "default_location_dest_id": picking.location_dest_id.id,
            "default_picking_type_id": picking.picking_type_id.id,
            "default_company_id": picking.company_id.id,
        }
        with self.assertRefused("P-1 = p-1"):
            self.env["stock.move"].action_generate_lot_line_vals(
                context, "import", False, 0, "P-1\np-1 \nP-2"
            )
        with self.assertRefused("SN1 = sn1"):
            self._receipt(self.product_serial, [{"lot_name": "SN1"}, {"lot_name": "sn1"}])

    def test_receipt_resolves_existing_lot(self):
        lot = self._create_lot(self.product_serial, "SN1")
        picking = self._receipt(self.product_serial, [{"lot_name": " sn1 "}])
        self._validate(picking)
        self.assertEqual(picking.move_line_ids.lot_id, lot)
        self.assertEqual(len(self._lots(self.product_serial)), 1)

    def test_import_with_existing_lots_resolves(self):
        lot = self._create_lot(self.product_serial, "EX-1")
        picking = self._create_picking(self.warehouse.in_type_id, self.product_serial, 2)
        picking.picking_type_id.use_existing_lots = True
        context = {
            "default_product_id": self.product_serial.id,
            "default_tracking": "serial",
            "default_quantity": 2,
            "default_location_dest_id": picking.location_dest_id.id,
            "default_picking_type_id": picking.picking_type_id.id,
            "default_company_id": picking.company_id.id,
        }
        vals = self.env["stock.move"].action_generate_lot_line_vals(
            context, "import", False, 0, " ex-1\nEX-2"
        )
        lot_ids = [
            v["lot_id"]["id"] if isinstance(v["lot_id"], dict) else v["lot_id"] for v in vals
        ]
        self.assertEqual(lot_ids[0], lot.id)
        self.assertEqual(len(self._lots(self.product_serial)), 2)

    def test_key_written_with_the_lot_whatever_the_context(self):
        """The key given with the INSERT is the add-on's: a `default_name_key` or other
        context keys sent over RPC by the lowest user don't set it, nor let a case variant
        of an existing number through; `load` can't name it either."""
        self._create_lot(self.product_serial, "CTX-1")
        hostile = {
            "default_name_key": "garbage",
            "tracking_disable": True,
            "install_mode": True,
            "import_file": True,
        }
        Lot = self.env["stock.lot"].with_user(self.lowest_user).with_context(**hostile)
        lot = Lot.create({"name": " Ctx-2 ", "product_id": self.product_serial.id})
        self.assertEqual(lot.sudo().name_key, "ctx-2")
        with self.assertRefused("CTX-1", ValidationError):
            Lot.with_context(default_name_key="ctx-1").create(
                {"name": "ctx-1", "product_id": self.product_serial.id}
            )
        result = Lot.load(
            ["name", "product_id/.id", "name_key"], [["CTX-3", self.product_serial.id, "x"]]
        )
        self.assertFalse(result["ids"])
        self.assertEqual(len(self._lots(self.product_serial)), 2)

    def test_other_company_user_shares_a_number_but_not_a_shared_lot(self):
        """A stock user of another company creates a number the first company holds (lots of
        two companies may share it, also in one batch with his own), not a lot without
        company with it (it would conflict with the first company's lot he can't see)."""
        self._create_lot(self.product_serial, "OC-1", company_id=self.env.company.id)
        user_b = new_test_user(
            self.env,
            "sit_lot_company_b",
            groups="stock.group_stock_user,stock.group_production_lot",
            company_id=self.company_b.id,
            company_ids=[self.company_b.id],
        )
        Lot = self.env["stock.lot"].with_user(user_b).with_company(self.company_b)
        lots = Lot.create(
            [
                {
                    "name": name,
                    "product_id": self.product_serial.id,
                    "company_id": self.company_b.id,
                }
                for name in (" oc-1", "OC-2")
            ]
        )
        self.assertEqual(lots.sudo().mapped("name_key"), ["oc-1", "oc-2"])
        with self.assertRefused("OC-1", ValidationError):
            Lot.create({"name": "Oc-1", "product_id": self.product_serial.id, "company_id": False})

    def test_form_and_lowest_user(self):
        form = Form(self.env["stock.lot"].with_user(self.lowest_user))
        form.product_id = self.product_serial
        form.name = "  FORM-1  "
        lot = form.save()
        self.assertEqual(lot.name, "FORM-1")
        with self.assertRefused("control or invisible"):
            lot.with_user(self.lowest_user).write({"name": "FORM\u200b-2"})


class TestInstallWithDuplicates(LotIntegrityCommon):
    """An older database holding duplicates installs: they are left out of the guarantee
    (no key) until merged, and no new duplicate can be created meanwhile."""

    def _insert(self, name, product, company=None):
        self.env.cr.execute(
            "INSERT INTO stock_lot (name, product_id, company_id, tracking_status,"
            " create_date, write_date) VALUES (%s, %s, %s, 'planned', now(), now())"
            " RETURNING id",
            [name, product.id, company],
        )
        return self.env["stock.lot"].browse(self.env.cr.fetchone()[0])

    def _rebuild(self):
        """What installation/upgrade runs after the ORM created the column: init()."""
        cr = self.env.cr
        cr.execute("ALTER TABLE stock_lot DROP CONSTRAINT stock_lot_name_key_excl")
        cr.execute("UPDATE stock_lot SET name_key = NULL")
        self.env.invalidate_all()
        self.env["stock.lot"].init()

    def test_install_with_duplicates(self):
        company = self.env.company.id
        kept = self._insert("DUP-1", self.product_plain, company)
        dup = self._insert("DUP-1", self.product_plain, company)
        shared = self._insert("DUP-1", self.product_plain, None)
        other_company = self._insert("DUP-1", self.product_plain, self.company_b.id)
        coded_kept = self._insert("CD-1", self.product_serial, company)
        coded_dup = self._insert(" cd-1", self.product_serial, company)
        self._rebuild()
        self.env.cr.execute(
            "SELECT contype FROM pg_constraint WHERE conname = 'stock_lot_name_key_excl'"
        )
        self.assertEqual(self.env.cr.fetchone(), ("x",))
        self.assertEqual(kept.name_key, "DUP-1")
        self.assertFalse(dup.name_key)
        self.assertFalse(shared.name_key, "a lot without company conflicts with the kept lot")
        self.assertEqual(other_company.name_key, "DUP-1", "another company may hold it")
        self.assertEqual(coded_kept.name_key, "cd-1")
        self.assertFalse(coded_dup.name_key)
        # No new duplicate meanwhile.
        with self.assertRefused("DUP-1", ValidationError):
            self._create_lot(self.product_plain, "DUP-1")
        with self.assertRefused("CD-1", ValidationError):
            self._create_lot(self.product_serial, "Cd-1")
        groups = self.env["stock.lot"]._item_tracking_duplicate_groups()
        self.assertEqual([g for g in groups if g[0] == kept], [kept | dup | shared])
        # An upgrade keeps them out, and readmits a lot once it is alone with its number.
        dup.name = "DUP-1-RENAMED"
        self.assertEqual(dup.name_key, "DUP-1-RENAMED")
        self.env["stock.lot"].init()
        self.assertFalse(shared.name_key)


class TestLotMerge(LotIntegrityCommon):
    def _duplicates(self, product, name, count=2, company=None):
        company = self.env.company.id if company is None else company
        lots = self.env["stock.lot"]
        for _index in range(count):
            self.env.cr.execute(
                "INSERT INTO stock_lot (name, product_id, company_id, tracking_status,"
                " create_date, write_date) VALUES (%s, %s, %s, 'planned', now(), now())"
                " RETURNING id",
                [name, product.id, company or None],
            )
            lots |= lots.browse(self.env.cr.fetchone()[0])
        self.env["stock.lot"]._item_tracking_fill_name_keys([product.id])
        self.env.invalidate_all()
        return lots

    def _merge(self, lots, user=None, companies=None):
        env = self.env(user=user or self.tracking_manager)
        if companies:
            env = env(context=dict(env.context, allowed_company_ids=companies.ids))
        action = env["stock.lot"].browse(lots.ids).action_merge_duplicates()
        return env[action["res_model"]].browse(action["res_id"]).action_merge()

    def test_merge_moves_quants_lines_and_references(self):
        kept, dup = self._duplicates(self.product_lot, "LM-1")
        self.assertTrue(kept.name_key)
        self.assertFalse(dup.name_key)
        self._validate(self._receipt(self.product_lot, [{"lot_id": kept, "quantity": 3}]))
        receipt = self._receipt(self.product_lot, [{"lot_id": dup, "quantity": 2}])
        self._validate(receipt)
        shelf = self.env["stock.location"].create(
            {"name": "Shelf LM", "location_id": self.stock_location.id}
        )
        self._put_in_stock(self.product_lot, dup, 4, shelf)
        dup.message_post(body="note on the duplicate")
        dup_logs = dup.status_log_ids
        self.assertTrue(dup_logs)
        self._merge(kept | dup)
        self.assertTrue(dup_logs.exists())
        self.assertEqual(dup_logs.lot_id, kept, "the add-on's own references move too")
        self.assertFalse(dup.exists())
        quants = self.env["stock.quant"].search(
            [("lot_id", "=", kept.id), ("location_id.usage", "=", "internal")]
        )
        self.assertEqual(len(quants.filtered(lambda q: q.location_id == self.stock_location)), 1)
        self.assertEqual(self._on_hand(self.product_lot, kept), 3 + 2 + 4)
        self.assertEqual(receipt.move_line_ids.lot_id, kept)
        self.assertFalse(self.env["stock.quant"].search([("lot_id", "=", dup.id)]))
        bodies = " ".join(kept.message_ids.mapped("body"))
        self.assertIn("Merged the duplicate numbers LM-1", bodies)
        self.assertIn("Duplicate number merged into", bodies)
        self.assertIn("note on the duplicate", bodies)
        self.assertTrue(kept.status_log_ids or kept.tracking_status)
        self.assertEqual(kept.tracking_status, "received")
        # The number is now free of duplicates and still guarded.
        with self.assertRefused("LM-1", ValidationError):
            self._create_lot(self.product_lot, "LM-1")

    def test_merge_refused_for_serial_in_two_places(self):
        kept, dup = self._duplicates(self.product_serial, "MS-1")
        shelf = self.env["stock.location"].create(
            {"name": "Shelf MS", "location_id": self.stock_location.id}
        )
        self._put_in_stock(self.product_serial, kept, 1)
        self._put_in_stock(self.product_serial, dup, 1, shelf)
        with self.assertRefused("MS-1 is on hand in two places"):
            self._merge(kept | dup)
        self.assertTrue(dup.exists())
        # Corrected (one of them gone): the merge goes through.
        self.env["stock.quant"].search([("lot_id", "=", dup.id)]).sudo().unlink()
        self._merge(kept | dup)
        self.assertFalse(dup.exists())

    def test_merge_access_and_companies(self):
        kept, dup = self._duplicates(self.product_lot, "MA-1")
        with self.assertRefused("Item Tracking Managers", AccessError):
            self._merge(kept | dup, user=self.lowest_user)
        with self.assertRaises(AccessError):
            self.env["stock.lot.merge"].with_user(self.lowest_user).create(
                {"lot_ids": [Command.set((kept | dup).ids)]}
            )
        other_kept, other_dup = self._duplicates(
            self.product_lot, "MA-2", company=self.company_b.id
        )
        manager = new_test_user(
            self.env,
            "sit_lot_merge_b",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
            company_id=self.env.company.id,
            company_ids=[Command.set([self.company_b.id, self.env.company.id])],
        )
        with self.assertRefused("companies you don't work in"):
            self._merge(other_kept | other_dup, user=manager, companies=self.env.company)
        self.assertTrue(other_dup.exists())

    def test_merge_from_the_list_action(self):
        """Lots list > Action > Merge Duplicate Numbers, keeping the lot chosen in the form."""
        kept, dup = self._duplicates(self.product_lot, "ML-1")
        action = self.env.ref("stock_item_tracking.action_stock_lot_merge_duplicates")
        self.assertEqual(
            action.groups_id, self.env.ref("stock_item_tracking.group_item_tracking_manager")
        )
        result = (
            action.with_user(self.tracking_manager)
            .with_context(active_model="stock.lot", active_ids=(kept | dup).ids)
            .run()
        )
        wizard = (
            self.env["stock.lot.merge"].with_user(self.tracking_manager).browse(result["res_id"])
        )
        self.assertEqual(wizard.keep_lot_id, kept, "the lot in the guarantee by default")
        with Form(wizard) as form:
            form.keep_lot_id = dup
        wizard.action_merge()
        self.assertFalse(kept.exists())
        self.assertEqual(dup.name_key, "ml-1", "the kept lot enters the guarantee")

    def test_merge_refuses_different_numbers(self):
        kept = self._create_lot(self.product_lot, "MD-1")
        other = self._create_lot(self.product_lot, "MD-2")
        with self.assertRefused("one number"):
            self._merge(kept | other)


class TestLotIntegrityHostile(LotIntegrityCommon):
    def test_load_of_the_key_refused(self):
        Lot = self.env["stock.lot"].with_user(self.lowest_user)
        result = Lot.load(
            ["name", "product_id/.id", "name_key"], [["HK-1", str(self.product_serial.id), "x"]]
        )
        self.assertFalse(result["ids"])
        self.assertRegex(result["messages"][0]["message"], "computed")

    def test_product_change_to_a_coded_product_checks_the_number(self):
        lot = self._create_lot(self.product_plain, "PC\u200b-1")
        with self.assertRefused("control or zero-width", ValidationError):
            lot.product_id = self.product_serial
        self._create_lot(self.product_serial, "PC-2")
        other = self._create_lot(self.product_plain, "pc-2")
        with self.assertRefused("PC-2", ValidationError):
            other.product_id = self.product_serial

    def test_company_change_checked(self):
        self._create_lot(self.product_serial, "CC-1", company_id=self.company_b.id)
        lot = self._create_lot(self.product_serial, "cc-1", company_id=self.env.company.id)
        with self.assertRefused("CC-1", ValidationError):
            lot.company_id = False
        self.assertEqual(lot.company_id, self.env.company)
        self.assertEqual(lot.name_key, "cc-1")
        # Products without a code: Odoo's own error, as in vanilla.
        self._create_lot(self.product_plain, "CC-2", company_id=self.company_b.id)
        plain = self._create_lot(self.product_plain, "CC-2", company_id=self.env.company.id)
        with self.assertRefused("CC-2", ValidationError):
            plain.company_id = False
        self.assertEqual(plain.name_key, "CC-2")

    def test_rename_of_lots_of_two_products_to_one_number(self):
        """Two products may share a number: one write naming lots of both is accepted."""
        serial = self._create_lot(self.product_serial, "TWO-1")
        lot = self._create_lot(self.product_lot, "TWO-2")
        (serial | lot).write({"name": " TWO-3 "})
        self.assertEqual((serial | lot).mapped("name"), ["TWO-3", "TWO-3"])

    def test_generator_with_the_moves_count_cleans(self):
        """Odoo's generator called without a count takes the move's: still checked."""
        picking = self._create_picking(self.warehouse.in_type_id, self.product_serial, 2)
        move = picking.move_ids
        move.next_serial_count = 2
        with self.assertRefused("control or invisible"):
            move._generate_serial_numbers("GEN\u200b-1")
        self.assertFalse(move.move_line_ids.filtered("lot_name"))
        move._generate_serial_numbers(" GEN-1 ")
        self.assertEqual(sorted(move.move_line_ids.mapped("lot_name")), ["GEN-1", "GEN-2"])

    def test_move_line_lot_name_write_as_lowest_user(self):
        """The typed number of a receipt line written over RPC by the lowest stock user is
        cleaned or refused; in one write over lines of a coded and a plain product, only the
        coded one is cleaned."""
        picking = self._receipt(self.product_serial, [{"lot_name": "W-1"}])
        line = picking.move_line_ids.with_user(self.lowest_user)
        line.with_context(tracking_disable=True).write({"lot_name": "  w-2 "})
        self.assertEqual(line.lot_name, "w-2")
        with self.assertRefused("control or invisible"):
            line.write({"lot_name": "W\u200b3"})
        self.assertEqual(line.lot_name, "w-2")
        plain = self._receipt(self.product_plain, [{"lot_name": "P-1"}]).move_line_ids
        (line | plain.with_user(self.lowest_user)).write({"lot_name": " MIX-1 "})
        self.assertEqual(line.lot_name, "MIX-1")
        self.assertEqual(plain.lot_name, " MIX-1 ")

    def test_mixed_rename(self):
        coded = self._create_lot(self.product_serial, "MX-1")
        plain = self._create_lot(self.product_plain, "MX-1")
        (coded | plain).write({"name": " MX-2 "})
        self.assertEqual(coded.name, "MX-2")
        self.assertEqual(plain.name, " MX-2 ")

    def test_unlink_of_the_kept_lot_readmits_its_twin(self):
        company = self.env.company.id
        lots = self.env["stock.lot"]
        for _index in range(2):
            self.env.cr.execute(
                "INSERT INTO stock_lot (name, product_id, company_id, tracking_status,"
                " create_date, write_date) VALUES ('TW-1', %s, %s, 'planned', now(), now())"
                " RETURNING id",
                [self.product_plain.id, company],
            )
            lots |= lots.browse(self.env.cr.fetchone()[0])
        self.env["stock.lot"]._item_tracking_fill_name_keys([self.product_plain.id])
        kept, twin = lots
        self.assertFalse(twin.name_key)
        kept.unlink()
        self.assertEqual(twin.name_key, "TW-1")
        with self.assertRefused("TW-1", ValidationError):
            self._create_lot(self.product_plain, "TW-1")
