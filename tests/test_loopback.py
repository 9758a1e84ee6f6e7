"""The ports tests hand their servers (tests/loopback.py) are ones no outgoing connection can take meanwhile."""

import socket

from tests.loopback import LOWEST_PORT, _ephemeral_start, free_port


def test_free_ports_lie_below_the_range_the_kernel_gives_outgoing_connections():
    start = _ephemeral_start()
    ports = [free_port() for _ in range(50)]
    assert all(LOWEST_PORT <= port < start for port in ports), (start, ports)
    with socket.socket() as server:  # and one is free to listen on
        server.bind(("127.0.0.1", ports[0]))
        server.listen()
