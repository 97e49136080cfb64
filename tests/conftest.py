"""Shared test fixtures: a local HTTP file server on 127.0.0.1, synthetic MNIST in a folder.

Nothing in the test suite reaches the internet: downloads are tested against `file_server`,
which serves bytes the test gives it and can misbehave on purpose.
"""

import http.server
import os
import socket
import threading

# The suite runs on two processes (pyproject.toml: -n 2), each with lessons that start their own.
# TensorFlow's thread pools spin while they wait: two or three processes each spinning on every
# core slowed the whole suite by a quarter. One op thread per process (inherited by the lessons
# the tests start; a test that sets --threads still wins) keeps the two cores busy, not fighting.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        range_header = self.headers.get("Range")
        if range_header and server.honour_range and range_header.startswith("bytes="):
            start = int(range_header[6:].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        cut = server.truncate_next.pop(self.path, None)
        if cut is not None:  # promise the whole file, send only `cut` bytes, then hang up
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


class FileServer:
    """`files[path] = bytes` to serve; `truncate_next[path] = n` to cut the next response after
    n bytes."""

    def __init__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.files = {}
        self.httpd.requests = []
        self.httpd.truncate_next = {}
        self.httpd.honour_range = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    files = property(lambda self: self.httpd.files)
    requests = property(lambda self: self.httpd.requests)
    truncate_next = property(lambda self: self.httpd.truncate_next)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path):
        return self.base_url + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def dead_url():
    """A URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.bin"


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch, tmp_path_factory):
    """Point the Keras cache at an empty folder, so no test finds or writes a learner's data."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    monkeypatch.delenv("TFCOURSE_MIRROR", raising=False)


# The two test processes take whole files (--dist loadfile) in collection order, the next one
# when one is done (--no-loadscope-reorder: not xdist's order by number of tests). The longest
# files go first, so that no long file starts last on one process while the other has finished.
LONGEST_FIRST = ["test_week09_strategy.py", "test_week06_cnn_mnist.py", "test_week12_sound.py",
                 "test_week04_softmax_dropout_optimizers.py", "test_week10_captcha.py",
                 "test_notebooks.py", "test_week07_lstm.py", "test_week09_tfrecord.py",
                 "test_week11_text.py", "test_week05_tensorboard.py", "test_bad_input.py",
                 "test_week08_save_restore.py"]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: each file keeps its own order
