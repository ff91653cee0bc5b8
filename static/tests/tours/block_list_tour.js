import { registry } from "@web/core/registry";

// Lots list: ticking Blocked asks for the reason (the Block wizard) instead of blocking at
// once; cancelling leaves the lot unblocked; unticking unblocks.
const row = (name) => `.o_data_row:has(.o_data_cell:contains(${name}))`;
const blocked = (name) => `${row(name)} .o_field_widget[name=blocked] input`;

registry.category("web_tour.tours").add("stock_item_tracking_block_list_tour", {
    steps: () => [
        {
            trigger: blocked("TOUR-SN-L2"),
            run: "click",
        },
        {
            content: "the Block wizard opens and asks for the reason",
            trigger: ".modal .o_field_widget[name=reason] input",
        },
        {
            trigger: ".modal button[special=cancel]",
            run: "click",
        },
        {
            content: "cancelled: the lot is not blocked",
            trigger: `${blocked("TOUR-SN-L2")}:not(:checked)`,
        },
        {
            trigger: blocked("TOUR-SN-L1"),
            run: "click",
        },
        {
            content: "Block without a reason: the required reason is asked again",
            trigger: ".modal button[name=action_block]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=reason].o_field_invalid",
        },
        {
            trigger: ".modal .o_field_widget[name=reason] input",
            run: "edit Tour: failed inspection",
        },
        {
            trigger: ".modal button[name=action_block]",
            run: "click",
        },
        {
            content: "the wizard closed and the row shows the block",
            trigger: `body:not(:has(.modal)) ${blocked("TOUR-SN-L1")}:checked`,
        },
        {
            trigger: blocked("TOUR-SN-L3"),
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=reason] input",
            run: "edit Tour: recall",
        },
        {
            trigger: ".modal button[name=action_block]",
            run: "click",
        },
        {
            trigger: `body:not(:has(.modal)) ${blocked("TOUR-SN-L3")}:checked`,
        },
        {
            content: "unticking unblocks at once",
            trigger: blocked("TOUR-SN-L3"),
            run: "click",
        },
        {
            trigger: `${blocked("TOUR-SN-L3")}:not(:checked)`,
        },
    ],
});

// Lot card of a rejected number that was never shipped: its status bar shows its own path.
registry.category("web_tour.tours").add("stock_item_tracking_status_path_tour", {
    steps: () => [
        {
            content: "the current status is shown, styled as Odoo's status bar (order, current)",
            trigger:
                ".o_field_statusbar .o_statusbar_status button.o_arrow_button_current:contains(Rejected)",
        },
        {
            trigger: ".o_statusbar_status button:contains(Received)",
        },
        {
            content: "a status the lot never had is not shown",
            trigger: ".o_statusbar_status:not(:has(button:contains(Shipped)))",
        },
    ],
});
