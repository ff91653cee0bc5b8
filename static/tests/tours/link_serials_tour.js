import { registry } from "@web/core/registry";

// Manufacturing order of three linked serial units: Link Serial Numbers, Fill in Order,
// change unit 2's motor by scanning, confirm, produce.
registry.category("web_tour.tours").add("stock_item_tracking_link_serials_tour", {
    steps: () => [
        {
            trigger: ".o_form_statusbar button[name=action_link_serials]",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_fill_in_order]",
            run: "click",
        },
        {
            content: "every cell was proposed",
            trigger: ".modal .o_field_widget[name=summary]:contains(3 of 3 units linked)",
        },
        {
            content: "unit 2's motor cell",
            trigger: ".modal .o_data_row:contains(TOUR-M-2) td[name=lot_id]",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row.o_selected_row .o_field_widget[name=lot_id] input",
            run: "clear",
        },
        {
            trigger: ".modal .o_field_widget[name=scan] input",
            run: "edit TOUR-M-9 && press Enter",
        },
        {
            content: "the scan filled the emptied cell",
            trigger: ".modal .o_field_widget[name=scan_message]:contains(TOUR-M-9 linked)",
        },
        {
            trigger: ".modal .o_data_row:contains(TOUR-M-9)",
        },
        {
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_form_statusbar button[name=button_mark_done]:visible",
            run: "click",
        },
        {
            content: "the order is done",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)",
        },
    ],
});
