"""A child process for the tests: listen on each address given, print the port, wait for stdin EOF.

Usage: listen_child.py PORT ADDRESS [ADDRESS ...]; an address "::/v6only" sets IPV6_V6ONLY.
"""

import socket
import sys

port = int(sys.argv[1])
socks = []
for spec in sys.argv[2:]:
    address, _, option = spec.partition("/")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(option == "v6only"))
    sock.bind((address, port))
    port = sock.getsockname()[1]
    sock.listen()
    socks.append(sock)
print(port, flush=True)
sys.stdin.read()
