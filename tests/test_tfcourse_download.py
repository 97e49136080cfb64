"""The shared downloader against a local HTTP server: good file, cut connection, resume,
wrong checksum, server down, mirror fallback, safe tar extraction."""

import hashlib
import io
import tarfile

import pytest

from tfcourse import CourseError, DownloadError, download, extract_tar

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB, several chunks


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def test_good_file_is_verified_and_renamed(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    dest = download(
        file_server.url("/data.bin"),
        tmp_path / "data.bin",
        sha256=sha256(PAYLOAD),
        size=len(PAYLOAD),
    )
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "data.bin.part").exists()


def test_verified_file_is_reused_without_network(file_server, tmp_path):
    (tmp_path / "data.bin").write_bytes(PAYLOAD)
    download(file_server.url("/data.bin"), tmp_path / "data.bin", sha256=sha256(PAYLOAD))
    assert file_server.requests == []


def test_cut_connection_is_resumed_with_range(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    file_server.truncate_next["/data.bin"] = 300_000
    dest = download(
        file_server.url("/data.bin"),
        tmp_path / "data.bin",
        sha256=sha256(PAYLOAD),
        backoff=0,
    )
    assert dest.read_bytes() == PAYLOAD
    assert file_server.requests[0][1] is None
    resumed_from = int(file_server.requests[1][1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= 300_000  # only the missing part was asked for


def test_truncated_download_is_not_kept_but_resumes_next_time(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    file_server.truncate_next["/data.bin"] = 100_000
    with pytest.raises(DownloadError) as failure:
        download(file_server.url("/data.bin"), tmp_path / "data.bin", retries=1)
    assert not (tmp_path / "data.bin").exists()  # no half file under the real name
    assert "connection closed after" in str(failure.value)
    dest = download(file_server.url("/data.bin"), tmp_path / "data.bin", sha256=sha256(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert (
        file_server.requests[-1][1].startswith("bytes=")
        and file_server.requests[-1][1] != "bytes=0-"
    )


def test_server_ignoring_range_restarts_cleanly(file_server, tmp_path):
    file_server.httpd.honour_range = False
    file_server.files["/data.bin"] = PAYLOAD
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:5000])
    dest = download(file_server.url("/data.bin"), tmp_path / "data.bin", sha256=sha256(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_wrong_checksum_is_rejected_and_discarded(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    with pytest.raises(DownloadError) as failure:
        download(file_server.url("/data.bin"), tmp_path / "data.bin", sha256="0" * 64)
    message = str(failure.value)
    assert "sha256" in message and file_server.url("/data.bin") in message
    assert not (tmp_path / "data.bin").exists()
    assert not (tmp_path / "data.bin.part").exists()


def test_server_down_names_every_url_and_where_to_put_the_file(dead_url, file_server, tmp_path):
    with pytest.raises(DownloadError) as failure:
        download(
            [dead_url, file_server.url("/missing.bin")],
            tmp_path / "x" / "data.bin",
            backoff=0,
        )
    message = str(failure.value)
    assert dead_url in message and file_server.url("/missing.bin") in message
    assert "404" in message
    assert str(tmp_path / "x" / "data.bin") in message  # the path to put it by hand


def test_falls_back_to_the_next_mirror(dead_url, file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    dest = download(
        [dead_url, file_server.url("/data.bin")],
        tmp_path / "data.bin",
        sha256=sha256(PAYLOAD),
        backoff=0,
    )
    assert dest.read_bytes() == PAYLOAD


def _tar_bytes(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_extract_tar_round_trips(tmp_path):
    archive = tmp_path / "a.tgz"
    archive.write_bytes(_tar_bytes([("model/graph.pb", b"graph"), ("labels.txt", b"a\nb\n")]))
    out = extract_tar(archive, tmp_path / "out")
    assert (out / "model" / "graph.pb").read_bytes() == b"graph"
    assert (out / "labels.txt").read_text() == "a\nb\n"


@pytest.mark.parametrize("evil", ["../escape.txt", "/etc/evil.txt", "a/../../escape.txt"])
def test_extract_tar_refuses_members_outside_the_folder(tmp_path, evil):
    archive = tmp_path / "evil.tgz"
    archive.write_bytes(_tar_bytes([("ok.txt", b"ok"), (evil, b"bad")]))
    with pytest.raises(CourseError, match="outside"):
        extract_tar(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_extract_tar_refuses_a_link_outside(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (tmp_path / "link.tgz").write_bytes(buffer.getvalue())
    with pytest.raises(CourseError, match="Cannot extract"):
        extract_tar(tmp_path / "link.tgz", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_tar_reports_a_damaged_archive(tmp_path):
    archive = tmp_path / "cut.tgz"
    archive.write_bytes(_tar_bytes([("big.bin", PAYLOAD)])[:2000])
    with pytest.raises(CourseError, match="download it again"):
        extract_tar(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_destination_below_a_file_is_one_message_before_any_url_is_tried(tmp_path):
    """KERAS_HOME or --model-dir naming a file: no retries against the network, one message."""
    (tmp_path / "a_file").write_text("x")
    dest = tmp_path / "a_file" / "models" / "model.tgz"
    with pytest.raises(DownloadError, match=r"Cannot make the folder .*\nRemedy: ") as error:
        download("http://127.0.0.1:9/model.tgz", dest, retries=3, backoff=60)  # would wait 3 min
    assert "Tried" not in str(error.value) and not (tmp_path / "a_file").is_dir()
