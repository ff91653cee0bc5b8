from odoo import api, fields, models
from odoo.exceptions import ValidationError


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    link_component_tracking = fields.Boolean(
        string="Link component serial/lot numbers to each finished serial",
        help="Each finished serial of a manufacturing order gets its own component serial and "
        "lot numbers (Link Serial Numbers on the order), and the order can't be produced "
        "before every unit is linked. Storable tracked components are linked; others are "
        "consumed as usual. Only for BoMs that manufacture a product tracked by serial number.",
    )

    @api.constrains("link_component_tracking", "product_tmpl_id", "product_id", "type")
    def _check_link_component_tracking(self):
        """R000-03: component numbers are linked only to a serialized assembly."""
        wrong = self.filtered(
            lambda bom: bom.link_component_tracking
            and (
                bom.type != "normal" or (bom.product_id or bom.product_tmpl_id).tracking != "serial"
            )
        )
        if wrong:
            raise ValidationError(
                self.env._(
                    "Component numbers can only be linked to a product tracked by serial "
                    "number, manufactured (not a kit): %(boms)s",
                    boms=", ".join(wrong.mapped("display_name")),
                )
            )
