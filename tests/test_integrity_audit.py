from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user
from odoo.tools import SQL

from .common import ItemTrackingCommon


class TestIntegrityAudit(ItemTrackingCommon):
    """The serial integrity audit (`stock.lot.integrity.issue`): each check finds a planted
    violation (planted with SQL, as an older database or a concurrent bug leaves it), reports
    nothing on consistent data, and only replaces its own findings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Issue = cls.env["stock.lot.integrity.issue"]
        cls.product_plain = cls._create_product("Saw (SN, no code)", tracking="serial")
        # Consistent stock: two received serials, one of them delivered, one lot.
        cls._receive_from_vendor(cls.product_serial, {"AUD-1": 1, "AUD-2": 1})
        cls._receive_from_vendor(cls.product_lot, {"AUD-LOT": 5})
        cls.sn1 = cls.env["stock.lot"].search([("name", "=", "AUD-1")])
        cls.sn2 = cls.env["stock.lot"].search([("name", "=", "AUD-2")])
        cls.lot = cls.env["stock.lot"].search([("name", "=", "AUD-LOT")])
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.out_type_id.id,
                "partner_id": cls.partner.id,
                "location_id": cls.stock_location.id,
                "location_dest_id": cls.customer_location.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "out",
                            "product_id": cls.product_serial.id,
                            "product_uom_qty": 1,
                            "product_uom": cls.product_serial.uom_id.id,
                            "location_id": cls.stock_location.id,
                            "location_dest_id": cls.customer_location.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_line_ids.write({"lot_id": cls.sn2.id, "quantity": 1})
        picking.move_ids.picked = True
        picking.button_validate()
        cls.manager = new_test_user(
            cls.env,
            "sit_audit_manager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )

    def _run(self):
        self.Issue._run_integrity_audit()
        return self.Issue.search([])

    def _sql(self, query, *args):
        self.env.flush_all()
        self.env.cr.execute(SQL(query, *args))
        self.env.invalidate_all()

    def _quant(self, lot):
        return self.env["stock.quant"].search(
            [("lot_id", "=", lot.id), ("location_id", "=", self.stock_location.id)]
        )

    def test_clean_database_no_issue(self):
        self.assertEqual(self.sn2.tracking_status, "shipped")
        self.assertFalse(self._run())

    def test_duplicate_numbers(self):
        # SQL: Odoo's Python check refuses them through the ORM
        dup = self._create_lot(self.product_serial, "AUD-DUP-X")
        self._sql("UPDATE stock_lot SET name = %s WHERE id = %s", " aud-1 ", dup.id)
        # without a tracking code, case variants are different numbers...
        plain = self._create_lot(self.product_plain, "P-1")
        plain2 = self._create_lot(self.product_plain, "p-1")
        # ...but the same name twice is one; a lot without company conflicts with the company's
        plain3 = self._create_lot(self.product_plain, "P-X", company_id=False)
        self._sql("UPDATE stock_lot SET name = 'P-1' WHERE id = %s", plain3.id)
        # a fullwidth variant (NFKC) is the same number for a coded product, as the guarantee says
        wide = self._create_lot(self.product_serial, "AUD-WIDE-X")
        self._sql("UPDATE stock_lot SET name = %s WHERE id = %s", "\uff21\uff35\uff24-1", wide.id)
        issues = self._run()
        self.assertEqual(set(issues.mapped("kind")), {"duplicate"})
        self.assertEqual(issues.lot_id, self.sn1 | dup | wide | plain | plain3)
        self.assertNotIn(plain2, issues.lot_id)
        groups = {issue.lot_id: issue.group_key for issue in issues}
        self.assertEqual(groups[self.sn1], groups[dup])
        self.assertEqual(groups[plain], groups[plain3])
        self.assertNotEqual(groups[plain], groups[dup])
        issue = issues.filtered(lambda i: i.lot_id == dup)
        self.assertIn("AUD-1", issue.description)
        self.assertEqual(issue._get_group_lots(), self.sn1 | dup | wide)
        action = issue.action_open_group()
        self.assertEqual(set(action["domain"][0][2]), set((self.sn1 | dup | wide).ids))
        action = issue.with_user(self.manager).action_merge()
        self.assertEqual(action["res_model"], "stock.lot.merge")
        wizard = self.env["stock.lot.merge"].browse(action["res_id"])
        self.assertEqual(wizard.lot_ids, self.sn1 | dup | wide)

    def test_duplicates_compared_by_the_guarantee_key(self):
        """Left out of the guarantee (no key) before the add-on: `straße` and a number with a
        zero-width space are `STRASSE` by the guarantee's key, which SQL's `lower` and
        `normalize` alone don't see."""
        kept = self._create_lot(self.product_serial, "AUD-STRASSE")
        sharp = self._create_lot(self.product_serial, "AUD-SHARP-X")
        hidden = self._create_lot(self.product_serial, "AUD-HIDDEN-X")
        self._sql(
            "UPDATE stock_lot SET name = %s, name_key = NULL WHERE id = %s",
            "aud-stra\u00dfe",
            sharp.id,
        )
        self._sql(
            "UPDATE stock_lot SET name = %s, name_key = NULL WHERE id = %s",
            "AUD-\u200bSTRASSE",
            hidden.id,
        )
        issues = self._run()
        self.assertEqual(issues.lot_id, kept | sharp | hidden)
        self.assertEqual(len(set(issues.mapped("group_key"))), 1)
        self.assertEqual(issues[0]._get_group_lots(), kept | sharp | hidden)
        issue = issues.filtered(lambda i: i.lot_id == sharp)
        self.assertIn("AUD-STRASSE", issue.description)

    def test_duplicates_other_company_not_conflicting(self):
        company_b = self.env["res.company"].create({"name": "Audit B"})
        self.product_plain.company_id = False
        self._create_lot(self.product_plain, "P-MC", company_id=self.env.company.id)
        self._create_lot(self.product_plain, "P-MC", company_id=company_b.id)
        self.assertFalse(self._run())

    def test_serial_quantity_above_one(self):
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        issues = self._run()
        self.assertEqual(issues.mapped("kind"), ["serial_quantity"])
        self.assertEqual(issues.lot_id, self.sn1)
        self.assertIn("AUD-1", issues.description)
        self.assertEqual(issues.action_open_lot()["res_id"], self.sn1.id)

    def test_serial_in_two_places(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf AUD", "location_id": self.stock_location.id}
        )
        self._sql(
            """INSERT INTO stock_quant (product_id, location_id, lot_id, company_id, quantity,
                                        reserved_quantity, in_date, create_date)
               SELECT product_id, %s, lot_id, company_id, 1, 0, now(), now()
                 FROM stock_quant WHERE id = %s""",
            shelf.id,
            self._quant(self.sn1).id,
        )
        issues = self._run()
        self.assertEqual(issues.mapped("kind"), ["serial_quantity"])
        self.assertIn("2", issues.description)

    def test_negative_quant(self):
        quant = self._quant(self.lot)
        self._sql("UPDATE stock_quant SET quantity = -3 WHERE id = %s", quant.id)
        issues = self._run()
        negative = issues.filtered(lambda i: i.kind == "negative_quant")
        self.assertEqual(negative.quant_id, quant)
        self.assertEqual(negative.record_ref, quant)
        self.assertEqual(negative.action_open_record()["res_model"], "stock.quant")
        # the lot's history (5 received) gives "received": its status is no issue
        self.assertEqual(issues, negative)

    def test_over_reserved(self):
        self._sql(
            "UPDATE stock_quant SET reserved_quantity = 2 WHERE id = %s", self._quant(self.sn1).id
        )
        issues = self._run()
        self.assertEqual(issues.mapped("kind"), ["over_reserved"])
        self.assertEqual(issues.quant_id, self._quant(self.sn1))

    def test_blocked_reserved(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        line = picking.move_line_ids
        self.assertEqual(line.lot_id, self.sn1)
        # blocking drops the reservation: plant a blocked number that kept it
        self._sql("UPDATE stock_lot SET blocked = TRUE WHERE id = %s", self.sn1.id)
        issues = self._run()
        self.assertEqual(issues.mapped("kind"), ["blocked_reserved", "blocked_reserved"])
        self.assertEqual(issues.move_line_id, line)
        self.assertEqual(issues.quant_id, self._quant(self.sn1))
        self.assertEqual(
            issues.filtered("move_line_id").action_open_record()["res_model"], "stock.move.line"
        )

    def test_blocked_unreserved_no_issue(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        self.sn1.with_user(self.manager).write({"blocked": True, "blocked_reason": "QC"})
        self.assertFalse(picking.move_line_ids)
        self.assertFalse(self._run())

    def test_status_disagrees_with_history(self):
        self._sql("UPDATE stock_lot SET tracking_status = 'consumed' WHERE id = %s", self.sn2.id)
        planned = self._create_lot(self.product_serial, "AUD-PLANNED")
        self._sql("UPDATE stock_lot SET tracking_status = 'received' WHERE id = %s", planned.id)
        issues = self._run()
        self.assertEqual(issues.mapped("kind"), ["status", "status"])
        self.assertEqual(issues.lot_id, self.sn2 | planned)
        issue = issues.filtered(lambda i: i.lot_id == self.sn2)
        self.assertIn("Consumed", issue.description)
        self.assertIn("Shipped", issue.description)

    def test_status_check_is_the_recompute_replay(self):
        """Every lot with done moves given a wrong status is reported with the status that
        the recompute's history and replay give (the check groups lots by their moves)."""
        from ..tools.lot_status import replay

        scrap = self.env["stock.scrap"].create(
            {"product_id": self.product_lot.id, "lot_id": self.lot.id, "scrap_qty": 5}
        )
        scrap.action_validate()
        lots = self.sn1 | self.sn2 | self.lot
        history = lots._read_item_tracking_history()
        expected = {lot.id: replay(history[lot.id])[0] for lot in lots}
        self.assertEqual(set(expected.values()), {"received", "shipped", "written_off"})
        self._sql("UPDATE stock_lot SET tracking_status = 'planned' WHERE id = ANY(%s)", lots.ids)
        issues = self._run()
        self.assertEqual(issues.lot_id, lots)
        labels = dict(self.env["stock.lot"]._fields["tracking_status"].selection)
        for issue in issues:
            self.assertIn(
                f"its history gives {labels[expected[issue.lot_id.id]]}", issue.description
            )

    def test_done_move_of_blocked_number(self):
        lot = self.sn1.with_user(self.manager).with_context(tracking_disable=False)
        lot.write({"blocked": True, "blocked_reason": "QC"})
        self.env.cr.precommit.run()
        # a move line done after the block (an older database, or a path that slipped)
        ml = self.env["stock.move.line"].search([("lot_id", "=", self.sn1.id)])
        message = self.sn1.message_ids.filtered("tracking_value_ids")[:1]
        self._sql(
            """INSERT INTO stock_move_line (product_id, product_uom_id, location_id,
                   location_dest_id, lot_id, quantity, quantity_product_uom, state, date,
                   company_id, reference, create_date)
               SELECT product_id, product_uom_id, location_dest_id, %s, lot_id, 1, 1, 'done',
                      %s::timestamp + interval '1 hour', company_id, 'AUD/SLIPPED', now()
                 FROM stock_move_line WHERE id = %s
               RETURNING id""",
            self.customer_location.id,
            message.date,
            ml.id,
        )
        issues = self._run()
        moved = issues.filtered(lambda i: i.kind == "blocked_done_move")
        self.assertEqual(len(moved), 1)
        self.assertEqual(moved.move_line_id.reference, "AUD/SLIPPED")
        self.assertIn("AUD/SLIPPED", moved.description)
        # its receipt, before the block, is no issue; unblocked later, a later move is none
        self.assertNotIn(ml, issues.move_line_id)

    def test_done_move_after_unblock_no_issue(self):
        lot = self.sn1.with_user(self.manager).with_context(tracking_disable=False)
        lot.write({"blocked": True, "blocked_reason": "QC"})
        self.env.cr.precommit.run()
        self._sql(
            "UPDATE mail_message SET date = date - interval '2 days'"
            " WHERE model = 'stock.lot' AND res_id = %s",
            self.sn1.id,
        )
        lot.blocked = False
        self.env.cr.precommit.run()
        self._sql(
            "UPDATE stock_move_line SET date = now() + interval '1 hour' WHERE lot_id = %s",
            self.sn1.id,
        )
        self.assertFalse(self._run().filtered(lambda i: i.kind == "blocked_done_move"))

    def test_audit_writes_no_stock_data(self):
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        self._sql("UPDATE stock_lot SET tracking_status = 'consumed' WHERE id = %s", self.sn2.id)

        def snapshot():
            self.env.flush_all()
            tables = {}
            for table in (
                "stock_quant",
                "stock_lot",
                "stock_move_line",
                "stock_move",
                "stock_lot_status_log",
            ):
                self.env.cr.execute(
                    SQL(
                        "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM %s t",
                        SQL.identifier(table),
                    )
                )
                tables[table] = self.env.cr.fetchone()[0]
            return tables

        before = snapshot()
        self.assertTrue(self._run())
        self.assertEqual(snapshot(), before)
        # run again: the findings are replaced, not added
        count = self.Issue.search_count([])
        self.Issue._run_integrity_audit()
        self.assertEqual(self.Issue.search_count([]), count)

    def test_access(self):
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        self._run()
        with self.assertRaises(AccessError):
            self.Issue.with_user(self.lowest_user).search([])
        with self.assertRaises(AccessError):
            self.Issue.with_user(self.lowest_user).action_run_audit()
        self.assertEqual(len(self.Issue.with_user(self.manager).search([])), 1)
        stock_manager = new_test_user(
            self.env, "sit_audit_stock_manager", groups="stock.group_stock_manager"
        )
        self.assertEqual(len(self.Issue.with_user(stock_manager).search([])), 1)
        # a manager runs it now; the findings are the same
        self.Issue.with_user(self.manager).action_run_audit()
        self.assertEqual(len(self.Issue.search([])), 1)

    def test_other_company_findings_invisible(self):
        company_b = self.env["res.company"].create({"name": "Audit Company B"})
        product_b = self._create_product("Drill of B", self.code_serial, company_id=company_b.id)
        lot_b = self._create_lot(product_b, "B-1", company_id=company_b.id)
        self._sql("UPDATE stock_lot SET tracking_status = 'received' WHERE id = %s", lot_b.id)
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        self._run()
        self.assertEqual(len(self.Issue.search([])), 2)
        visible = self.Issue.with_user(self.manager).search([])
        self.assertEqual(visible.lot_id, self.sn1)
        manager_b = new_test_user(
            self.env,
            "sit_audit_manager_b",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        self.assertEqual(self.Issue.with_user(manager_b).search([]).lot_id, lot_b)

    def test_checks_extendable(self):
        names = self.Issue._get_integrity_checks()
        self.assertEqual(len(names), 7)
        self.assertTrue(all(hasattr(self.Issue, name) for name in names))

    def test_findings_read_only_for_managers(self):
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        issue = self._run()
        Issue = self.Issue.with_user(self.manager)
        with self.assertRaises(AccessError):
            Issue.create({"kind": "duplicate", "lot_id": self.sn2.id})
        with self.assertRaises(AccessError):
            issue.with_user(self.manager).write({"description": "fixed"})
        with self.assertRaises(AccessError):
            issue.with_user(self.manager).unlink()
        self.assertEqual(issue.with_user(self.manager).action_open_record()["res_id"], self.sn1.id)

    def test_scheduled_job_and_menu(self):
        cron = self.env.ref("stock_item_tracking.ir_cron_lot_integrity_audit")
        self.assertTrue(cron.active)
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        cron.ir_actions_server_id.run()
        self.assertEqual(self.Issue.search([]).mapped("kind"), ["serial_quantity"])
        menu = self.env.ref("stock_item_tracking.menu_stock_lot_integrity_issue")
        self.assertEqual(menu.parent_id, self.env.ref("stock.menu_warehouse_report"))
        self.assertEqual(
            set(menu.groups_id.ids),
            {
                self.env.ref("stock_item_tracking.group_item_tracking_manager").id,
                self.env.ref("stock.group_stock_manager").id,
            },
        )
        # the server action "Run check now" as a manager
        action = self.env.ref("stock_item_tracking.action_stock_lot_integrity_run")
        self._sql("UPDATE stock_quant SET quantity = 1 WHERE id = %s", self._quant(self.sn1).id)
        action.with_user(self.manager).run()
        self.assertFalse(self.Issue.search([]))

    def test_merge_refused_outside_duplicates(self):
        self._sql("UPDATE stock_quant SET quantity = 2 WHERE id = %s", self._quant(self.sn1).id)
        issue = self._run()
        with self.assertRaisesRegex(UserError, "AUD-1"):
            issue.with_user(self.manager).action_merge()
