"""Can this host run the ``linux`` driver? Checked before a domain starts, so it fails with a reason.

Namespaces, veth, bridges and VXLAN are required; exact eBPF policing is not (without it the policer falls
back to nftables and reports its counters as approximate), so it is a note, not a problem.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

from lso.ecm.drivers.linux import policer
from lso.ecm.drivers.linux.netns import Kernel


@dataclass(frozen=True)
class Capabilities:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def explain(self) -> str:
        lines = [f"cannot run the linux network driver: {p}" for p in self.problems]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


def detect() -> Capabilities:
    """Try, in a throw-away namespace, everything the driver will do."""
    if os.geteuid() != 0:
        return Capabilities(["not root (network namespaces, veth and VXLAN need CAP_SYS_ADMIN/NET_ADMIN)"])
    problems: list[str] = []
    kernel = Kernel(f"lsocap{uuid.uuid4().hex[:6]}")
    try:
        kernel.call(_try_plumbing, kernel, problems)
    finally:
        for name in kernel.call(kernel.namespaces):
            kernel.call(kernel.remove_namespace, name)
        kernel.close()
    support = policer.support()
    notes = [] if support.exact else [f"bandwidth profiles are approximate (nftables): {support.reason}"]
    return Capabilities(problems, notes)


def _try_plumbing(kernel: Kernel, problems: list[str]) -> None:
    try:
        a = kernel.namespace(f"{kernel.prefix}-a")
        z = kernel.namespace(f"{kernel.prefix}-z")
    except Exception as exc:
        problems.append(f"no network namespaces ({exc})")
        return
    for kind, make in (
        ("veth", lambda: kernel.add_veth(a, "t0", z.name, "t0")),
        ("bridge", lambda: kernel.add_bridge(a, "tb")),
        ("vxlan", lambda: kernel.add_vxlan(a, "tx", 1, "172.16.0.1", "172.16.0.2", 4789, "tb")),
    ):
        try:
            make()
        except Exception as exc:
            problems.append(f"the kernel refuses {kind} interfaces ({exc})")
            return
