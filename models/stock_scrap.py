from odoo import models


class StockScrap(models.Model):
    _inherit = "stock.scrap"

    def do_scrap(self):
        """A scrapped component serial leaves the unit it was linked to, which can then be
        given another one before it is produced."""
        res = super().do_scrap()
        serials = self.filtered(
            lambda s: s.state == "done" and s.lot_id.product_id.tracking == "serial"
        ).lot_id
        if serials:
            links = (
                self.env["mrp.production.serial.link"]
                .sudo()
                .search(
                    [
                        ("lot_id", "in", serials.ids),
                        ("production_id.state", "not in", ("done", "cancel")),
                    ]
                )
            )
            for production in links.production_id:
                mine = links.filtered(lambda link, p=production: link.production_id == p)
                production.message_post(
                    body=self.env._(
                        "Scrapped component serials were removed from their units, link others: "
                        "%(links)s",
                        links=", ".join(
                            f"{link.lot_id.name} ({link.serial_id.lot_id.name})" for link in mine
                        ),
                    )
                )
            links.unlink()
        return res
