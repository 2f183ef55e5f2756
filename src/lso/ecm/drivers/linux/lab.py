"""``lso lab clean``: remove everything a domain created in the kernel, even after a ``kill -9``.

Everything is named by the domain's prefix (``plane.prefix_of(data_dir)``), so finding it needs no state:
its namespaces under /run/netns (deleting one deletes its interfaces and the far ends of their veths) and
the policer's pins, maps and tables.
"""

from __future__ import annotations

from lso.ecm.drivers.linux import policer
from lso.ecm.drivers.linux.netns import Kernel


def clean(prefix: str) -> list[str]:
    """Remove the namespaces, interfaces and policer objects of ``prefix``; returns the namespaces removed."""
    policer.clean(prefix)  # first, while the namespaces its filters live in still exist
    kernel = Kernel(prefix)
    try:
        removed = kernel.call(kernel.namespaces)
        for name in removed:
            kernel.call(kernel.remove_namespace, name)
    finally:
        kernel.close()
    return removed
