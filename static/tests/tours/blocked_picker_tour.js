import { registry } from "@web/core/registry";

// A delivery waiting for a blocked serial: it reads Not Available, the detailed operations
// "Add line" picker marks the serial as blocked with its reason, and picking it warns at once.
const blockedRow = ".modal .o_data_row:has(.o_data_cell:contains(TOUR-BLK-1))";

registry.category("web_tour.tours").add("stock_item_tracking_blocked_picker_tour", {
    steps: () => [
        {
            content: "the delivery is not available",
            trigger: ".o_field_widget[name=products_availability]:contains(Not Available)",
        },
        {
            trigger: ".o_field_widget[name=move_ids_without_package] .o_data_row .fa-list",
            run: "click",
        },
        {
            content: "Add a line in the detailed operations",
            trigger: ".modal .o_field_widget[name=move_line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "the picker marks the blocked serial, with its reason",
            trigger: `${blockedRow}.text-danger .badge:contains(Tour: cracked housing)`,
        },
        {
            content: "the free serial is not marked",
            trigger: ".modal .o_data_row:has(.o_data_cell:contains(TOUR-FREE-1)):not(.text-danger)",
        },
        {
            trigger: ".modal .o_data_row .o_data_cell[name=lot_id]:contains(TOUR-BLK-1)",
            run: "click",
        },
        {
            content: "picking it warns at once, naming the serial and the reason",
            trigger:
                ".modal:has(.modal-title:contains(Blocked lot/serial number)) .modal-body:contains(TOUR-BLK-1):contains(Tour: cracked housing)",
        },
        {
            trigger: ".modal:has(.modal-title:contains(Blocked lot/serial number)) .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "the new line's Pick From marks the serial as blocked",
            trigger: ".modal-content .o_data_row .o_field_pick_from input",
            run() {
                const value = this.anchor.value;
                if (!value.includes("TOUR-BLK-1 (Blocked)")) {
                    throw new Error(`Pick From should mark the blocked serial, got: ${value}`);
                }
            },
        },
        {
            content: "leave the line unsaved (saving it is refused, see test_blocked_availability)",
            trigger: ".modal:has(.modal-title:contains(Stock move)) .modal-footer button:contains(Discard)",
            run: "click",
        },
        {
            content: "discarded: the transfer is unchanged and still not available",
            trigger: "body:not(:has(.modal)) .o_form_status_indicator_buttons.invisible:not(:visible)",
        },
        {
            trigger: ".o_field_widget[name=products_availability]:contains(Not Available)",
        },
    ],
});
