"""Attune's `nbgrader collect`, under the name course configurations give it.

nbgrader_config.py files say ``c.ExchangeFactory.collect = "autograder.exchange.OwnerCheckedCollect"`` (the
defaults in autograder/templates/nbgrader_defaults.py, and instructors' own copies, e.g. deploy/): this name must
keep working for courses already configured. The code lives in autograder/adapters/exchange.py.
"""

from autograder.adapters.exchange import (
    FIELDS,
    REFUSED_DIR,
    REFUSED_LOG,
    OwnerCheckedCollect,
    RefusalLogError,
    read_refusals,
    refusals_log,
)

__all__ = ["FIELDS", "REFUSED_DIR", "REFUSED_LOG", "OwnerCheckedCollect", "RefusalLogError", "read_refusals",
           "refusals_log"]
