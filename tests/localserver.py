"""A TCP server on 127.0.0.1 for wire tests: each connection served on its own thread."""

from __future__ import annotations

import socket
import threading


class LocalServer:
    """Listens on a free port of 127.0.0.1 and hands each connection, with its number (1 for the
    first), to :meth:`_serve` on a thread of its own. Subclasses set their own state before
    calling ``__init__``: the first connection may arrive as soon as it returns."""

    def __init__(self, backlog: int = 16):
        self.requests: list[tuple[int, bytes]] = []  # (connection number, raw request bytes)
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(backlog)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._sock.close()
