"""The lifecycle status and the sources of a lot/serial number, as pure functions of its done
stock moves.

Pure Python (no Odoo import): the live upkeep after each stock operation, the repair of a lot
whose history was edited and the installation on an existing database all call these, so they
can't disagree.

A *move* is a mapping with these keys (what one done move line of the lot says):

``date``, ``company_id``
    when, and in which company, the line was done;
``quantity``
    in the product's unit (positive);
``src_usage``, ``dest_usage``
    the usages of its source and destination locations;
``src_on_hand``, ``dest_on_hand``
    whether the source / destination counts as on hand (an internal or transit location that is
    not a rejection location);
``dest_rejected``
    the destination is a company's rejection location;
``dest_scrap``
    the destination is a scrap location, or the move is a scrap;
``on_hand``
    the lot's quantity on hand right after this line;
``rounding``
    the product's unit rounding;
``partner_id``, ``purchase_partner_id``, ``purchase_order_id``, ``sale_order_id``,
``production_id``
    the documents of the line (False when none).
"""

STOCK_USAGES = ("internal", "transit")
ON_HAND_STATUSES = ("received", "returned")
SOURCE_FIELDS = (
    "supplier_id",
    "receipt_date",
    "purchase_order_id",
    "production_id",
    "customer_id",
    "delivery_date",
    "sale_order_id",
)


def _is_positive(quantity, rounding):
    return quantity > rounding / 2


def next_status(status, move):
    """The status of a lot with status `status` after the done `move`.

    - Stock remains after the move: ``returned`` when it came from a customer, ``received``
      when it came in from anywhere else (vendor, production, inventory); a move inside the
      warehouse or out of it that leaves stock keeps the status (a returned number moved to a
      shelf stays returned), but a number that had left (shipped, rejected...) is on hand again:
      ``received``.
    - No stock remains: rejected, written off (scrap, inventory loss), shipped or consumed,
      after where the move took it; back to a vendor, or a negative quant left behind, keeps
      the status.
    """
    if _is_positive(move["on_hand"], move["rounding"]):
        if move["dest_on_hand"] and not move["src_on_hand"]:
            return "returned" if move["src_usage"] == "customer" else "received"
        return status if status in ON_HAND_STATUSES else "received"
    if move["dest_rejected"]:
        return "rejected"
    if move["dest_scrap"]:
        return "written_off"
    if move["dest_usage"] == "customer":
        return "shipped"
    if move["dest_usage"] == "production":
        return "consumed"
    if move["dest_usage"] == "inventory":
        return "written_off"
    return status


def next_sources(sources, move):
    """The sources of a lot in the move's company ({field: value}, see SOURCE_FIELDS) after
    the done `move`: the first receipt from a vendor gives the supplier, its date and purchase
    order; the first production the manufacturing order; the last delivery to a customer the
    customer, its date and sales order. Returns a new dict."""
    sources = dict(sources)
    if move["dest_usage"] == "customer":
        sources.update(
            customer_id=move["partner_id"] or False,
            delivery_date=move["date"],
            sale_order_id=move["sale_order_id"] or False,
        )
    elif move["dest_on_hand"] or move["dest_usage"] in STOCK_USAGES:
        if move["src_usage"] == "supplier" and not sources.get("supplier_id"):
            sources.update(
                supplier_id=move["purchase_partner_id"] or move["partner_id"] or False,
                receipt_date=move["date"],
                purchase_order_id=move["purchase_order_id"] or False,
            )
        elif (
            move["src_usage"] == "production"
            and move["production_id"]
            and not sources.get("production_id")
        ):
            sources["production_id"] = move["production_id"]
    return sources


def with_running_on_hand(moves, on_hand=0.0):
    """Yield the moves (oldest first) with their ``on_hand`` set from a running total that
    starts at `on_hand` (the quantity before the first move)."""
    for move in moves:
        if move["src_on_hand"]:
            on_hand -= move["quantity"]
        if move["dest_on_hand"]:
            on_hand += move["quantity"]
        yield {**move, "on_hand": on_hand}


def replay(moves, status="planned", sources_by_company=None, on_hand=0.0):
    """Fold `moves` (oldest first, ``on_hand`` computed from `on_hand`, the quantity before
    them) into a lot's state: (status, {company id: sources}, changes), where `changes` lists
    (move, old status, new status) for each move that changed the status."""
    sources_by_company = {
        company: dict(sources) for company, sources in (sources_by_company or {}).items()
    }
    changes = []
    for move in with_running_on_hand(moves, on_hand):
        new = next_status(status, move)
        if new != status:
            changes.append((move, status, new))
            status = new
        company = move["company_id"]
        sources_by_company[company] = next_sources(sources_by_company.get(company, {}), move)
    return status, sources_by_company, changes


def lot_state(moves):
    """A lot's state from its whole history (every done move, oldest first): what installing
    the add-on on an existing database, or repairing a lot, stores."""
    return replay(moves)
