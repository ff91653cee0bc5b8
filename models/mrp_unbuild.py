from odoo import models
from odoo.exceptions import UserError


class MrpUnbuild(models.Model):
    _inherit = "mrp.unbuild"

    def action_unbuild(self):
        """A finished serial of an order that links component numbers is unbuilt from the
        order that produced it, so that exactly its own components come back (Odoo takes the
        components of the order given, whatever the serial)."""
        wrong = self.filtered(
            lambda unbuild: unbuild.mo_id.bom_id.link_component_tracking
            and unbuild.product_id.tracking == "serial"
            and unbuild.lot_id
            and unbuild.mo_id.lot_producing_id != unbuild.lot_id
        )
        if wrong:
            raise UserError(
                self.env._(
                    "Unbuild a serial from the manufacturing order that produced it: %(lines)s",
                    lines=", ".join(
                        f"{unbuild.lot_id.name} (not produced by {unbuild.mo_id.name})"
                        for unbuild in wrong
                    ),
                )
            )
        return super().action_unbuild()
