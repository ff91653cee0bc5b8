from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import GenealogyCommon


@tagged("post_install", "-at_install")
class TestRecall(GenealogyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_robots(count=4)
        cls.partner.write({"street": "1 Main Street", "city": "Springfield", "zip": "4242"})

    def _lot(self, name):
        return self.env["stock.lot"].search([("name", "=", name)])

    def _lines(self, action):
        return self.env[action["res_model"]].search(action["domain"])

    def test_recall_three_levels(self):
        """CELL-A went into MOD-1 and MOD-3, those into ROB-1 (delivered to a customer) and
        ROB-3 (in stock, reserved by an open delivery)."""
        self._validate(self._delivery(self.robot, [{"lot_id": self._lot("ROB-1")}]))
        open_delivery = self._create_picking(self.warehouse.out_type_id, self.robot, 1)
        open_delivery.move_ids.move_line_ids.unlink()
        open_delivery.move_ids._update_reserved_quantity(
            1, self.stock_location, lot_id=self._lot("ROB-3"), strict=True
        )
        self.assertEqual(open_delivery.move_line_ids.lot_id, self._lot("ROB-3"))

        action = self.cell_a.action_recall_impact()
        self.assertEqual(action["res_model"], "stock.lot.recall.line")
        lines = self._lines(action)
        self.assertEqual(
            {line.lot_id.name: line.level for line in lines},
            {"MOD-1": 1, "MOD-3": 1, "ROB-1": 2, "ROB-3": 2},
        )
        by_name = {line.lot_id.name: line for line in lines}
        self.assertRecordValues(
            by_name["MOD-1"],
            [{"tracking_status": "consumed", "location_id": False, "in_stock": False}],
        )
        self.assertRecordValues(
            by_name["ROB-1"],
            [
                {
                    "tracking_status": "shipped",
                    "customer_id": self.partner.id,
                    "location_id": False,
                    "in_stock": False,
                }
            ],
        )
        self.assertIn("1 Main Street", by_name["ROB-1"].customer_address)
        self.assertRecordValues(
            by_name["ROB-3"],
            [
                {
                    "tracking_status": "received",
                    "location_id": self.stock_location.id,
                    "quantity": 1.0,
                    "in_stock": True,
                }
            ],
        )
        self.assertEqual(by_name["ROB-3"].picking_ids, open_delivery)
        # exported through Odoo's list export
        export = lines.export_data(["lot_id", "level", "customer_address", "picking_ids"])
        self.assertEqual(len(export["datas"]), 4)

    def test_recall_of_several_lots(self):
        chip_2 = self._lot("CHIP-2")
        lines = self._lines((self.cell_a | chip_2).action_recall_impact())
        self.assertEqual(
            set(lines.lot_id.mapped("name")), {"MOD-1", "MOD-2", "MOD-3", "ROB-1", "ROB-2", "ROB-3"}
        )

    def _block(self, user, reason):
        action = self.cell_a.with_user(user).action_recall_impact()
        lines = self.env[action["res_model"]].with_user(user).search(action["domain"])
        block_action = lines.browse().with_context(**action["context"]).action_open_block_affected()
        recall = self.env["stock.lot.recall"].with_user(user).browse(block_action["res_id"])
        recall.reason = reason
        return recall

    def test_block_affected_in_stock_only(self):
        self._validate(self._delivery(self.robot, [{"lot_id": self._lot("ROB-1")}]))
        recall = self._block(self.tracking_manager, "Cell supplier recall 42")
        self.assertEqual(recall.to_block_count, 1)
        recall.action_block_affected()
        rob_3 = self._lot("ROB-3")
        self.assertTrue(rob_3.blocked)
        self.assertEqual(rob_3.blocked_reason, "Cell supplier recall 42")
        self.assertIn("Cell supplier recall 42", rob_3.message_ids[0].body)
        for name in ("ROB-1", "MOD-1", "MOD-3", "ROB-2"):
            self.assertFalse(self._lot(name).blocked, name)

    def test_block_affected_refusals(self):
        recall = self._block(self.tracking_manager, "  ")
        with self.assertRefused("reason"):
            recall.action_block_affected()
        recall = self._block(self.lowest_user, "Cell supplier recall")
        with self.assertRefused("Only Item Tracking Managers", AccessError):
            recall.action_block_affected()
        self.assertFalse((self.robots | self.modules).filtered("blocked"))
        with self.assertRaises(UserError):
            self.env["stock.lot"].action_recall_impact()

    def test_recall_queries_do_not_grow_with_units(self):
        """One recursive query for the whole tree, then batch reads: recalling a lot used
        in one unit (CHIP-1) or in two (CELL-A) costs the same number of queries."""
        chip_1 = self._lot("CHIP-1")

        def count(lot):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            lot.action_recall_impact()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        count(self.cell_a)  # warm up
        one, many = count(chip_1), count(self.cell_a)
        self.assertEqual(
            len(self.env["stock.lot.recall"].search([], order="id desc", limit=1).line_ids), 4
        )
        self.assertEqual(one, many)
