from . import test_item_tracking_code
from . import test_blocked
from . import test_specific_tracking
from . import test_expiration
from . import test_warranty
from . import test_mrp
from . import test_performance
from . import test_tour
