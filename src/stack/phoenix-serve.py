"""Runs `phoenix serve` with its OTLP/gRPC receiver on loopback only.

Phoenix binds that receiver to every interface ([::]) and has no setting for its address. Lifeline
sends traces over OTLP/HTTP to the web port, which PHOENIX_HOST keeps on 127.0.0.1; a local viewer
must not take traces from the network either, so the gRPC receiver is bound to 127.0.0.1 too.
"""

import sys

from grpc.aio import _server

_bind = _server.Server.add_insecure_port


def _loopback_only(self, address):
    return _bind(self, address.replace("[::]", "127.0.0.1"))


_server.Server.add_insecure_port = _loopback_only

from phoenix.server.main import main  # noqa: E402 (after the patch, which it must see)

sys.argv = ["phoenix", "serve"]
sys.exit(main())
