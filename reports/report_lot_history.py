from odoo import api, models


class ReportLotHistory(models.AbstractModel):
    _name = "report.stock_item_tracking.report_lot_history"
    _description = "Serial History Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        """Refuse the report of lots the reader may not read (a lot of another company),
        before anything is rendered; what it prints is read as the reader."""
        docs = self.env["stock.lot"].browse(docids)
        docs.check_access("read")
        return {"doc_ids": docids, "doc_model": "stock.lot", "docs": docs}
