from datetime import date

from lxml import etree

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ItemTrackingCommon

LIFECYCLE = ["planned", "received", "consumed", "shipped", "returned", "rejected", "written_off"]


@tagged("post_install", "-at_install")
class TestBlockReason(ItemTrackingCommon):
    """Issue 16, item 2: a block always has a reason, on every path; the Block wizard."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lots = cls.env["stock.lot"]
        for name in ("SN-BLK-R1", "SN-BLK-R2", "SN-BLK-R3"):
            lot = cls._create_lot(cls.product_serial, name)
            cls._put_in_stock(cls.product_serial, lot)
            cls.lots |= lot

    def test_lowest_user_and_other_company_cannot_block(self):
        """Blocking, even with a reason, is for Item Tracking Managers: an import or an RPC
        write with context keys by the lowest user is refused, and a manager can't block a
        lot of a company he doesn't work in."""
        lot = self.lots[0]
        xid = lot._export_rows([["id"]])[0][0]
        res = lot.with_user(self.lowest_user).load(
            ["id", "blocked", "blocked_reason"], [[xid, "True", "QC"]]
        )
        self.assertFalse(res["ids"])
        with self.assertRaises(UserError):  # AccessError is a UserError
            lot.with_user(self.lowest_user).with_context(
                install_mode=True, tracking_disable=True
            ).write({"blocked": True, "blocked_reason": "QC"})
        company_b = self.env["res.company"].create({"name": "Block B"})
        lot_b = self.env["stock.lot"].create(
            {"name": "SN-BLK-B", "product_id": self.product_serial.id, "company_id": company_b.id}
        )
        with self.assertRaises(UserError):  # AccessError is a UserError
            self.env["stock.lot.block"].with_user(self.tracking_manager).create(
                {"lot_ids": lot_b.ids, "reason": "QC"}
            ).action_block()
        self.env.invalidate_all()
        self.assertFalse((lot | lot_b).filtered("blocked"))

    def test_block_without_reason_refused_on_every_path(self):
        lot1, lot2, _lot3 = self.lots
        manager_lots = self.lots.with_user(self.tracking_manager)
        paths = {
            "write as manager": lambda: manager_lots[:2].write({"blocked": True}),
            "blank reason": lambda: manager_lots[:2].write(
                {"blocked": True, "blocked_reason": "   "}
            ),
            "superuser": lambda: self.lots[:2].sudo().write({"blocked": True}),
            "context keys": lambda: manager_lots[:2]
            .with_context(install_mode=True, tracking_disable=True, import_file=True)
            .write({"blocked": True, "blocked_reason": False}),
            "multi-edit field by field": lambda: (
                manager_lots[:2].write({"blocked_reason": "QC"}),
                manager_lots[:2].write({"blocked": True, "blocked_reason": ""}),
            ),
            "import": lambda: self._raise_load_error(
                manager_lots[:2].load(
                    ["id", "blocked"],
                    [[lot._export_rows([["id"]])[0][0], "True"] for lot in (lot1, lot2)],
                )
            ),
        }
        for path, call in paths.items():
            # An import stops at its first refused row.
            names = "SN-BLK-R1" if path == "import" else "SN-BLK-R1, SN-BLK-R2"
            with self.subTest(path=path):
                with self.assertRefused(rf"reason for blocking.*{names}"):
                    call()
                self.env.invalidate_all()
                self.assertFalse(self.lots.filtered("blocked"))
        with self.assertRefused(r"reason for blocking.*SN-BLK-NEW"):
            self.env["stock.lot"].sudo().create(
                {"name": "SN-BLK-NEW", "product_id": self.product_serial.id, "blocked": True}
            )
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "SN-BLK-NEW")]))

    def _raise_load_error(self, result):
        if not result["ids"]:
            raise UserError("\n".join(message["message"] for message in result["messages"]))

    def test_clearing_the_reason_of_a_blocked_lot_refused(self):
        lot = self.lots[0].with_user(self.tracking_manager)
        lot.write({"blocked": True, "blocked_reason": "Quality hold"})
        with self.assertRefused(r"reason for blocking.*SN-BLK-R1"):
            lot.blocked_reason = False
        self.env.invalidate_all()
        self.assertEqual(lot.blocked_reason, "Quality hold")
        # Unblocking keeps the reason (the chatter tells the story) and needs none.
        lot.action_unblock()
        self.assertFalse(lot.blocked)
        # A block with its reason, in one write or created so, is fine.
        new = (
            self.env["stock.lot"]
            .sudo()
            .create(
                {
                    "name": "SN-BLK-NEW",
                    "product_id": self.product_serial.id,
                    "blocked": True,
                    "blocked_reason": "Recall",
                }
            )
        )
        self.assertTrue(new.blocked)

    def test_form_refuses_block_without_reason(self):
        form = Form(self.lots[0].with_user(self.tracking_manager))
        form.blocked = True
        with self.assertRaisesRegex(AssertionError, "blocked_reason"):
            form.save()
        form.blocked_reason = "Damaged casing"
        form.save()
        self.assertEqual(self.lots[0].blocked_reason, "Damaged casing")

    def test_wizard_blocks_all_selected_lots_with_the_reason(self):
        selected = self.lots[:2]
        action = selected.with_user(self.tracking_manager).action_open_block()
        self.assertEqual(action["res_model"], "stock.lot.block")
        self.assertEqual(action["target"], "new")
        with Form.from_action(self.env(user=self.tracking_manager), action) as form:
            self.assertEqual(form.lot_ids[:], selected)
            form.reason = "  Lab test pending  "
            wizard = form.save()
        result = wizard.action_block()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(selected.mapped("blocked"), [True, True])
        self.assertEqual(set(selected.mapped("blocked_reason")), {"Lab test pending"})
        self.assertFalse(self.lots[2].blocked)
        # Blocked stock is no longer reservable.
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 3)
        picking.action_assign()
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, self.lots[2])

    def test_wizard_from_the_action_menu(self):
        """The list's Action menu offers Block to Item Tracking Managers, for the selection."""
        action = self.env.ref("stock_item_tracking.action_stock_lot_block")
        toolbar = (
            self.env["stock.lot"]
            .with_user(self.tracking_manager)
            .get_views([(False, "list")], {"toolbar": True})["views"]["list"]["toolbar"]
        )
        self.assertIn(action.id, [item["id"] for item in toolbar["action"]])
        toolbar = (
            self.env["stock.lot"]
            .with_user(self.lowest_user)
            .get_views([(False, "list")], {"toolbar": True})["views"]["list"]["toolbar"]
        )
        self.assertNotIn(action.id, [item["id"] for item in toolbar.get("action", [])])
        Wizard = (
            self.env["stock.lot.block"]
            .with_user(self.tracking_manager)
            .with_context(active_model="stock.lot", active_ids=self.lots.ids)
        )
        wizard = Wizard.create({"reason": "Recall 42"})
        self.assertEqual(wizard.lot_ids, self.lots)
        wizard.action_block()
        self.assertEqual(set(self.lots.mapped("blocked_reason")), {"Recall 42"})
        # Another model's active ids are not taken for lots.
        other = Wizard.with_context(active_model="stock.picking").new({"reason": "x"})
        self.assertFalse(other.lot_ids)

    def test_wizard_refuses_blank_reason_and_lowest_user(self):
        wizard = (
            self.env["stock.lot.block"]
            .with_user(self.tracking_manager)
            .create({"lot_ids": self.lots[:2].ids, "reason": "  "})
        )
        with self.assertRefused(r"reason for blocking.*SN-BLK-R1, SN-BLK-R2"):
            wizard.action_block()
        self.assertFalse(self.lots.filtered("blocked"))
        # The lowest user can neither open nor use it, nor unblock.
        with self.assertRefused("Only Item Tracking Managers", exception=AccessError):
            self.lots.with_user(self.lowest_user).action_open_block()
        with self.assertRefused("stock.lot.block", exception=AccessError):
            self.env["stock.lot.block"].with_user(self.lowest_user).create(
                {"lot_ids": self.lots.ids, "reason": "QC"}
            )
        self.lots[0].with_user(self.tracking_manager).write(
            {"blocked": True, "blocked_reason": "QC"}
        )
        with self.assertRefused("Only Item Tracking Managers", exception=AccessError):
            self.lots[0].with_user(self.lowest_user).action_unblock()
        self.assertTrue(self.lots[0].blocked)

    def test_list_blocked_column_asks_for_the_reason(self):
        arch = self.env["stock.lot"].get_views([(False, "list")])["views"]["list"]["arch"]
        [node] = etree.fromstring(arch).xpath("//field[@name='blocked']")
        self.assertEqual(node.get("widget"), "stock_lot_block_toggle")
        # Greyed out for users who can't block (the widget only honours this modifier).
        self.assertEqual(node.get("readonly"), "not can_block")
        self.assertFalse(self.lots[0].with_user(self.lowest_user).can_block)
        self.assertTrue(self.lots[0].with_user(self.tracking_manager).can_block)


@tagged("post_install", "-at_install")
class TestLifecycleOrder(ItemTrackingCommon):
    """Issue 16, item 7: statuses grouped and sorted in lifecycle order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lot = cls.env["stock.lot"]
        cls.lots = Lot
        for status in reversed(LIFECYCLE):
            lot = cls._create_lot(cls.product_serial, f"SN-ORD-{status}")
            lot.sudo().write({"tracking_status": status})
            cls.lots |= lot
        cls.logs = cls.env["stock.lot.status.log"].create(
            [
                {"lot_id": cls.lots[0].id, "old_status": old, "new_status": new}
                for old, new in zip(
                    [False, *reversed(LIFECYCLE[:-1])], reversed(LIFECYCLE), strict=True
                )
            ]
        )

    def test_lot_groups_in_lifecycle_order(self):
        Lot = self.env["stock.lot"].with_user(self.lowest_user)
        domain = [("id", "in", self.lots.ids)]
        groups = Lot._read_group(domain, ["tracking_status"], ["__count"])
        self.assertEqual([status for status, _count in groups], LIFECYCLE)
        # The pivot's and graph's call (lazy=False, no group_expand) and the list's.
        pivot = Lot.read_group(domain, ["__count"], ["tracking_status"], lazy=False)
        self.assertEqual([group["tracking_status"] for group in pivot], LIFECYCLE)
        listing = Lot.web_read_group(domain, ["tracking_status"], ["tracking_status"])
        self.assertEqual([g["tracking_status"] for g in listing["groups"]], LIFECYCLE)
        reverse = Lot.read_group(
            domain, ["__count"], ["tracking_status"], orderby="tracking_status desc"
        )
        self.assertEqual([group["tracking_status"] for group in reverse], LIFECYCLE[::-1])
        # Two levels (product, then status) keep the order within each product.
        rows = Lot._read_group(domain, ["product_id", "tracking_status"], ["__count"])
        self.assertEqual([status for _product, status, _count in rows], LIFECYCLE)
        # A list sorted by its Status column.
        self.assertEqual(
            Lot.search(domain, order="tracking_status").mapped("tracking_status"), LIFECYCLE
        )
        self.assertEqual(
            Lot.search(domain, order="tracking_status desc, id").mapped("tracking_status"),
            LIFECYCLE[::-1],
        )
        self.assertEqual(
            [value for value, _label in Lot._fields["tracking_status"].selection], LIFECYCLE
        )

    def test_status_history_groups_in_lifecycle_order(self):
        Log = self.env["stock.lot.status.log"]
        domain = [("id", "in", self.logs.ids)]
        groups = Log.read_group(domain, ["__count"], ["new_status"], lazy=False)
        self.assertEqual([group["new_status"] for group in groups], LIFECYCLE)
        groups = Log.read_group(domain, ["__count"], ["old_status"], lazy=False)
        self.assertEqual([group["old_status"] for group in groups], [*LIFECYCLE[:-1], False])
        self.assertEqual(Log.search(domain, order="new_status").mapped("new_status"), LIFECYCLE)

    def test_status_history_views(self):
        action = self.env.ref("stock_item_tracking.action_stock_lot_status_log")
        self.assertEqual(action.view_mode.split(","), ["list", "pivot", "graph"])
        views = self.env["stock.lot.status.log"].get_views(
            [(False, "list"), (False, "pivot"), (False, "graph")]
        )["views"]
        listing = etree.fromstring(views["list"]["arch"])
        for fname in ("old_status", "new_status"):
            self.assertEqual(listing.xpath(f"//field[@name='{fname}']/@widget"), ["badge"])
        self.assertTrue(
            etree.fromstring(views["pivot"]["arch"]).xpath("//field[@name='new_status']")
        )
        self.assertTrue(
            etree.fromstring(views["graph"]["arch"]).xpath("//field[@name='new_status']")
        )


@tagged("post_install", "-at_install")
class TestFiltersAndFormula(ItemTrackingCommon):
    """Issue 16, item 8: one filter per meaning in the lots search view; no warranty
    formula that ends before the delivery."""

    def _search_arch(self):
        arch = self.env["stock.lot"].get_views([(False, "search")])["views"]["search"]["arch"]
        return etree.fromstring(arch)

    def _filter_lots(self, name, lots):
        [node] = self._search_arch().xpath(f"//filter[@name='{name}']")
        domain = safe_eval(node.get("domain"), {"context_today": date.today})
        return self.env["stock.lot"].search([("id", "in", lots.ids), *domain])

    def test_no_duplicate_filters(self):
        search = self._search_arch()
        filters = search.xpath("//filter[@domain]")
        names = [node.get("name") for node in filters]
        strings = [node.get("string") for node in filters]
        self.assertEqual(len(names), len(set(names)), names)
        self.assertEqual(len(strings), len(set(strings)), strings)
        self.assertNotIn("shipped", names)
        self.assertNotIn("Shipped (at a customer)", strings)
        # The merged filters sit among theirs: At Customer with the statuses, Expiration
        # Alerts with Expired (same group: no separator between them).
        children = list(search)
        position = {node.get("name"): index for index, node in enumerate(children)}

        def same_group(first, second):
            low, high = sorted((position[first], position[second]))
            return not [node for node in children[low:high] if node.tag == "separator"]

        self.assertTrue(same_group("consumed", "at_customer"))
        self.assertTrue(same_group("at_customer", "written_off"))
        self.assertTrue(same_group("expiration_alerts", "expired"))
        self.assertFalse(same_group("on_hand", "at_customer"))

    def test_at_customer_filter_is_the_shipped_status(self):
        shipped, returned, kept = (
            self._create_lot(self.product_serial, f"SN-CUST-{i}") for i in range(3)
        )
        lots = shipped | returned | kept
        self._validate(self._receipt(self.product_serial, [{"lot_id": lot} for lot in lots]))
        self._validate(
            self._delivery(self.product_serial, [{"lot_id": shipped}, {"lot_id": returned}])
        )
        back = self._create_picking(
            self.warehouse.in_type_id, self.product_serial, 1, location=self.customer_location
        )
        self._validate(self._set_lines(back, [{"lot_id": returned}]))
        self.assertEqual(lots.mapped("tracking_status"), ["shipped", "returned", "received"])
        self.assertEqual(self._filter_lots("at_customer", lots), shipped)
        self.assertEqual(self._filter_lots("returned", lots), returned)
        self.assertEqual(self._filter_lots("received", lots), kept)

    def test_at_customer_filter_keeps_lots_partly_at_a_customer(self):
        """Vanilla's meaning stays: a lot with some quantity at a customer (its status is
        still Received, stock remains) is at a customer too."""
        lot = self._create_lot(self.product_lot, "LOT-CUST-1")
        self._validate(self._receipt(self.product_lot, [{"lot_id": lot, "quantity": 5.0}]))
        self.assertFalse(self._filter_lots("at_customer", lot))
        self._validate(self._delivery(self.product_lot, [{"lot_id": lot, "quantity": 2.0}]))
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(self._filter_lots("at_customer", lot), lot)
        self.assertEqual(self._filter_lots("received", lot), lot)

    def test_warranty_formula_before_delivery_refused(self):
        Code = self.env["item.tracking.code"]
        table = {
            "-1Y": "2000-01-01 would get a warranty ending on 1999-01-01",
            "-1D": "1999-12-31",
            "-CM": "2000-01-02 would get a warranty ending on 2000-01-01",
            "1M-31D": "2000-01-30",
            "CW-7D": "2000-01-01 would get a warranty ending on 1999-12-26",
            "1Y-400D": "would get a warranty ending on 1999-11-28",
        }
        for formula, message in table.items():
            with self.subTest(formula=formula):
                with self.assertRefused(
                    rf"Invalid warranty date formula on Backward: {formula} gives a warranty "
                    rf"date before the delivery date.*{message}",
                    exception=ValidationError,
                ):
                    Code.create({"name": "Backward", "warranty_formula": formula})
        self.assertFalse(Code.search([("name", "=", "Backward")]))
        code = Code.create({"name": "Forward", "warranty_formula": "1Y"})
        for formula in ("1Y-1D", "-CM+1Y", "1Y-CM", "CM+1M", "CD", "1M-28D", "12M-365D"):
            with self.subTest(formula=formula):
                code.write({"warranty_formula": formula})
                self.assertEqual(code.warranty_formula, formula)
        with self.assertRefused(r"Forward: -1Y gives a warranty date", ValidationError):
            code.write({"warranty_formula": "-1y"})
        self.env.invalidate_all()
        self.assertEqual(code.warranty_formula, "12M-365D")

    def test_code_help_names_the_general_information_tab(self):
        action = self.env.ref("stock_item_tracking.action_item_tracking_code")
        self.assertIn("General", action.help)
        self.assertIn("Information tab", action.help)
        self.assertNotIn("Inventory tab", action.help)


@tagged("post_install", "-at_install")
class TestProductFormPlacement(ItemTrackingCommon):
    def test_code_field_not_before_the_invoicing_note(self):
        arch = self.env["product.template"].get_views([(False, "form")])["views"]["form"]["arch"]
        [group] = etree.fromstring(arch).xpath("//group[@name='group_general']")
        names = [node.get("name") for node in group if node.tag == "field"]
        self.assertIn("item_tracking_code_id", names)
        self.assertGreater(names.index("item_tracking_code_id"), names.index("product_tooltip"))


@tagged("post_install", "-at_install")
class TestBlockListTour(HttpCase):
    def test_block_from_the_list_asks_for_the_reason(self):
        """Issue 16, item 2 in the browser: the list's Blocked toggle opens the Block wizard
        (cancel leaves the lot as it was, Block without a reason is not possible), and
        unticking unblocks."""
        admin = self.env.ref("base.user_admin")
        admin.groups_id += self.env.ref("stock.group_production_lot") + self.env.ref(
            "stock_item_tracking.group_item_tracking_manager"
        )
        product = self.env["product.product"].create(
            {"name": "Tour list drill", "is_storable": True, "tracking": "serial"}
        )
        lots = self.env["stock.lot"].create(
            [{"name": f"TOUR-SN-L{i}", "product_id": product.id} for i in (1, 2, 3)]
        )
        self.start_tour(
            "/odoo/action-stock.action_production_lot_form",
            "stock_item_tracking_block_list_tour",
            login="admin",
        )
        self.assertEqual(lots.mapped("blocked"), [True, False, False])
        self.assertEqual(lots[0].blocked_reason, "Tour: failed inspection")
        self.assertEqual(lots[2].blocked_reason, "Tour: recall")

    def test_status_bar_shows_the_lot_path(self):
        admin = self.env.ref("base.user_admin")
        admin.groups_id += self.env.ref("stock.group_production_lot")
        product = self.env["product.product"].create(
            {"name": "Tour path drill", "is_storable": True, "tracking": "serial"}
        )
        lot = self.env["stock.lot"].create({"name": "TOUR-SN-REJ", "product_id": product.id})
        lot.sudo().write({"tracking_status": "rejected"})
        self.env["stock.lot.status.log"].create(
            [
                {"lot_id": lot.id, "old_status": "planned", "new_status": "received"},
                {"lot_id": lot.id, "old_status": "received", "new_status": "rejected"},
            ]
        )
        self.assertEqual(lot.status_path, "planned,received,rejected")
        self.start_tour(
            f"/odoo/action-stock.action_production_lot_form/{lot.id}",
            "stock_item_tracking_status_path_tour",
            login="admin",
        )


@tagged("post_install", "-at_install")
class TestLotCardPath(ItemTrackingCommon):
    """Issue 16, item 3: the card's status bar shows this lot's own path; the kanban card
    shows the status and the block."""

    def test_status_path_follows_the_lot(self):
        rejected, returned, kept = (
            self._create_lot(self.product_serial, f"SN-PATH-{i}") for i in range(3)
        )
        planned = self._create_lot(self.product_serial, "SN-PATH-PLANNED")
        self.assertEqual(planned.status_path, "planned,received,shipped")
        lines = [{"lot_id": lot} for lot in (rejected, returned, kept)]
        self._validate(self._receipt(self.product_serial, lines))
        self.env["stock.lot.reject"].create(
            {"lot_ids": rejected.ids, "reason": "Failed inspection"}
        ).action_confirm()
        self._validate(self._delivery(self.product_serial, [{"lot_id": returned}]))
        back = self._create_picking(
            self.warehouse.in_type_id, self.product_serial, 1, location=self.customer_location
        )
        self._validate(self._set_lines(back, [{"lot_id": returned}]))
        self.env.invalidate_all()
        self.assertEqual(rejected.tracking_status, "rejected")
        self.assertEqual(rejected.status_path, "planned,received,rejected")
        self.assertEqual(returned.status_path, "planned,received,shipped,returned")
        self.assertEqual(kept.status_path, "planned,received,shipped")
        # The lowest user reads the same path.
        self.assertEqual(
            rejected.with_user(self.lowest_user).status_path, "planned,received,rejected"
        )

    def test_card_and_kanban_views(self):
        views = self.env["stock.lot"].get_views([(False, "form"), (False, "kanban")])["views"]
        form = etree.fromstring(views["form"]["arch"])
        self.assertEqual(
            form.xpath("//header/field[@name='tracking_status']/@widget"),
            ["stock_lot_status_path"],
        )
        for fname in ("purchase_order_id", "production_id", "sale_order_id"):
            self.assertEqual(
                form.xpath(
                    f"//group[@name='item_tracking_sources']//field[@name='{fname}']/@invisible"
                ),  # noqa: E501
                [f"not {fname}"],
            )
        self.assertEqual(form.xpath("//group[@string='Customer']"), [])
        self.assertEqual(
            form.xpath("//group[@name='item_tracking_block']/field/@name"), ["blocked_reason"]
        )
        self.assertEqual(self.env["stock.lot"]._fields["blocked_reason"].type, "text")
        kanban = etree.fromstring(views["kanban"]["arch"])
        card = kanban.xpath("//t[@t-name='card']")[0]
        self.assertTrue(card.xpath(".//widget[@name='web_ribbon'][@title='Blocked']"))
        self.assertEqual(
            kanban.xpath("//t[@t-name='card']//field[@name='tracking_status']/@widget"), ["badge"]
        )
