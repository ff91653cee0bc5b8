from odoo import models


class StockForecasted(models.AbstractModel):
    _inherit = "stock.forecasted_product_product"

    def _get_report_lines(
        self, product_template_ids, product_ids, wh_location_ids, wh_stock_location, read=True
    ):
        """Blocked and rejected stock doesn't serve a delivery: the forecast (and the moves'
        forecast availability, which reads it) only counts the free stock (issue 16)."""
        return super(
            StockForecasted, self.with_context(item_tracking_free_stock_only=True)
        )._get_report_lines(
            product_template_ids, product_ids, wh_location_ids, wh_stock_location, read
        )
