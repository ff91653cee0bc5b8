from odoo import models


class MrpBatchProduce(models.TransientModel):
    _inherit = "mrp.batch.produce"

    def _production_text_to_object(self, mark_done=False):
        """Mass Produce types the genealogy as text and isn't checked: an order whose BoM
        links component numbers goes through Link Serial Numbers (R000-06)."""
        self.production_id.action_mass_produce()
        return super()._production_text_to_object(mark_done=mark_done)
