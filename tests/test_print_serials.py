from unittest.mock import patch

from lxml import html

from odoo import Command
from odoo.tests import tagged

from .common import ItemTrackingCommon

LOT_ON_SLIP = "stock.group_lot_on_delivery_slip"
LOT_ON_INVOICE = "stock_account.group_lot_on_invoice"


@tagged("post_install", "-at_install")
class TestPrintSerials(ItemTrackingCommon):
    """R002-12: delivery slips and invoices print the serials under each line, as ranges."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_sales = cls.env["item.tracking.code"].create(
            {"name": "SN sales process", "tracking": "serial", "scope": "sales"}
        )
        cls.product_sales = cls._create_product("Phone (sales SN)", cls.code_sales)
        cls.env.user.groups_id -= cls.env.ref(LOT_ON_SLIP) + cls.env.ref(LOT_ON_INVOICE)

    # ------------------------------------------------------------------ helpers

    def _set_group(self, xmlid, on):
        group = self.env.ref(xmlid)
        if on:
            self.env.user.groups_id += group
        else:
            self.env.user.groups_id -= group

    def _register(self, names, not_readable=0, **vals):
        vals_list = [{"name": name, **vals} for name in names]
        vals_list += [{"not_readable": True, **vals} for _ in range(not_readable)]
        for item in vals_list:
            item.setdefault("product_id", self.product_sales.id)
            item.setdefault("partner_id", self.partner.id)
        return self.env["sale.serial.registration"].sudo().create(vals_list)

    def _render(self, report, records):
        content, _type = (
            self.env["ir.actions.report"]
            .with_env(records.env)
            ._render_qweb_html(report, records.ids)
        )
        return content.decode()

    @staticmethod
    def _serial_spans(content):
        tree = html.fromstring(content)
        return [
            span.text_content()
            for span in tree.xpath("//span[contains(@class, 'o_item_tracking_serial')]")
        ]

    @staticmethod
    def _text(content):
        return " ".join(html.fromstring(content).text_content().split())

    def _sales_delivery(self, quantity):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_sales, quantity)
        return picking, picking.move_ids

    def _invoice(self, lines, move_type="out_invoice"):
        return self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": self.partner.id,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": quantity, "price_unit": 10.0}
                    )
                    for product, quantity in lines
                ],
            }
        )

    # ------------------------------------------------------------------ delivery slip

    def test_delivery_slip_not_done_prints_sales_serials_as_ranges(self):
        picking, move = self._sales_delivery(104)
        serials = [f"SN-{n:04d}" for n in range(1, 101)] + ["SN-0105"]
        self._register(serials, not_readable=2, move_id=move.id, picking_id=picking.id)
        self._register(["SN-0900"], move_id=move.id, picking_id=picking.id, state="reversed")
        self.assertNotEqual(picking.state, "done")

        content = self._render("stock.report_deliveryslip", picking)

        self.assertEqual(
            self._serial_spans(content),
            ["SN-0001 - SN-0100 (100)", "SN-0105", "Not readable (2)"],
            "printed without the lots-on-delivery-slip setting; reversed serials left out",
        )
        self.assertIn("Serial Numbers: SN-0001 - SN-0100 (100), SN-0105", self._text(content))
        as_stock_user = self._render(
            "stock.report_deliveryslip", picking.with_user(self.lowest_user)
        )
        self.assertEqual(self._serial_spans(as_stock_user), self._serial_spans(content))

    def test_return_slip_prints_the_returned_serials_not_the_delivery(self):
        picking, move = self._sales_delivery(3)
        back = self._create_picking(
            self.warehouse.in_type_id,
            self.product_sales,
            1,
            location=self.customer_location,
            location_dest=self.stock_location,
        )
        self._register(["RT-1", "RT-2"], move_id=move.id, picking_id=picking.id)
        self._register(
            ["RT-3"], move_id=move.id, picking_id=picking.id, return_move_id=back.move_ids.id
        )
        back.move_ids.quantity = 1
        back.move_ids.picked = True
        self._validate(back)

        self.assertEqual(
            self._serial_spans(self._render("stock.report_deliveryslip", picking)),
            ["RT-1 - RT-2 (2)"],
        )
        self.assertEqual(
            self._serial_spans(self._render("stock.report_deliveryslip", back)), ["RT-3"]
        )

    def test_delivery_slip_done_prints_sales_serials_and_stock_lots_as_vanilla(self):
        lots = [self._create_lot(self.product_serial, f"DR-{n}") for n in (1, 2, 3)]
        for lot in lots:
            self._put_in_stock(self.product_serial, lot)
        picking = self._delivery(self.product_serial, [{"lot_id": lot} for lot in lots])
        sales_move = self.env["stock.move"].create(
            {
                "name": self.product_sales.name,
                "product_id": self.product_sales.id,
                "product_uom_qty": 3,
                "product_uom": self.product_sales.uom_id.id,
                "location_id": picking.location_id.id,
                "location_dest_id": picking.location_dest_id.id,
                "picking_id": picking.id,
            }
        )
        sales_move._action_confirm()
        sales_move.quantity = 3
        sales_move.picked = True
        self._register(
            ["PH-7", "PH-8"], not_readable=1, move_id=sales_move.id, picking_id=picking.id
        )
        self._validate(picking)

        # Lots on delivery slips off: aggregated lines, no stock lot, the sales serials.
        content = self._render("stock.report_deliveryslip", picking)
        self.assertEqual(self._serial_spans(content), ["PH-7 - PH-8 (2)", "Not readable"])
        self.assertNotIn("DR-1", content)

        # On: Odoo's one row per stock serial, the sales serials under their line.
        self._set_group(LOT_ON_SLIP, True)
        content = self._render("stock.report_deliveryslip", picking)
        text = self._text(content)
        self.assertIn("Lot/Serial Number", text)
        for name in ("DR-1", "DR-2", "DR-3"):
            self.assertIn(name, text)
        self.assertNotIn("DR-1 - DR-3", text, "few serials keep Odoo's rows")
        self.assertEqual(self._serial_spans(content), ["PH-7 - PH-8 (2)", "Not readable"])

    def test_delivery_slip_many_stock_serials_print_as_ranges(self):
        lots = [self._create_lot(self.product_serial, f"DR-{n:04d}") for n in range(1, 31)]
        for lot in lots:
            self._put_in_stock(self.product_serial, lot)
        picking = self._delivery(self.product_serial, [{"lot_id": lot} for lot in lots[:25]])
        self._validate(picking)

        content = self._render("stock.report_deliveryslip", picking)
        self.assertNotIn("DR-0001", content, "lots print only with the setting, as in Odoo")

        self._set_group(LOT_ON_SLIP, True)
        content = self._render("stock.report_deliveryslip", picking)
        self.assertEqual(self._serial_spans(content), ["DR-0001 - DR-0025 (25)"])
        self.assertNotIn("DR-0002", content, "no row per serial")

    # ------------------------------------------------------------------ invoice

    def test_invoice_prints_thousand_sales_serials_in_a_few_ranges(self):
        invoice = self._invoice([(self.product_sales, 1003), (self.product_serial, 1)])
        line = invoice.invoice_line_ids.filtered(lambda aml: aml.product_id == self.product_sales)
        names = [f"SN-{n:05d}" for n in range(1, 1001) if n != 500]
        self._register(
            names + ["SN-09999"], not_readable=3, invoice_line_id=line.id, state="invoiced"
        )

        content = self._render("account.report_invoice", invoice)

        self.assertEqual(
            self._serial_spans(content),
            [
                "SN-00001 - SN-00499 (499)",
                "SN-00501 - SN-01000 (500)",
                "SN-09999",
                "Not readable (3)",
            ],
        )

    def test_invoice_render_queries_do_not_grow_with_serials(self):
        invoice = self._invoice([(self.product_sales, 1)])
        line = invoice.invoice_line_ids
        self._register(["A-1"], invoice_line_id=line.id)
        self._render("account.report_invoice", invoice)  # warm the caches and views
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self._render("account.report_invoice", invoice)
        few = self.env.cr.sql_log_count - before

        self._register([f"B-{n}" for n in range(1, 2001) if n % 7], invoice_line_id=line.id)
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        content = self._render("account.report_invoice", invoice)
        many = self.env.cr.sql_log_count - before

        self.assertEqual(many, few, "no query per serial")
        self.assertIn("B-1 - B-6 (6)", self._text(content))

    def test_credit_note_prints_credited_serials(self):
        refund = self._invoice([(self.product_sales, 2)], move_type="out_refund")
        self._register(
            ["CR-1", "CR-2"], refund_line_id=refund.invoice_line_ids.id, state="reversed"
        )
        content = self._render("account.report_invoice", refund)
        self.assertEqual(self._serial_spans(content), ["CR-1 - CR-2 (2)"])

    def test_invoice_stock_lots_print_with_the_setting_and_compressed(self):
        lots = self.env["stock.lot"].create(
            [{"name": f"DR-{n:04d}", "product_id": self.product_serial.id} for n in range(1, 41)]
        )
        paint = self._create_lot(self.product_lot, "PAINT-A")
        invoice = self._invoice([(self.product_serial, 40), (self.product_lot, 5)])
        rows = [
            {
                "product_name": self.product_serial.display_name,
                "quantity": "1.00",
                "uom_name": "Units",
                "lot_name": lot.name,
                "lot_id": lot.id,
            }
            for lot in lots
        ] + [
            {
                "product_name": self.product_lot.display_name,
                "quantity": "5.00",
                "uom_name": "Units",
                "lot_name": paint.name,
                "lot_id": paint.id,
            }
        ]
        with patch.object(
            type(self.env["account.move"]), "_get_invoiced_lot_values", lambda move: rows
        ):
            content = self._render("account.report_invoice", invoice)
            self.assertNotIn("DR-0001", content, "lots print only with the setting")

            self._set_group(LOT_ON_INVOICE, True)
            content = self._render("account.report_invoice", invoice)

        table = html.fromstring(content).xpath("//table[@name='invoice_snln_table']")[0]
        cells = [
            [" ".join(td.text_content().split()) for td in tr.xpath("td")]
            for tr in table.xpath("tbody/tr")
        ]
        self.assertEqual(
            cells,
            [
                [self.product_serial.display_name, "40.00", "DR-0001 - DR-0040 (40)"],
                [self.product_lot.display_name, "5.00", "PAINT-A"],
            ],
        )

    def test_invoice_of_a_sale_prints_its_delivered_serials_as_one_range(self):
        """Through Odoo's own _get_invoiced_lot_values: a sale of 12 serials, delivered and
        invoiced, prints one SN/LN row."""
        lots = [self._create_lot(self.product_serial, f"SO-{n:03d}") for n in range(1, 13)]
        for lot in lots:
            self._put_in_stock(self.product_serial, lot)
        self.product_serial.invoice_policy = "delivery"
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create({"product_id": self.product_serial.id, "product_uom_qty": 12})
                ],
            }
        )
        order.action_confirm()
        self._set_lines(order.picking_ids, [{"lot_id": lot} for lot in lots])
        self._validate(order.picking_ids)
        invoice = order._create_invoices()
        invoice.action_post()
        self._set_group(LOT_ON_INVOICE, True)

        content = self._render("account.report_invoice", invoice)

        table = html.fromstring(content).xpath("//table[@name='invoice_snln_table']")[0]
        self.assertEqual(
            [" ".join(tr.xpath("td")[-1].text_content().split()) for tr in table.xpath("tbody/tr")],
            ["SO-001 - SO-012 (12)"],
        )
