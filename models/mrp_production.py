from odoo import models


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    def _check_expired_lots(self):
        """Refuse expired components of strict-expiration products instead of asking (R001-15),
        and check the other item tracking rules before any confirmation wizard."""
        self.move_raw_ids.move_line_ids._check_item_tracking_rules()
        return super()._check_expired_lots()
