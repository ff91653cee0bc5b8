import { registry } from "@web/core/registry";

// Lot card: the header shows the last status change (date and document).
registry.category("web_tour.tours").add("stock_item_tracking_last_status_tour", {
    steps: () => [
        {
            content: "the header names the last status change and its document",
            trigger: ".o_form_statusbar .o_stock_lot_last_status:contains(Status changed on):contains(TOUR/OUT/0001)",
        },
    ],
});

// My Lot/Serial Maintenance (Inventory > Operations): the responsible marks his service done
// from the read-only list; the done service leaves his list of services to do.
registry.category("web_tour.tours").add("stock_item_tracking_maintenance_tour", {
    steps: () => [
        {
            content: "his due service is listed, with its product",
            trigger: ".o_data_row:has(.o_data_cell:contains(Tour calibration)):has(.o_data_cell:contains(Tour maintained drill))",
        },
        {
            content: "the list is read-only: no New button",
            trigger: ".o_list_view:not(:has(.o_list_button_add))",
        },
        {
            content: "mark it done",
            trigger: ".o_data_row:has(.o_data_cell:contains(Tour calibration)) button[name=action_mark_done]",
            run: "click",
        },
        {
            content: "the done service left the list of services to do",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Tour calibration)))",
        },
    ],
});
