"""Install hook: status, sources and a first history entry for the lots that already exist.

The status and sources are those that `tools.lot_status.replay` gives from each lot's done
moves: the same function that keeps them after every stock operation, so installing on an
existing database gives what the live operations would have given. The history is read by
one query per chunk of lots and written by one statement per field and chunk (no ORM loop over
the lots), so databases with hundreds of thousands of lots install in a minute or so.
"""

import json
import logging

from odoo.tools import SQL

from .tools.lot_status import SOURCE_FIELDS, lot_state

_logger = logging.getLogger(__name__)

CHUNK = 20000


def post_init_hook(env):
    env["res.company"].sudo()._create_missing_item_tracking_reject_locations()
    env.flush_all()
    cr = env.cr
    Lot = env["stock.lot"].sudo()
    cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM stock_lot"))
    max_id = cr.fetchone()[0]
    note = env._("Computed on installation")
    for low in range(1, max_id + 1, CHUNK):
        # Lots already maintained by stock operations (e.g. during the installation) are left.
        cr.execute(
            SQL(
                """SELECT lot.id FROM stock_lot lot
                    WHERE lot.id >= %s AND lot.id < %s
                      AND NOT EXISTS (SELECT 1 FROM stock_lot_status_log log
                                       WHERE log.lot_id = lot.id)""",
                low,
                low + CHUNK,
            )
        )
        lot_ids = [lot_id for (lot_id,) in cr.fetchall()]
        history = Lot._read_item_tracking_history_sql(lot_ids)
        states = {lot_id: lot_state(moves) for lot_id, moves in history.items()}
        _store_states(env, states, note)
        _logger.info("Item tracking: lots %s-%s: %s updated", low, low + CHUNK - 1, len(states))
    env["stock.lot"].invalidate_model()
    env["stock.lot.status.log"].invalidate_model()


def _store_states(env, states, note):
    """Write {lot id: (status, sources by company, changes)} in SQL: one UPDATE per field,
    one INSERT of the history entries (the last status change of each lot)."""
    if not states:
        return
    cr = env.cr
    ids = list(states)
    lot_fields = env["stock.lot"]._fields
    columns = {fname: [] for fname in SOURCE_FIELDS}
    for lot_id in ids:
        by_company = states[lot_id][1]
        for fname, values in columns.items():
            value = {
                str(company): _json_value(lot_fields[fname], sources[fname])
                for company, sources in by_company.items()
                if sources.get(fname)
            }
            values.append(json.dumps(value) if value else None)
    # One statement: each lot's row is written once.
    cr.execute(
        SQL(
            """UPDATE stock_lot SET tracking_status = v.status, %(sets)s
                 FROM unnest(%(ids)s::int4[], %(statuses)s::varchar[], %(arrays)s)
                      AS v(id, status, %(names)s)
                WHERE stock_lot.id = v.id""",
            sets=SQL(", ").join(
                SQL("%s = v.%s", SQL.identifier(fname), SQL.identifier(fname)) for fname in columns
            ),
            ids=ids,
            statuses=[states[lot_id][0] for lot_id in ids],
            arrays=SQL(", ").join(SQL("%s::jsonb[]", values) for values in columns.values()),
            names=SQL(", ").join(SQL.identifier(fname) for fname in columns),
        )
    )
    logs = []
    for lot_id in ids:
        _status, _sources, changes = states[lot_id]
        if changes:
            move, _old, new = changes[-1]
            logs.append((lot_id, move["company_id"], move["date"], new, move["line_id"], move))
    if logs:
        cr.execute(
            SQL(
                """INSERT INTO stock_lot_status_log (
                       lot_id, company_id, date, old_status, new_status, move_line_id,
                       reference, user_id, note, create_uid, create_date, write_uid, write_date)
                   SELECT v.lot_id, v.company_id, v.date, NULL, v.status, v.line_id,
                          v.reference, %(uid)s, %(note)s, %(uid)s, NOW() AT TIME ZONE 'UTC',
                          %(uid)s, NOW() AT TIME ZONE 'UTC'
                     FROM unnest(%(lots)s::int4[], %(companies)s::int4[],
                                 %(dates)s::timestamp[], %(statuses)s::varchar[],
                                 %(lines)s::int4[], %(references)s::varchar[])
                          AS v(lot_id, company_id, date, status, line_id, reference)""",
                uid=env.uid,
                note=note,
                lots=[log[0] for log in logs],
                companies=[log[1] for log in logs],
                dates=[log[2] for log in logs],
                statuses=[log[3] for log in logs],
                lines=[log[4] for log in logs],
                references=[log[5]["reference"] for log in logs],
            )
        )


def _json_value(field, value):
    """A value as Odoo stores it in a company-dependent (jsonb) column."""
    if field.type == "datetime":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value
