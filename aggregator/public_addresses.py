"""Whether an IP address is on the public internet: the one rule for URLs that outsiders give us.

Used by the probe's guard (a venue's page or feed) and by webhooks (a reuser's endpoint): loopback,
private, link-local, CGNAT, reserved and multicast addresses are not public; an IPv4-mapped IPv6 address
is judged as the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress


def is_public(address: str) -> bool:
    """Whether ``address`` (text, an IPv6 zone ``%eth0`` allowed) is globally routable and not multicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    real = mapped or ip
    return real.is_global and not real.is_multicast
