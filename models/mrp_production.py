from collections import defaultdict

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import float_round


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    def pre_button_mark_done(self):
        """Check the item tracking rules before any confirmation wizard (product_expiry's
        expired lots question, backorders) and before anything is consumed: components
        (strict expiration replaces product_expiry's question, R001-15) and the number
        being produced."""
        errors = self.move_raw_ids.move_line_ids._get_item_tracking_errors()
        errors += self._get_item_tracking_output_errors()
        if errors:
            raise UserError("\n\n".join(errors))
        return super().pre_button_mark_done()

    def _get_item_tracking_output_errors(self):
        """The produced lot/serial (`lot_producing_id`) is only put on the finished move line
        once the components are consumed, so its rules are checked here: blocked (R001-22),
        manual expiration date (R001-16)."""
        productions = self.filtered("lot_producing_id")
        blocked = productions.filtered(lambda mo: mo.lot_producing_id.blocked)
        undated = productions.filtered(
            lambda mo: (
                mo.product_id.item_tracking_code_id.scope == "inventory"
                and mo.product_id.item_tracking_code_id.expiration_date_required
                and not mo.lot_producing_id.expiration_date
            )
        )
        Line = self.env["stock.move.line"]
        errors = []
        for rule, failing in (("blocked", blocked), ("undated", undated)):
            if failing:
                errors.append(
                    Line._get_item_tracking_message(
                        rule, [(mo.product_id, mo.lot_producing_id.name) for mo in failing]
                    )
                )
        return errors

    def _post_inventory(self, cancel_backorder=False):
        """Once the finished moves are done (and valued, and linked to their components by
        `consume_line_ids`), record the unit cost of each finished lot/serial produced."""
        done_before = self.move_finished_ids.filtered(lambda move: move.state == "done")
        res = super()._post_inventory(cancel_backorder=cancel_backorder)
        finished = (self.move_finished_ids - done_before).filtered(
            lambda move: move.state == "done" and move.product_id == move.production_id.product_id
        )
        lines = finished.move_line_ids.filtered(lambda ml: ml.state == "done" and ml.lot_id)
        if lines:
            self._item_tracking_set_unit_costs(lines)
        return res

    def _item_tracking_set_unit_costs(self, finished_lines):
        """Store `stock.lot.unit_cost` of the lots of the done `finished_lines` (production
        move lines of these orders), in their company: per unit produced, the value of the
        line's own components (`consume_line_ids`) as their stock valuation layers valued
        them at consumption, plus its share of its order's operation cost (workorders, as
        mrp_account's `_cal_price` counts them) and extra unit cost. All orders at once: a
        fixed number of queries whatever the number of orders and serials."""
        component_values = self._item_tracking_get_component_values(finished_lines)
        produced = defaultdict(float)
        for line in finished_lines:
            produced[line.move_id.production_id] += line.quantity_product_uom
        operation_costs = {
            order: sum(order.workorder_ids.mapped(lambda wo: wo._cal_cost())) for order in produced
        }
        totals = defaultdict(lambda: [0.0, 0.0])  # (lot id, company id): [value, quantity]
        for line in finished_lines:
            order = line.move_id.production_id
            quantity = line.quantity_product_uom
            if not quantity or not produced[order]:
                continue
            value = (
                component_values.get(line.id, 0.0)
                + operation_costs[order] * quantity / produced[order]
                + order.extra_cost * quantity
            )
            total = totals[line.lot_id.id, line.company_id.id]
            total[0] += value
            total[1] += quantity
        digits = self.env["decimal.precision"].precision_get("Product Price")
        self.env["stock.lot"]._item_tracking_write_unit_costs(
            {
                key: float_round(value / quantity, precision_digits=digits)
                for key, (value, quantity) in totals.items()
                if quantity
            }
        )

    def _item_tracking_get_component_values(self, finished_lines):
        """{finished line id: value of its components}: each done consumed line is valued
        by the layers of its move, those of its own lot where the product is lot-valuated,
        else at the move's unit value (layer value / quantity); a line consumed for several
        finished lines (Odoo's all-to-all link of an order producing several lots) is shared
        among them in proportion of their quantity."""
        consumed = finished_lines.consume_line_ids.filtered(lambda ml: ml.state == "done")
        if not consumed:
            return {}
        layers = (
            self.env["stock.valuation.layer"]
            .sudo()
            ._read_group(
                [("stock_move_id", "in", consumed.move_id.ids)],
                ["stock_move_id", "lot_id"],
                ["value:sum", "quantity:sum"],
            )
        )
        by_move = defaultdict(lambda: [0.0, 0.0])
        by_lot = {}
        for move, lot, value, quantity in layers:
            by_move[move.id][0] += value
            by_move[move.id][1] += quantity
            if lot:
                by_lot[move.id, lot.id] = (value, quantity)
        values = defaultdict(float)
        for line in consumed:
            value, quantity = by_move[line.move_id.id]
            if line.product_id.lot_valuated and (line.move_id.id, line.lot_id.id) in by_lot:
                value, quantity = by_lot[line.move_id.id, line.lot_id.id]
            if not quantity:
                continue
            # A consumption's layers are negative in value and quantity: their ratio is the
            # unit cost.
            line_value = value / quantity * line.quantity_product_uom
            producers = line.produce_line_ids.filtered(lambda ml: ml.state == "done")
            produced = sum(producers.mapped("quantity_product_uom"))
            for producer in producers:
                if produced:
                    values[producer.id] += line_value * producer.quantity_product_uom / produced
        return values
