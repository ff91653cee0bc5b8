from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    link_component_tracking = fields.Boolean(
        string="Link component serial/lot numbers to each finished serial",
        help="Each finished serial of a manufacturing order gets its own component serial and "
        "lot numbers (Link Serial Numbers on the order), and the order can't be produced "
        "before every unit is linked. Storable tracked components are linked; others are "
        "consumed as usual. Only for BoMs that manufacture a product tracked by serial number.",
    )

    @api.constrains("link_component_tracking", "byproduct_ids")
    def _check_link_component_tracking_byproducts(self):
        """Tracked by-products would need their own numbers per finished serial, which the
        per-unit production doesn't ask for yet: refused up front rather than at Produce."""
        wrong = self.filtered(
            lambda bom: bom.link_component_tracking
            and any(line.product_id.tracking != "none" for line in bom.byproduct_ids)
        )
        if wrong:
            raise ValidationError(
                self.env._(
                    "A bill of materials that links component numbers can't have by-products "
                    "tracked by lot or serial number: %(boms)s",
                    boms=", ".join(wrong.mapped("display_name")),
                )
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

    def write(self, vals):
        if "link_component_tracking" in vals and not vals["link_component_tracking"]:
            self._check_no_planned_serials()
        return super().write(vals)

    def _check_no_planned_serials(self):
        """Orders in process were planned with their serials and links: they keep the flag
        until they are produced or cancelled."""
        serials = (
            self.env["mrp.production.serial"]
            .sudo()
            .search([("production_id.bom_id", "in", self.ids)])
        )
        if serials:
            raise UserError(
                self.env._(
                    "These bills of materials still have orders in process with planned "
                    "serials: produce or cancel them first: %(orders)s",
                    orders=", ".join(serials.production_id.mapped("display_name")),
                )
            )
