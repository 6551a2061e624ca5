"""Outbound HTTP has a hard overall deadline, also against a server that trickles its answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from campus.outbound import GuardedSession
from campus.outbound import OutboundError
from campus.outbound import OutboundPolicy


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Answers with a status line, then one header byte every 0.2 s for 10 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(50):
                    if stop.is_set():
                        return
                    connection.sendall(b"X")
                    time.sleep(0.2)
                connection.sendall(b": y\r\nContent-Length: 2\r\n\r\n{}")
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/scores"
    stop.set()
    listener.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_trickling_server_cannot_outlast_the_deadline(trickling_server: str, method: str) -> None:
    policy = OutboundPolicy(allow_private=True, read_timeout=1.0, total_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(OutboundError, match="no complete answer within 1 s"):
        with GuardedSession(policy) as session:
            session.request(method, trickling_server, json={"scoreGiven": 1})
    assert time.monotonic() - started < 2.0


def test_a_quick_answer_is_not_cut(trickling_server: str) -> None:
    """The watchdog ends with the request: a later, slow request of another session is its own."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            )

    threading.Thread(target=answer, daemon=True).start()
    policy = OutboundPolicy(allow_private=True, total_seconds=0.5)
    with GuardedSession(policy) as session:
        response = session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    time.sleep(0.7)  # past the deadline: nothing fires on a finished request
    assert response.status_code == 200 and response.json() == {}
    listener.close()
