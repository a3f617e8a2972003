"""Address lists from settings: comma-separated IPs and CIDR networks, checked once."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from asciihub.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddressList:
    """A parsed allow-list; ``everyone`` when it was ``*``."""

    networks: tuple[Network, ...] = ()
    everyone: bool = False

    def __contains__(self, address: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(address, str):
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.networks)


def parse_address_list(text: str, setting: str) -> AddressList:
    """``text`` as an AddressList; ConfigError naming ``setting`` and the bad entry."""
    entries = [item.strip() for item in text.split(",") if item.strip()]
    if entries == ["*"]:
        return AddressList(everyone=True)
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            message = (
                f"setting {setting}: {entry!r} is not an IP address or CIDR network "
                "(write e.g. 10.0.0.5, 10.0.0.0/8 or ::1, comma-separated, or * for any)"
            )
            raise ConfigError(message) from None
    return AddressList(networks=tuple(networks))
