"""Load test of serial integrity (make stress; see scripts/stress.sh).

    stress.py run --url URL --db DB --mode addon|vanilla --out FILE.json
    stress.py compare ADDON.json VANILLA.json

`run` sets up (through XML-RPC, as admin) a few serial-tracked products (with an item
tracking code in the add-on's database, without in vanilla), then drives STRESS_CLIENTS
(16) concurrent XML-RPC clients (threads, stdlib xmlrpc.client, one connection each) for
STRESS_SECONDS (60) seconds. Each client repeats a random operation on the same products
and a small pool of serial names, so that clients collide:

- receive: a receipt from the vendor of one serial named from the pool (in any of its
  case/space variants), validated;
- create_lot: a lot created directly with a pool name variant;
- deliver: a delivery of one unit, reserved (action_assign) then validated, cancelled when
  nothing could be reserved;
- return: a return of a done delivery (the return wizard), validated with its serial.

Every fault is classified: a clean refusal (UserError/ValidationError: XML-RPC fault code 2),
an access fault (3/4), a serialization failure or deadlock that Odoo's retries didn't absorb
(fault 1 naming it), any other server error (fault 1), an HTTP 500, a transport error. At the
end it counts the violations: the add-on's integrity audit (stock.lot.integrity.issue,
"Run check now" through RPC), or in vanilla the same SQL checks run directly (the audit model
isn't there). Results go to a JSON file; `compare` prints both runs side by side.
"""

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import xmlrpc.client
from collections import Counter

OPERATIONS = {"receive": 30, "create_lot": 15, "deliver": 35, "return": 20}
POOL = int(os.environ.get("STRESS_POOL", "12"))  # serial names per product
PRODUCTS = 3
CONCURRENCY_ERRORS = re.compile(
    r"SerializationFailure|could not serialize|deadlock detected|LockNotAvailable|"
    r"could not obtain lock|TransactionRollbackError",
    re.I,
)
LOGIN = PASSWORD = "admin"


class Client:
    def __init__(self, url, db):
        self.db = db
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", allow_none=True)
        self.uid = common.authenticate(db, LOGIN, PASSWORD, {})
        if not self.uid:
            raise SystemExit(f"cannot log in to {db} as {LOGIN}")
        self.proxy = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def __call__(self, model, method, *args, **kwargs):
        return self.proxy.execute_kw(self.db, self.uid, PASSWORD, model, method, list(args), kwargs)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        return self("ir.model.data", "check_object_reference", module, name)[1]


def variant(name, rng):
    """The name as typed: itself, lower case, with surrounding spaces."""
    return rng.choice([name, name, name.lower(), f" {name}", f"{name} ", f" {name.lower()} "])


def setup(client, mode):
    ctx = {"tracking_disable": True}
    vals = {"is_storable": True, "tracking": "serial"}
    if mode == "addon":
        code = client("item.tracking.code", "create", {"name": "Stress SN", "tracking": "serial"})
        vals["item_tracking_code_id"] = code
    products = [
        client("product.product", "create", {"name": f"Stress SN {i}", **vals}, context=ctx)
        for i in range(PRODUCTS)
    ]
    warehouse = client(
        "stock.warehouse",
        "search_read",
        [],
        fields=["lot_stock_id", "in_type_id", "out_type_id"],
        limit=1,
    )[0]
    partner = client("res.partner", "create", {"name": "Stress Customer"})
    vendor = client("res.partner", "create", {"name": "Stress Vendor"})
    return {
        "products": products,
        "uom": client("product.product", "read", products[:1], ["uom_id"])[0]["uom_id"][0],
        "stock": warehouse["lot_stock_id"][0],
        "in_type": warehouse["in_type_id"][0],
        "out_type": warehouse["out_type_id"][0],
        "customer_loc": client.ref("stock.stock_location_customers"),
        "supplier_loc": client.ref("stock.stock_location_suppliers"),
        "partner": partner,
        "vendor": vendor,
    }


def _picking(client, env, type_key, src, dest, partner, product):
    return client(
        "stock.picking",
        "create",
        {
            "picking_type_id": env[type_key],
            "partner_id": partner,
            "location_id": src,
            "location_dest_id": dest,
            "move_ids": [
                (
                    0,
                    0,
                    {
                        "name": "stress",
                        "product_id": product,
                        "product_uom_qty": 1,
                        "product_uom": env["uom"],
                        "location_id": src,
                        "location_dest_id": dest,
                    },
                )
            ],
        },
    )


def op_receive(client, env, rng):
    product = rng.choice(env["products"])
    name = variant(f"ST-{rng.randrange(POOL):03d}", rng)
    picking = _picking(
        client, env, "in_type", env["supplier_loc"], env["stock"], env["vendor"], product
    )
    client("stock.picking", "action_confirm", [picking])
    move = client("stock.move", "search", [("picking_id", "=", picking)])
    client(
        "stock.move",
        "write",
        move,
        {
            "move_line_ids": [
                (5, 0, 0),
                (
                    0,
                    0,
                    {
                        "product_id": product,
                        "product_uom_id": env["uom"],
                        "location_id": env["supplier_loc"],
                        "location_dest_id": env["stock"],
                        "picking_id": picking,
                        "lot_name": name,
                        "quantity": 1,
                    },
                ),
            ],
            "picked": True,
        },
    )
    client("stock.picking", "button_validate", [picking])
    return "done"


def op_create_lot(client, env, rng):
    name = variant(f"ST-{rng.randrange(POOL):03d}", rng)
    client("stock.lot", "create", {"name": name, "product_id": rng.choice(env["products"])})
    return "done"


def op_deliver(client, env, rng):
    product = rng.choice(env["products"])
    picking = _picking(
        client, env, "out_type", env["stock"], env["customer_loc"], env["partner"], product
    )
    client("stock.picking", "action_confirm", [picking])
    client("stock.picking", "action_assign", [picking])
    state = client("stock.picking", "read", [picking], ["state"])[0]["state"]
    if state != "assigned":
        client("stock.picking", "action_cancel", [picking])
        return "nothing to reserve"
    client("stock.picking", "button_validate", [picking])
    return "done"


def op_return(client, env, rng):
    done = client(
        "stock.picking",
        "search",
        [("picking_type_id", "=", env["out_type"]), ("state", "=", "done")],
        order="id desc",
        limit=30,
    )
    if not done:
        return "nothing to return"
    origin = rng.choice(done)
    lines = client(
        "stock.move.line", "search_read", [("picking_id", "=", origin)], fields=["lot_id"]
    )
    lot = lines and lines[0]["lot_id"] and lines[0]["lot_id"][0]
    wizard = client("stock.return.picking", "create", {"picking_id": origin})
    return_lines = client("stock.return.picking.line", "search", [("wizard_id", "=", wizard)])
    client("stock.return.picking.line", "write", return_lines, {"quantity": 1})
    action = client("stock.return.picking", "action_create_returns", [wizard])
    picking = action["res_id"]
    client("stock.picking", "action_assign", [picking])
    mls = client("stock.move.line", "search", [("picking_id", "=", picking)])
    if mls:
        client("stock.move.line", "write", mls, {"lot_id": lot, "quantity": 1, "picked": True})
    else:
        move = client(
            "stock.move",
            "search_read",
            [("picking_id", "=", picking)],
            fields=["product_id", "location_id", "location_dest_id"],
        )[0]
        client(
            "stock.move.line",
            "create",
            {
                "move_id": move["id"],
                "picking_id": picking,
                "product_id": move["product_id"][0],
                "product_uom_id": env["uom"],
                "location_id": move["location_id"][0],
                "location_dest_id": move["location_dest_id"][0],
                "lot_id": lot,
                "quantity": 1,
                "picked": True,
            },
        )
    client("stock.picking", "button_validate", [picking])
    return "done"


def classify(exc):
    """(category, detail) of a failed call."""
    if isinstance(exc, xmlrpc.client.Fault):
        first = (exc.faultString or "").strip().splitlines()
        if exc.faultCode == 2:
            return "clean refusal (UserError/ValidationError)", first[0][:90] if first else ""
        if exc.faultCode in (3, 4):
            return "access fault", first[0][:90] if first else ""
        if CONCURRENCY_ERRORS.search(exc.faultString or ""):
            return "serialization/deadlock left unretried", first[-1][:90] if first else ""
        return "other server error", first[-1][:120] if first else ""
    if isinstance(exc, xmlrpc.client.ProtocolError):
        if exc.errcode == 500:
            return "HTTP 500", exc.errmsg
        return f"HTTP {exc.errcode}", exc.errmsg
    return "transport error", repr(exc)[:120]


def worker(url, db, env, seed, deadline, result, lock):
    rng = random.Random(seed)
    client = Client(url, db)
    ops, outcomes, faults, details = Counter(), Counter(), Counter(), Counter()
    names, weights = list(OPERATIONS), list(OPERATIONS.values())
    while time.monotonic() < deadline:
        op = rng.choices(names, weights)[0]
        ops[op] += 1
        try:
            outcome = globals()[f"op_{op}"](client, env, rng)
            outcomes[f"{op}: {outcome}"] += 1
        except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
            category, detail = classify(exc)
            faults[category] += 1
            details[f"{category}: {op}: {detail}"] += 1
    with lock:
        for key, counter in (
            ("ops", ops),
            ("outcomes", outcomes),
            ("faults", faults),
            ("details", details),
        ):
            result[key].update(counter)


# The audit's SQL checks that apply to a database without the add-on (no item tracking
# codes, so numbers compare exactly; no blocked numbers, no lot status), as in
# models/stock_lot_integrity_issue.py.
VANILLA_CHECKS = {
    "duplicate": """
        WITH k AS (SELECT id, product_id, company_id, name AS key FROM stock_lot)
        SELECT COUNT(*) FROM k
         WHERE EXISTS (SELECT 1 FROM k k2 WHERE k2.product_id = k.product_id
                          AND k2.key = k.key AND k2.id <> k.id
                          AND (k2.company_id IS NULL OR k.company_id IS NULL
                               OR k2.company_id = k.company_id))""",
    "serial_quantity": """
        SELECT COUNT(*) FROM (
            SELECT q.lot_id FROM stock_quant q
              JOIN stock_location loc ON loc.id = q.location_id
              JOIN product_product pp ON pp.id = q.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE pt.tracking = 'serial' AND q.lot_id IS NOT NULL
               AND loc.usage IN ('internal', 'transit')
          GROUP BY q.lot_id HAVING SUM(q.quantity) > 1) s""",
    "negative_quant": """
        SELECT COUNT(*) FROM stock_quant q JOIN stock_location loc ON loc.id = q.location_id
         WHERE q.lot_id IS NOT NULL AND q.quantity < 0 AND loc.usage IN ('internal', 'transit')""",
    "over_reserved": """
        SELECT (SELECT COUNT(*) FROM stock_quant q
                  JOIN stock_location loc ON loc.id = q.location_id
                  JOIN product_product pp ON pp.id = q.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE pt.tracking = 'serial' AND q.lot_id IS NOT NULL
                   AND loc.usage IN ('internal', 'transit')
                   AND q.reserved_quantity > GREATEST(q.quantity, 0))
             + (SELECT COUNT(*) FROM (
                  SELECT ml.lot_id FROM stock_move_line ml
                    JOIN stock_location loc ON loc.id = ml.location_id
                    JOIN product_product pp ON pp.id = ml.product_id
                    JOIN product_template pt ON pt.id = pp.product_tmpl_id
                   WHERE pt.tracking = 'serial' AND ml.lot_id IS NOT NULL
                     AND ml.state NOT IN ('done', 'cancel')
                     AND loc.usage IN ('internal', 'transit')
                GROUP BY ml.lot_id HAVING SUM(ml.quantity_product_uom) > 1) s)""",
    # not a violation for vanilla's rule, shown to compare with the add-on's
    "(case/space variants of one number)": """
        WITH k AS (SELECT id, product_id, lower(btrim(name)) AS key FROM stock_lot)
        SELECT COUNT(*) FROM k WHERE EXISTS (SELECT 1 FROM k k2 WHERE k2.product_id =
               k.product_id AND k2.key = k.key AND k2.id <> k.id)""",
}


def sql_checks(db):
    import psycopg2

    conn = psycopg2.connect(
        dbname=db,
        host=os.environ.get("DB_HOST") or None,
        port=os.environ.get("DB_PORT") or None,
        user=os.environ.get("DB_USER") or None,
    )
    try:
        with conn.cursor() as cr:
            found = {}
            for kind, query in VANILLA_CHECKS.items():
                cr.execute(query)
                found[kind] = cr.fetchone()[0]
            return found
    finally:
        conn.close()


def audit(client):
    client("stock.lot.integrity.issue", "action_run_audit")
    groups = client("stock.lot.integrity.issue", "read_group", [], ["kind"], ["kind"], lazy=False)
    return {group["kind"]: group["__count"] for group in groups}


def run(args):
    clients = int(os.environ.get("STRESS_CLIENTS", "16"))
    seconds = float(os.environ.get("STRESS_SECONDS", "60"))
    admin = Client(args.url, args.db)
    env = setup(admin, args.mode)
    result = {key: Counter() for key in ("ops", "outcomes", "faults", "details")}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(args.url, args.db, env, i, deadline, result, lock))
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    violations = audit(admin) if args.mode == "addon" else {}
    sql = sql_checks(args.db)
    out = {
        "mode": args.mode,
        "db": args.db,
        "clients": clients,
        "seconds": round(elapsed, 1),
        **{key: dict(value) for key, value in result.items()},
        "violations_audit": violations,
        "violations_sql": sql,
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    report([out])


def report(runs):
    def table(title, key, applies=lambda run: True):
        keys = sorted({k for r in runs for k in r[key]})
        print(f"\n{title}")
        if not keys:
            print("  (none)")
        for k in keys:
            print(
                f"  {k:<58}"
                + "".join(f"{r[key].get(k, 0) if applies(r) else 'n/a':>10}" for r in runs)
            )

    print("\n" + "=" * 80)
    print(f"  {'':<58}" + "".join(f"{r['mode']:>10}" for r in runs))
    print(
        f"  {'clients / seconds':<58}"
        + "".join(f"{str(r['clients']) + '/' + str(int(r['seconds'])):>10}" for r in runs)
    )
    table("operations attempted", "ops")
    table("operations completed (by outcome)", "outcomes")
    table("refusals and errors (by type)", "faults")
    table(
        "violations: integrity audit (stock.lot.integrity.issue)",
        "violations_audit",
        lambda run: run["mode"] == "addon",
    )
    table("violations: SQL checks run directly", "violations_sql")
    for r in runs:
        print(f"\nfault details ({r['mode']}), most frequent first:")
        for detail, count in sorted(r["details"].items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {count:>6}  {detail}")
    print("=" * 80)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--url", required=True)
    p_run.add_argument("--db", required=True)
    p_run.add_argument("--mode", choices=("addon", "vanilla"), required=True)
    p_run.add_argument("--out", required=True)
    p_cmp = sub.add_parser("compare")
    p_cmp.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.cmd == "run":
        run(args)
    else:
        runs = []
        for name in args.files:
            with open(name) as f:
                runs.append(json.load(f))
        report(runs)
        total = sum(sum(r["violations_audit"].values()) for r in runs if r["mode"] == "addon")
        print(f"add-on violations found by the audit: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
