"""Plain HTTP for the server tests (urllib, so every header and status is what the server sent)."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def mimetype(self) -> str:
        return self.content_type.split(";")[0].strip()


def request(method: str, url: str, *, params=None, headers=None, data: bytes | str | None = None,
            form=None, timeout: float = 60) -> Reply:
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form, doseq=True)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if isinstance(data, str):
        data = data.encode("utf-8")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def get(url: str, **kwargs) -> Reply:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs) -> Reply:
    return request("POST", url, **kwargs)


def assert_clean_error(reply: Reply, status: int, *words: str) -> None:
    """An error for people: the right status, short, no traceback, no file-system path, says what it is about."""
    assert reply.status == status, (reply.status, reply.body[:500])
    text = reply.text
    assert len(text) < 4000
    assert "Traceback" not in text and 'File "' not in text
    for path in ("/work/", "/tmp/", "/home/", "site-packages", os.path.expanduser("~") + "/"):
        assert path not in text, f"internal path {path!r} in: {text[:300]}"
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not in: {text[:500]}"
