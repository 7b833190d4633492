"""One local Ray per session, inside a network namespace that has only loopback.

`make test` runs this directory in a second pytest under
`unshare --net sh -c 'ip link set lo up && ...'` with HOGAR_RAY_TESTS=1 (the main run
leaves it out): Ray listens on every interface and probes the network, so these tests
must see nothing but `lo`. HOME and RAY_TMPDIR point into the session's temporary
directory; at the end every socket Ray opened is checked to have talked to loopback only.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from pathlib import Path

import pytest


def _interfaces() -> list[str]:
    import socket

    return sorted(name for _i, name in socket.if_nameindex())


def _peer_addresses() -> set[str]:
    """Remote addresses of every non-listening TCP/UDP socket in this namespace."""
    peers = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "0A":  # LISTEN
                continue
            hexaddr = remote.split(":")[0]
            if len(hexaddr) == 8:
                addr = ipaddress.IPv4Address(bytes.fromhex(hexaddr)[::-1])
            else:
                words = [bytes.fromhex(hexaddr[i:i + 8])[::-1] for i in range(0, 32, 8)]
                addr = ipaddress.IPv6Address(b"".join(words))
                if addr.ipv4_mapped:
                    addr = addr.ipv4_mapped
            if not addr.is_unspecified:
                peers.add(str(addr))
    return peers


@pytest.fixture(scope="session")
def local_ray():
    """A one-node Ray on 127.0.0.1 (2 CPUs, small object store), shared by the session."""
    if _interfaces() != ["lo"]:
        pytest.fail("Ray tests must run in a network namespace with only `lo` "
                    f"(found {_interfaces()}); run them with `make test`")
    root = Path(tempfile.mkdtemp(prefix="hogar-ray-"))
    for var, sub in (("HOME", "home"), ("RAY_TMPDIR", "tmp")):
        (root / sub).mkdir()
        os.environ[var] = str(root / sub)
    from hogar_nb.backends.ray.cluster import LocalRay

    ray_head = LocalRay(num_cpus=2, temp_dir=str(root / "tmp"), nice=-5).start()
    import ray
    from ray import serve

    from hogar_nb.backends.ray.cluster import free_port, start_serve

    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    ray_head.http_port = free_port()
    start_serve(ray_head.http_port)  # Serve's HTTP proxy on 127.0.0.1, for the HTTP tests
    yield ray_head
    peers = _peer_addresses()
    serve.shutdown()
    ray_head.stop()
    shutil.rmtree(root, ignore_errors=True)
    assert all(ipaddress.ip_address(p).is_loopback for p in peers), peers
