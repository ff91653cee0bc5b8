from . import stock_lot_reject
from . import mrp_production_link_serials
from . import mrp_production_link_serials_line
from . import mrp_batch_produce
from . import stock_lot_recall
from . import stock_lot_recall_line
