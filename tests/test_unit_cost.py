from odoo.tests import tagged

from .common import GenealogyCommon


@tagged("post_install", "-at_install")
class TestUnitCost(GenealogyCommon):
    def _lot(self, name):
        return self.env["stock.lot"].search([("name", "=", name)])

    def test_unit_cost_standard_and_average_components(self):
        """Module: chip at standard cost 100, two cells at average cost (2 at 10 and 2 at
        16: 13), half an hour at 60 an hour (30): 156. Robot: its module (156 average) and
        the order's extra unit cost 4: 160."""
        self._build_robots(count=2)
        for name in ("MOD-1", "MOD-2"):
            self.assertEqual(self._lot(name).unit_cost, 156.0)
        for name in ("ROB-1", "ROB-2"):
            self.assertEqual(self._lot(name).unit_cost, 160.0)
        # the purchased lots were not produced: no unit cost
        self.assertEqual(self.cell_a.unit_cost, 0.0)
        self.assertEqual(self._lot("ROB-1").unit_cost_currency_id, self.env.company.currency_id)

    def test_unit_cost_of_lot_valuated_components(self):
        """Lot-valuated cells and modules: each unit costs its own lots: MOD-1 with CELL-A
        (2 at 10) 150, MOD-2 with CELL-B (2 at 16) 162; ROB-1 154, ROB-2 166."""
        (self.cell | self.module).product_tmpl_id.lot_valuated = True
        self._build_robots(count=2)
        self.assertEqual(
            [self._lot(name).unit_cost for name in ("MOD-1", "MOD-2", "ROB-1", "ROB-2")],
            [150.0, 162.0, 154.0, 166.0],
        )

    def test_unit_cost_of_one_unit_order(self):
        """A one-unit order with its component picked by hand (the same structure as Mass
        Produce gives each unit)."""
        self._receive(self.chip, {"CHIP-9": 1}, 100.0)
        cells = self._receive(self.cell, {"CELL-C": 2}, 12.0)
        production = self.env["mrp.production"].create(
            {"product_id": self.module.id, "bom_id": self.module_bom.id, "product_qty": 1}
        )
        production.action_confirm()
        production.action_assign()
        self.assertEqual(
            production.move_raw_ids.move_line_ids.lot_id.mapped("name"), ["CHIP-9", "CELL-C"]
        )
        production.lot_producing_id = self.env["stock.lot"].create(
            {"name": "MOD-9", "product_id": self.module.id}
        )
        production.qty_producing = 1
        production.move_raw_ids.picked = True
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(self._lot("MOD-9").unit_cost, 100.0 + 24.0 + 30.0)
        self.assertEqual(cells.used_in_lot_ids, self._lot("MOD-9"))

    def test_unit_cost_report_compares_with_bom_cost(self):
        self._build_robots(count=2)
        self.module.standard_price = 150.0
        rows = self.env["stock.lot.unit.cost.report"].search(
            [("product_id", "=", self.module.id)], order="lot_id"
        )
        self.assertRecordValues(
            rows,
            [
                {"unit_cost": 156.0, "standard_cost": 150.0, "variance": 6.0},
                {"unit_cost": 156.0, "standard_cost": 150.0, "variance": 6.0},
            ],
        )
        self.assertEqual(rows.lot_id.mapped("name"), ["MOD-1", "MOD-2"])
        self.assertAlmostEqual(rows[0].variance_percent, 4.0)

    def test_unit_cost_is_recorded(self):
        """Nobody types a unit cost, by RPC as a plain stock user or at creation."""
        self._build_robots(count=1)
        rob = self._lot("ROB-1")
        with self.assertRefused("recorded by stock operations"):
            rob.with_user(self.lowest_user).write({"unit_cost": 1.0})
        with self.assertRefused("recorded by stock operations"):
            self.env["stock.lot"].with_user(self.lowest_user).create(
                {"name": "ROB-Y", "product_id": self.robot.id, "unit_cost": 1.0}
            )
        self.assertEqual(rob.unit_cost, 160.0)
