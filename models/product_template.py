from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    item_tracking_code_id = fields.Many2one(
        "item.tracking.code",
        compute="_compute_item_tracking_code_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        check_company=True,
        tracking=True,
        help="Serial/lot tracking policy of this product. The product's tracking follows the "
        "code. New storable products get the company's default code (Inventory settings).",
    )

    @api.depends("is_storable", "type")
    def _compute_item_tracking_code_id(self):
        for template in self:
            code = template.item_tracking_code_id
            if not code and not template._origin.id:
                template.item_tracking_code_id = self._get_default_item_tracking_code(
                    {
                        "company_id": template.company_id.id,
                        "is_storable": template.is_storable,
                        "type": template.type,
                    }
                )
            else:
                template.item_tracking_code_id = code

    @api.depends("item_tracking_code_id.tracking", "item_tracking_code_id.scope")
    def _compute_tracking(self):
        res = super()._compute_tracking()
        for template in self.filtered("item_tracking_code_id"):
            template.tracking = template._get_item_tracking_code_tracking()
        return res

    def _get_item_tracking_code_tracking(self):
        """The Odoo tracking mode the product's item tracking code implies."""
        self.ensure_one()
        code = self.item_tracking_code_id
        return code.tracking if code.scope == "inventory" else "none"

    @api.constrains("item_tracking_code_id", "tracking", "is_storable")
    def _check_item_tracking_code(self):
        mismatched = self.sudo().filtered(
            lambda t: t.item_tracking_code_id
            and (
                t.tracking != t._get_item_tracking_code_tracking()
                or (t.item_tracking_code_id.scope == "inventory" and not t.is_storable)
            )
        )
        if mismatched:
            raise ValidationError(
                self.env._(
                    "The tracking of %(products)s must follow their item tracking code "
                    "(inventory codes need a storable product).",
                    products=", ".join(mismatched.mapped("display_name")),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._prepare_item_tracking_vals(vals)
        return super().create(vals_list)

    @api.model
    def _prepare_item_tracking_vals(self, vals):
        """Give a new product the default code and the tracking of its code.

        Done on the creation values because `tracking` has a default, which would win over its
        compute at creation. Also called by product.product's create, whose own defaults include
        the template's `tracking`.
        """
        if "item_tracking_code_id" not in vals:
            default = self._get_default_item_tracking_code(vals)
            if default:
                vals["item_tracking_code_id"] = default.id
        if vals.get("item_tracking_code_id") and "tracking" not in vals:
            code = self.env["item.tracking.code"].sudo().browse(vals["item_tracking_code_id"])
            vals["tracking"] = code.tracking if code.scope == "inventory" else "none"

    @api.model
    def _get_default_item_tracking_code(self, vals):
        """The company's default code, for a new product described by `vals`."""
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        default = company.sudo().default_item_tracking_code_id
        if not default:
            return default
        defaults = self.env["product.template"].default_get(["is_storable", "type"])
        is_storable = vals.get("is_storable", defaults.get("is_storable"))
        product_type = vals.get("type") or defaults.get("type")
        if is_storable or (default.scope == "sales" and product_type == "consu"):
            return default
        return default.browse()

    def write(self, vals):
        self._check_tracking_write(vals)
        res = super().write(vals)
        if {"tracking", "item_tracking_code_id"} & vals.keys():
            self._check_linked_boms_tracking()
        return res

    def _check_linked_boms_tracking(self):
        """R000-03: a BoM that links component numbers keeps a serial-tracked product."""
        boms = self.env["mrp.bom"].search(
            [
                ("product_tmpl_id", "in", self.filtered(lambda t: t.tracking != "serial").ids),
                ("link_component_tracking", "=", True),
            ]
        )
        if boms:
            raise UserError(
                self.env._(
                    "These products must stay tracked by serial number: their bills of materials "
                    "link component numbers to each finished serial: %(boms)s",
                    boms=", ".join(boms.mapped("display_name")),
                )
            )

    def _check_tracking_write(self, vals):
        """Before a write: refuse to change the tracking of coded products that were used, or
        to remove their code (R004-08).

        The lock is about the product's history: once a product with a code has done moves or
        lots, its tracking stays the one its history was made under. Removing the code is
        refused too, since a product without a code changes its tracking freely (standard
        Odoo) and could then be given a code of the other tracking. A product that never had a
        code keeps the standard behaviour; another code with the same tracking is allowed.
        """
        if not {"tracking", "item_tracking_code_id"} & vals.keys():
            return
        new_code = None
        if "item_tracking_code_id" in vals:
            new_code = self.env["item.tracking.code"].sudo().browse(vals["item_tracking_code_id"])
        changing = self.browse()
        removing = self.browse()
        for template in self.sudo():
            code = template.item_tracking_code_id if new_code is None else new_code
            if "tracking" in vals:
                tracking = vals["tracking"]
            elif code:
                tracking = code.tracking if code.scope == "inventory" else "none"
            else:
                tracking = template.tracking
            if tracking != template.tracking and (code or template.item_tracking_code_id):
                changing |= template
            elif template.item_tracking_code_id and not code:
                removing |= template
        changing._check_tracking_unlocked()
        removing._check_item_tracking_code_removable()

    def _check_tracking_unlocked(self):
        """Refuse a change of tracking mode once a product has done moves or lots (R004-08)."""
        locked = self._filter_with_stock_history()
        if locked:
            raise UserError(
                self.env._(
                    "The tracking of %(products)s can't be changed: they already have done stock "
                    "moves or lots/serial numbers.",
                    products=", ".join(locked.mapped("display_name")),
                )
            )

    def _check_item_tracking_code_removable(self):
        """Refuse to remove the code of products that have done moves or lots (R004-08): their
        tracking would no longer be locked."""
        locked = self._filter_with_stock_history()
        if locked:
            raise UserError(
                self.env._(
                    "The item tracking code of %(products)s can't be removed: they already have "
                    "done stock moves or lots/serial numbers, so their tracking is locked. Give "
                    "them another code with the same tracking instead.",
                    products=", ".join(locked.mapped("display_name")),
                )
            )

    def _filter_with_stock_history(self):
        """The templates of `self` with a variant (archived ones included) that has done stock
        moves or lots/serial numbers: two grouped queries for the whole recordset."""
        if not self:
            return self
        products = self.with_context(active_test=False).product_variant_ids
        Move = self.env["stock.move"].sudo()
        Lot = self.env["stock.lot"].sudo()
        used = Move._read_group(
            [("product_id", "in", products.ids), ("state", "=", "done")], ["product_id"]
        ) + Lot._read_group([("product_id", "in", products.ids)], ["product_id"])
        return self.browse({product.product_tmpl_id.id for (product,) in used})
