"""Serving one simulator on its own (`python -m sandbox.<name>`): print where, serve until Ctrl-C."""
from __future__ import annotations


def serve_until_interrupted(server, banner: str) -> None:
    """Print the banner, serve forever, close the socket on Ctrl-C."""
    print(banner, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
