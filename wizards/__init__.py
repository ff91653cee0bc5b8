from . import stock_lot_reject
