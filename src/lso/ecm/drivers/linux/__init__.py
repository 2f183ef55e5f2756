"""The ``linux`` ECM driver: every network element is a network namespace of this host.

Links are veth pairs with a routed /30 underlay, each configured UNI is a veth into a customer-edge
namespace, and an EVC is a bridge per element joined to its neighbours by unicast VXLAN over the links
ICM chose — so traffic really follows the configured path. ``driver`` implements the ADAGIO contract,
``netns`` talks to the kernel, ``events`` watches link state, ``capabilities`` says whether this host can
run it and ``lab`` removes what a domain left behind; ``policer``, ``probe`` and ``sat`` police, measure and
test the traffic.
"""
