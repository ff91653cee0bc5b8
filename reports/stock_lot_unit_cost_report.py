from odoo import fields, models
from odoo.tools import SQL


class StockLotUnitCostReport(models.Model):
    _name = "stock.lot.unit.cost.report"
    _description = "Unit Cost of Assemblies"
    _auto = False
    _rec_name = "lot_id"
    _order = "date desc, lot_id"
    _depends = {
        "stock.lot": ["product_id", "unit_cost", "production_id"],
        "product.product": ["product_tmpl_id", "standard_price"],
        "mrp.production": ["date_finished"],
        "res.company": ["currency_id"],
    }

    lot_id = fields.Many2one("stock.lot", string="Lot/Serial Number", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product Template", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    date = fields.Datetime(string="Produced On", readonly=True)
    unit_cost = fields.Monetary(readonly=True, aggregator="avg")
    standard_cost = fields.Monetary(
        string="BoM Cost",
        readonly=True,
        aggregator="avg",
        help="The product's cost (standard price, or the BoM cost where it is computed from "
        "the bill of materials) in the company.",
    )
    variance = fields.Monetary(
        readonly=True, aggregator="avg", help="Unit cost minus the BoM cost."
    )
    variance_percent = fields.Float(
        string="Variance (%)", readonly=True, aggregator="avg", digits=(16, 2)
    )

    @property
    def _table_query(self):
        """One row per produced number and company that recorded its unit cost (the unit
        cost and the products' standard price are company-dependent)."""
        return SQL(
            """
            SELECT ROW_NUMBER() OVER (ORDER BY lot.id, cost.key) AS id,
                   lot.id AS lot_id,
                   lot.product_id,
                   pp.product_tmpl_id,
                   company.id AS company_id,
                   company.currency_id,
                   mo.id AS production_id,
                   mo.date_finished AS date,
                   cost.value::float8 AS unit_cost,
                   COALESCE((pp.standard_price ->> cost.key)::float8, 0.0) AS standard_cost,
                   cost.value::float8 - COALESCE((pp.standard_price ->> cost.key)::float8, 0.0)
                       AS variance,
                   CASE WHEN COALESCE((pp.standard_price ->> cost.key)::float8, 0.0) != 0
                        THEN 100.0 * (cost.value::float8
                                      - (pp.standard_price ->> cost.key)::float8)
                             / (pp.standard_price ->> cost.key)::float8
                   END AS variance_percent
              FROM stock_lot lot
        CROSS JOIN LATERAL jsonb_each_text(lot.unit_cost) AS cost(key, value)
              JOIN res_company company ON company.id = cost.key::int
              JOIN product_product pp ON pp.id = lot.product_id
         LEFT JOIN mrp_production mo ON mo.id = (lot.production_id ->> cost.key)::int
             WHERE lot.unit_cost IS NOT NULL
            """
        )
