#!/usr/bin/env python3
"""Self-test for fakellm.py (standard library unittest only).

Starts fakellm as a subprocess on port 0 and checks each documented
behaviour over raw sockets / urllib.  Timing checks only use generous lower
bounds (or loose upper bounds), so the test stays deterministic on a loaded
machine.

    python3 tests/fakellm/fakellm_selftest.py [-v]
"""

import asyncio
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FAKELLM = os.path.join(HERE, "fakellm.py")
SOCKET_TIMEOUT = 15


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def start_fakellm(*flags):
    """Start fakellm on a free port; returns (process, port)."""
    proc = subprocess.Popen([sys.executable, FAKELLM, "--listen", "127.0.0.1:0", *flags],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.fullmatch(r"fakellm listening on 127\.0\.0\.1:(\d+)\n", line)
    if not match:
        proc.kill()
        raise RuntimeError("unexpected first line from fakellm: %r" % line)
    return proc, int(match.group(1))


def stop_fakellm(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()


def chat_body(model="fake-model", content="hi there", stream=False, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


class Response:
    def __init__(self, status, headers, body, chunks):
        self.status = status
        self.headers = headers   # lower-case names
        self.body = body         # bytes, de-chunked
        self.chunks = chunks     # list of HTTP chunk payloads, or None

    def json(self):
        return json.loads(self.body)

    def sse_data(self):
        """The data: values of the SSE body, in order."""
        text = self.body.decode("utf-8")
        return [line[len("data: "):] for line in re.split(r"\r?\n", text)
                if line.startswith("data: ")]


class RawClient:
    """A minimal HTTP/1.1 client over one socket (keep-alive capable)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
            headers["Content-Length"] = str(len(data))
        head = "%s %s HTTP/1.1\r\nHost: fakellm\r\n" % (method, path)
        head += "".join("%s: %s\r\n" % item for item in headers.items())
        self.sock.sendall(head.encode() + b"\r\n" + data)

    def request(self, method, path, body=None, headers=None):
        self.send_request(method, path, body, headers)
        return self.read_response()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by fakellm")
        self.buf += data

    def read_until(self, separator):
        while separator not in self.buf:
            self._fill()
        data, _, self.buf = self.buf.partition(separator)
        return data

    def read_exactly(self, count):
        while len(self.buf) < count:
            self._fill()
        data, self.buf = self.buf[:count], self.buf[count:]
        return data

    def read_head(self):
        lines = self.read_until(b"\r\n\r\n").decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def read_chunk(self):
        size = int(self.read_until(b"\r\n").split(b";")[0], 16)
        if size == 0:
            self.read_until(b"\r\n")
            return None
        data = self.read_exactly(size)
        assert self.read_exactly(2) == b"\r\n"
        return data

    def read_response(self):
        status, headers = self.read_head()
        if headers.get("transfer-encoding") == "chunked":
            chunks = []
            while True:
                chunk = self.read_chunk()
                if chunk is None:
                    break
                chunks.append(chunk)
            return Response(status, headers, b"".join(chunks), chunks)
        if "content-length" in headers:
            return Response(status, headers,
                            self.read_exactly(int(headers["content-length"])), None)
        return Response(status, headers, self.read_to_eof(), None)

    def read_to_eof(self):
        while True:
            try:
                self._fill()
            except EOFError:
                data, self.buf = self.buf, b""
                return data


# ---------------------------------------------------------------------------
# Tests against a server with default flags
# ---------------------------------------------------------------------------

class FakeLLMTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm()

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    # -- helpers -------------------------------------------------------------

    def request(self, method, path, body=None, headers=None):
        client = RawClient(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()

    def chat(self, **kwargs):
        return self.request("POST", "/v1/chat/completions", chat_body(**kwargs))

    def stats(self):
        return self.request("GET", "/_stats").json()

    def wait_for_stats(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats) or time.monotonic() > deadline:
                return stats
            time.sleep(0.02)

    def chunk_objects(self, response):
        return [json.loads(d) for d in response.sse_data() if d != "[DONE]"]

    def streamed_text(self, response):
        return "".join(c["choices"][0]["delta"].get("content", "")
                       for c in self.chunk_objects(response) if c["choices"])

    # -- plain endpoints -----------------------------------------------------

    def test_healthz_models_and_404(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port) as resp:
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.read(), b"ok")
        models = self.request("GET", "/v1/models").json()
        self.assertEqual(models["object"], "list")
        self.assertEqual([m["id"] for m in models["data"]], ["fake-model"])
        self.assertEqual(models["data"][0]["object"], "model")
        missing = self.request("GET", "/v2/nothing")
        self.assertEqual(missing.status, 404)
        self.assertIn("message", missing.json()["error"])

    def test_urllib_post(self):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v1/chat/completions" % self.port,
            data=json.dumps(chat_body()).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=SOCKET_TIMEOUT) as resp:
            self.assertEqual(json.load(resp)["object"], "chat.completion")

    # -- non-streaming -------------------------------------------------------

    def test_completion_shape_and_echo(self):
        resp = self.chat(model="fake-model?tokens=8")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers["content-type"], "application/json")
        body = resp.json()
        self.assertRegex(body["id"], r"^chatcmpl-fake-\d+$")
        self.assertEqual(body["object"], "chat.completion")
        self.assertIsInstance(body["created"], int)
        self.assertEqual(body["model"], "fake-model")
        choice = body["choices"][0]
        self.assertEqual(choice["index"], 0)
        self.assertEqual(choice["message"], {"role": "assistant",
                                             "content": "Echo: hi there lorem ipsum dolor sit amet"})
        self.assertEqual(choice["finish_reason"], "stop")
        self.assertEqual(body["usage"], {"prompt_tokens": 2, "completion_tokens": 8,
                                         "total_tokens": 10})

    def test_default_token_count_and_long_echo_truncated(self):
        body = self.chat(content="one two three four five six seven eight nine").json()
        self.assertEqual(body["choices"][0]["message"]["content"],
                         "Echo: one two three four five six seven")
        self.assertEqual(body["usage"]["completion_tokens"], 8)
        self.assertEqual(body["usage"]["prompt_tokens"], 9)

    def test_max_tokens_gives_length(self):
        for key in ("max_tokens", "max_completion_tokens"):
            body = self.chat(**{key: 3}).json()
            self.assertEqual(body["choices"][0]["message"]["content"], "Echo: hi there ")
            self.assertEqual(body["choices"][0]["finish_reason"], "length")
            self.assertEqual(body["usage"]["completion_tokens"], 3)
        body = self.chat(max_tokens=100).json()
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")

    def test_content_parts_and_prompt_tokens(self):
        body = {"model": "fake-model?tokens=5", "messages": [
            {"role": "system", "content": "you are nice"},
            {"role": "user", "content": "ignored earlier message"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [
                {"type": "text", "text": "foo"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,xx"}},
                {"type": "text", "text": "bar"}]},
        ]}
        result = self.request("POST", "/v1/chat/completions", body).json()
        self.assertEqual(result["choices"][0]["message"]["content"], "Echo: foo bar lorem ipsum")
        self.assertEqual(result["usage"]["prompt_tokens"], 3 + 3 + 1 + 2)

    def test_chat_alias_path(self):
        resp = self.request("POST", "/chat/completions", chat_body())
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json()["object"], "chat.completion")

    def test_bad_requests(self):
        resp = self.request("POST", "/v1/chat/completions", b"{not json")
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.json()["error"]["type"], "invalid_request_error")
        resp = self.request("POST", "/v1/chat/completions", {"messages": []})
        self.assertEqual(resp.status, 400)
        resp = self.request("POST", "/v1/chat/completions", {"model": "fake-model"})
        self.assertEqual(resp.status, 400)
        resp = self.chat(model="fake-model?no_such_directive=1")
        self.assertEqual(resp.status, 400)
        self.assertIn("no_such_directive", resp.json()["error"]["message"])
        resp = self.chat(model="fake-model?fault=nonsense")
        self.assertEqual(resp.status, 400)

    def test_text_directive_utf8(self):
        model = "fake-model?text=h%C3%A9llo%20%E4%B8%96%E7%95%8C%20%F0%9F%98%80"
        body = self.chat(model=model).json()
        self.assertEqual(body["model"], "fake-model")
        self.assertEqual(body["choices"][0]["message"]["content"], "h\u00e9llo \u4e16\u754c \U0001F600")
        self.assertEqual(body["usage"]["completion_tokens"], 3)

    # -- status directives ---------------------------------------------------

    def test_status_429_with_retry_after(self):
        resp = self.chat(model="fake-model?status=429&retry_after=2")
        self.assertEqual(resp.status, 429)
        self.assertEqual(resp.headers["retry-after"], "2")
        error = resp.json()["error"]
        self.assertEqual(error["code"], "rate_limit_exceeded")
        self.assertIn("message", error)
        self.assertIn("type", error)

    def test_status_errors(self):
        error = self.chat(model="my-model?status=404").json()["error"]
        self.assertEqual(error["code"], "model_not_found")
        self.assertIn("The model `my-model` does not exist", error["message"])
        expectations = {400: ("invalid_request_error", None),
                        401: ("invalid_request_error", "invalid_api_key"),
                        500: ("server_error", None),
                        503: ("server_error", "overloaded")}
        for status, (error_type, code) in expectations.items():
            resp = self.chat(model="fake-model?status=%d" % status, stream=True)
            self.assertEqual(resp.status, status)
            self.assertEqual(resp.headers["content-type"], "application/json")
            self.assertEqual(resp.json()["error"]["type"], error_type)
            self.assertEqual(resp.json()["error"]["code"], code)
        resp = self.chat(model="fake-model?status=400&code=context_length_exceeded")
        self.assertEqual(resp.json()["error"]["code"], "context_length_exceeded")
        resp = self.chat(model="fake-model?status=429&code=insufficient_quota")
        self.assertEqual(resp.json()["error"]["code"], "insufficient_quota")

    # -- streaming -----------------------------------------------------------

    def test_stream_shape(self):
        resp = self.chat(model="fake-model?tokens=5", stream=True,
                         stream_options={"include_usage": True})
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers["content-type"], "text/event-stream")
        self.assertEqual(resp.headers["transfer-encoding"], "chunked")
        data = resp.sse_data()
        self.assertEqual(data[-1], "[DONE]")
        self.assertTrue(resp.body.endswith(b"data: [DONE]\n\n"))
        chunks = [json.loads(d) for d in data[:-1]]
        self.assertEqual(len(chunks), 1 + 5 + 1 + 1)
        for chunk in chunks:
            self.assertEqual(chunk["object"], "chat.completion.chunk")
            self.assertEqual(chunk["id"], chunks[0]["id"])
            self.assertEqual(chunk["model"], "fake-model")
            self.assertIsInstance(chunk["created"], int)
        self.assertEqual(chunks[0]["choices"][0]["delta"], {"role": "assistant", "content": ""})
        tokens = [c["choices"][0]["delta"]["content"] for c in chunks[1:6]]
        self.assertEqual(tokens, ["Echo: ", "hi ", "there ", "lorem ", "ipsum"])
        self.assertEqual(chunks[6]["choices"][0]["delta"], {})
        self.assertEqual(chunks[6]["choices"][0]["finish_reason"], "stop")
        self.assertEqual(chunks[7]["choices"], [])
        self.assertEqual(chunks[7]["usage"], {"prompt_tokens": 2, "completion_tokens": 5,
                                              "total_tokens": 7})

    def test_stream_matches_non_stream_and_length(self):
        plain = self.chat(max_tokens=4).json()
        streamed = self.chat(stream=True, max_tokens=4)
        self.assertEqual(self.streamed_text(streamed), plain["choices"][0]["message"]["content"])
        chunks = self.chunk_objects(streamed)
        self.assertEqual(chunks[-1]["choices"][0]["finish_reason"], "length")
        self.assertNotIn("usage", chunks[-1])  # no include_usage: no usage chunk

    def test_chunk_1_utf8(self):
        model = "fake-model?chunk=1&text=h%C3%A9llo%20%E4%B8%96%E7%95%8C%20%F0%9F%98%80"
        resp = self.chat(model=model, stream=True)
        self.assertGreater(len(resp.chunks), 100)
        self.assertEqual({len(c) for c in resp.chunks}, {1})
        self.assertEqual(self.streamed_text(resp), "h\u00e9llo \u4e16\u754c \U0001F600")
        self.assertEqual(resp.sse_data()[-1], "[DONE]")

    def test_chunk_7(self):
        resp = self.chat(model="fake-model?chunk=7", stream=True)
        self.assertTrue(all(len(c) <= 7 for c in resp.chunks))
        self.assertEqual(self.streamed_text(resp), self.chat().json()["choices"][0]["message"]["content"])

    def test_crlf_and_comments(self):
        resp = self.chat(model="fake-model?crlf=1&tokens=3", stream=True)
        text = resp.body.decode()
        self.assertNotRegex(text, r"[^\r]\n")
        self.assertTrue(text.endswith("data: [DONE]\r\n\r\n"))
        self.assertEqual(self.streamed_text(resp), "Echo: hi there")

        resp = self.chat(model="fake-model?comments=1&tokens=3", stream=True)
        text = resp.body.decode()
        events = text.split("\n\n")[:-1]
        self.assertEqual(events[0::2], [": keep-alive"] * (len(events) // 2))
        self.assertTrue(all(e.startswith("data: ") for e in events[1::2]))
        self.assertEqual(len(events), 2 * (1 + 3 + 1 + 1))

    # -- faults --------------------------------------------------------------

    def test_fault_malformed(self):
        resp = self.chat(model="fake-model?fault=malformed")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers["content-type"], "application/json")
        with self.assertRaises(ValueError):
            resp.json()

        resp = self.chat(model="fake-model?fault=malformed&tokens=3", stream=True)
        data = resp.sse_data()
        self.assertEqual(json.loads(data[1])["choices"][0]["delta"]["content"], "Echo: ")
        with self.assertRaises(ValueError):
            json.loads(data[2])
        self.assertEqual(data[-1], "[DONE]")

    def test_fault_gzip_compresses_unasked(self):
        resp = self.chat(model="fake-model?fault=gzip")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers["content-encoding"], "gzip")
        self.assertEqual(json.loads(gzip.decompress(resp.body))["object"], "chat.completion")

        resp = self.chat(model="fake-model?fault=gzip", stream=True)
        self.assertEqual(resp.headers["content-encoding"], "gzip")
        text = gzip.decompress(resp.body).decode("utf-8")
        self.assertIn('"content":"Echo: "', text)
        self.assertTrue(text.endswith("data: [DONE]\n\n"), text[-40:])

    def test_fault_drop(self):
        client = RawClient(self.port)
        client.send_request("POST", "/v1/chat/completions", chat_body(model="fake-model?fault=drop"))
        self.assertEqual(client.read_to_eof(), b"")
        client.close()

        client = RawClient(self.port)
        client.send_request("POST", "/v1/chat/completions",
                            chat_body(model="fake-model?fault=drop", stream=True))
        status, headers = client.read_head()
        self.assertEqual(status, 200)
        rest = client.read_to_eof()
        client.close()
        self.assertIn(b'"content":"Echo: "', rest)
        self.assertNotIn(b"[DONE]", rest)
        self.assertNotIn(b"finish_reason\":\"stop", rest)
        self.assertFalse(rest.endswith(b"0\r\n\r\n"))

    def test_fault_nodone_and_error_event_keep_alive(self):
        client = RawClient(self.port)
        try:
            resp = client.request("POST", "/v1/chat/completions",
                                  chat_body(model="fake-model?fault=nodone", stream=True,
                                            stream_options={"include_usage": True}))
            data = resp.sse_data()
            self.assertNotIn("[DONE]", data)
            self.assertEqual(json.loads(data[-2])["choices"][0]["finish_reason"], "stop")
            self.assertIn("usage", json.loads(data[-1]))

            resp = client.request("POST", "/v1/chat/completions",
                                  chat_body(model="fake-model?fault=error_event", stream=True))
            data = resp.sse_data()
            self.assertEqual(len(data), 3)
            self.assertEqual(json.loads(data[1])["choices"][0]["delta"]["content"], "Echo: ")
            self.assertEqual(json.loads(data[2]),
                             {"error": {"message": "upstream exploded", "type": "server_error"}})

            # The same connection still works afterwards.
            resp = client.request("GET", "/healthz")
            self.assertEqual(resp.body, b"ok")
        finally:
            client.close()

    def test_leak_key_quotes_the_key_in_errors(self):
        client = RawClient(self.port)
        try:
            headers = {"Authorization": "Bearer sk-leaky-123"}
            resp = client.request("POST", "/v1/chat/completions",
                                  chat_body(model="fake-model?status=500&leak_key=1"), headers)
            error = json.loads(resp.body)["error"]
            self.assertIn("sk-leaky-123", error["message"])
            self.assertEqual(error["code"], "sk-leaky-123")

            resp = client.request("POST", "/v1/chat/completions",
                                  chat_body(model="fake-model?fault=error_event&leak_key=1",
                                            stream=True), dict(headers))
            error = json.loads(resp.sse_data()[-1])["error"]
            self.assertEqual(error["message"], "upstream exploded with key sk-leaky-123")
            self.assertEqual(error["code"], "sk-leaky-123")
        finally:
            client.close()

    # -- pacing --------------------------------------------------------------

    def test_delay_ms(self):
        start = time.monotonic()
        resp = self.chat(model="fake-model?delay_ms=300&status=503")
        self.assertGreaterEqual(time.monotonic() - start, 0.28)
        self.assertEqual(resp.status, 503)

    def test_non_stream_pacing(self):
        start = time.monotonic()
        self.chat(model="fake-model?first_token_ms=100&pace_ms=50&tokens=4")
        self.assertGreaterEqual(time.monotonic() - start, 0.28)

    def test_stream_pacing(self):
        client = RawClient(self.port)
        try:
            start = time.monotonic()
            client.send_request("POST", "/v1/chat/completions", chat_body(
                model="fake-model?first_token_ms=300&pace_ms=100&tokens=4&pause_after_first_ms=400",
                stream=True))
            status, _ = client.read_head()
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - start, 0.28 + 10)  # headers come first
            client.read_chunk()            # role chunk
            client.read_chunk()            # first token
            first = time.monotonic()
            self.assertGreaterEqual(first - start, 0.28)
            client.read_chunk()            # second token
            self.assertGreaterEqual(time.monotonic() - first, 0.48)  # pause 400 + pace 100
            while client.read_chunk() is not None:
                pass
            self.assertGreaterEqual(time.monotonic() - start, 0.28 + 0.4 + 0.38)
        finally:
            client.close()

    # -- connection handling -------------------------------------------------

    def test_keep_alive_and_pipelining(self):
        client = RawClient(self.port)
        try:
            for stream in (False, True, False):
                resp = client.request("POST", "/v1/chat/completions", chat_body(stream=stream))
                self.assertEqual(resp.status, 200)
            # Two requests in one write: two responses, in order.
            payload = json.dumps(chat_body(model="fake-model?tokens=2")).encode()
            one = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n"
                   % len(payload)) + payload
            client.sock.sendall(one + b"GET /healthz HTTP/1.1\r\nHOST: x\r\n\r\n")
            self.assertEqual(client.read_response().json()["choices"][0]["message"]["content"],
                             "Echo: hi")
            self.assertEqual(client.read_response().body, b"ok")
        finally:
            client.close()

    def test_connection_close_and_http10(self):
        client = RawClient(self.port)
        resp = client.request("GET", "/healthz", headers={"Connection": "close"})
        self.assertEqual(resp.headers["connection"], "close")
        self.assertEqual(client.read_to_eof(), b"")
        client.close()

        client = RawClient(self.port)
        payload = json.dumps(chat_body(stream=True, model="fake-model?tokens=2")).encode()
        client.sock.sendall(b"POST /v1/chat/completions HTTP/1.0\r\nContent-Length: %d\r\n\r\n"
                            % len(payload) + payload)
        resp = client.read_response()  # no chunking: body runs to EOF
        client.close()
        self.assertNotIn("transfer-encoding", resp.headers)
        self.assertEqual(self.streamed_text(resp), "Echo: hi")
        self.assertEqual(resp.sse_data()[-1], "[DONE]")

    def test_chunked_request_body(self):
        payload = json.dumps(chat_body(content="chunked body")).encode()
        pieces = [payload[:5], payload[5:20], payload[20:]]
        raw = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        client = RawClient(self.port)
        try:
            client.sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n")
            time.sleep(0.05)
            client.sock.sendall(raw)
            body = client.read_response().json()
            self.assertTrue(body["choices"][0]["message"]["content"].startswith("Echo: chunked body"))
        finally:
            client.close()

    # -- request log ---------------------------------------------------------

    def test_request_log(self):
        self.assertEqual(self.request("DELETE", "/_requests").status, 200)
        self.assertEqual(self.request("GET", "/_requests").json(), [])
        self.request("POST", "/v1/chat/completions", chat_body(content="logged"),
                     headers={"X-Test-Header": "yes", "Authorization": "Bearer whatever"})
        self.request("POST", "/chat/completions?x=1", b"not json")
        self.request("GET", "/healthz")  # not a chat request: not logged
        log = self.request("GET", "/_requests").json()
        self.assertEqual(len(log), 2)
        self.assertEqual(log[0]["path"], "/v1/chat/completions")
        self.assertEqual(log[0]["headers"]["x-test-header"], "yes")
        self.assertEqual(log[0]["headers"]["authorization"], "Bearer whatever")
        self.assertEqual(log[0]["body"]["messages"][0]["content"], "logged")
        self.assertEqual(log[1]["path"], "/chat/completions?x=1")
        self.assertEqual(log[1]["body"], "not json")

    # -- early close detection and stats ------------------------------------

    def test_closed_early_is_detected_promptly(self):
        before = self.stats()
        client = RawClient(self.port)
        client.send_request("POST", "/v1/chat/completions",
                            chat_body(model="fake-model?pace_ms=3000&tokens=5", stream=True))
        client.read_head()
        client.read_chunk()  # role
        client.read_chunk()  # first token; fakellm now sleeps 3 s
        self.assertEqual(self.stats()["open_streams"], before["open_streams"] + 1)
        closed_at_ms = time.time() * 1000
        client.close()
        stats = self.wait_for_stats(lambda s: s["closed_early"] > before["closed_early"])
        self.assertEqual(stats["closed_early"], before["closed_early"] + 1)
        self.assertEqual(stats["open_streams"], before["open_streams"])
        # Noticed while sleeping, not at the next token 3 s later.
        self.assertLess(stats["last_disconnect_unix_ms"] - closed_at_ms, 1500)
        self.assertGreaterEqual(stats["last_disconnect_unix_ms"], closed_at_ms - 50)

        # The same during delay_ms of a non-streaming request.
        client = RawClient(self.port)
        client.send_request("POST", "/v1/chat/completions",
                            chat_body(model="fake-model?delay_ms=5000"))
        time.sleep(0.2)
        client.close()
        stats = self.wait_for_stats(lambda s: s["closed_early"] > before["closed_early"] + 1)
        self.assertEqual(stats["closed_early"], before["closed_early"] + 2)

    def test_stats_fields_and_request_count(self):
        before = self.stats()
        self.assertEqual(set(before), {"active_connections", "peak_connections",
                                       "open_streams", "requests", "in_flight",
                                       "peak_in_flight", "closed_early",
                                       "last_disconnect_unix_ms"})
        self.assertGreaterEqual(before["active_connections"], 1)
        self.chat()
        self.chat(stream=True)
        self.assertEqual(self.stats()["requests"], before["requests"] + 2)

    def test_many_concurrent_streams(self):
        """300 streams held open at once, /_stats answers meanwhile, all are
        counted as closed early when the clients leave; then 100 complete
        concurrent streams check content under concurrency."""
        count = 300
        before = self.stats()

        async def open_stream(model):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            payload = json.dumps(chat_body(model=model, stream=True)).encode()
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
            await writer.drain()
            return reader, writer

        async def full_stream(index):
            reader, writer = await open_stream("fake-model?pace_ms=20&tokens=5")
            data = await reader.readuntil(b"0\r\n\r\n")
            writer.close()
            return data

        async def scenario():
            held = await asyncio.gather(*(open_stream("fake-model?first_token_ms=60000")
                                          for _ in range(count)))
            loop = asyncio.get_running_loop()
            stats = await loop.run_in_executor(None, lambda: self.wait_for_stats(
                lambda s: s["open_streams"] >= before["open_streams"] + count))
            for _, writer in held:
                writer.close()
            results = await asyncio.gather(*(full_stream(i) for i in range(100)))
            return stats, results

        stats, results = asyncio.run(asyncio.wait_for(scenario(), 30))
        self.assertEqual(stats["open_streams"], before["open_streams"] + count)
        self.assertGreaterEqual(stats["active_connections"], count)
        after = self.wait_for_stats(lambda s: s["closed_early"] >= before["closed_early"] + count
                                    and s["open_streams"] == before["open_streams"])
        self.assertEqual(after["closed_early"], before["closed_early"] + count)
        self.assertEqual(after["open_streams"], before["open_streams"])
        for data in results:
            self.assertIn(b'"content":"Echo: "', data)
            self.assertIn(b"data: [DONE]", data)


# ---------------------------------------------------------------------------
# Tool calls, reasoning, structured output, refusals, usage details
# ---------------------------------------------------------------------------

TOOLS = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
         {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def assemble_stream(chunks):
    """Reassemble chat.completion.chunk objects the way OpenAI's client
    libraries do; returns (message, finish_reason, usage)."""
    message, calls, finish_reason, usage = {}, {}, None, None
    for chunk in chunks:
        if chunk.get("usage") is not None:
            usage = chunk["usage"]
        for choice in chunk["choices"]:
            for key, value in choice["delta"].items():
                if key == "tool_calls":
                    for part in value:
                        call = calls.setdefault(part["index"], {})
                        for name in ("id", "type"):
                            if name in part:
                                call[name] = part[name]
                        function = call.setdefault("function", {"arguments": ""})
                        if "name" in part.get("function", {}):
                            function["name"] = part["function"]["name"]
                        function["arguments"] += part.get("function", {}).get("arguments", "")
                elif key == "role" or value is None:
                    message.setdefault(key, value)
                else:
                    message[key] = (message.get(key) or "") + value
            if choice["finish_reason"] is not None:
                finish_reason = choice["finish_reason"]
    if calls:
        message["tool_calls"] = [calls[index] for index in sorted(calls)]
    return message, finish_reason, usage


def without_call_numbers(message):
    """Tool call ids carry the completion number, which differs per request."""
    return json.loads(re.sub(r"call_fake_\d+", "call_fake_N", json.dumps(message)))


class FeaturesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm()

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def post(self, body):
        client = RawClient(self.port)
        try:
            return client.request("POST", "/v1/chat/completions", body)
        finally:
            client.close()

    def unary(self, **kwargs):
        resp = self.post(chat_body(**kwargs))
        self.assertEqual(resp.status, 200, resp.body)
        return resp.json()

    def streamed(self, **kwargs):
        """The chunk objects of a stream (include_usage on), checked for shape."""
        resp = self.post(chat_body(stream=True, stream_options={"include_usage": True}, **kwargs))
        self.assertEqual(resp.status, 200, resp.body)
        data = resp.sse_data()
        self.assertEqual(data[-1], "[DONE]")
        chunks = [json.loads(d) for d in data[:-1]]
        for chunk in chunks:
            self.assertEqual(chunk["object"], "chat.completion.chunk")
            self.assertEqual(chunk["id"], chunks[0]["id"])
        for chunk in chunks[:-1]:
            self.assertIsNone(chunk["usage"])
            self.assertEqual(set(chunk["choices"][0]), {"index", "delta", "logprobs", "finish_reason"})
        self.assertEqual(chunks[-1]["choices"], [])
        self.assertEqual(chunks[-2]["choices"][0]["delta"], {})
        return chunks

    def deltas(self, chunks):
        """The deltas before the finish chunk."""
        return [c["choices"][0]["delta"] for c in chunks[:-2]]

    def assert_stream_matches_unary(self, **kwargs):
        """Streamed and non-streamed answers agree; returns (unary body, chunks)."""
        body = self.unary(**kwargs)
        chunks = self.streamed(**kwargs)
        message, finish_reason, usage = assemble_stream(chunks)
        choice = body["choices"][0]
        self.assertEqual(without_call_numbers(message), without_call_numbers(choice["message"]))
        self.assertEqual(finish_reason, choice["finish_reason"])
        self.assertEqual(usage, body["usage"])
        return body, chunks

    # -- tool calls ------------------------------------------------------------

    def test_tool_call_unary_shape(self):
        body = self.unary(tools=TOOLS)
        number = re.fullmatch(r"chatcmpl-fake-(\d+)", body["id"]).group(1)
        choice = body["choices"][0]
        self.assertEqual(choice["message"], {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_fake_" + number, "type": "function",
                            "function": {"name": "search",
                                         "arguments": '{"query":"hi there"}'}}]})
        self.assertEqual(choice["finish_reason"], "tool_calls")
        # '{"query":"hi there"}' is 20 characters: 3 fragments of up to 8.
        self.assertEqual(body["usage"], {"prompt_tokens": 2, "completion_tokens": 3,
                                         "total_tokens": 5})
        # Multi-part user content: the text parts make the query.
        parts = [{"type": "text", "text": "what is"},
                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,xx"}},
                 {"type": "text", "text": "this"}]
        call = self.unary(content=parts, tools=TOOLS)["choices"][0]["message"]["tool_calls"][0]
        self.assertEqual(json.loads(call["function"]["arguments"]), {"query": "what is this"})

    def test_tool_choice_selection(self):
        def called(model="fake-model", **kwargs):
            message = self.unary(model=model, tools=TOOLS, **kwargs)["choices"][0]["message"]
            return message["tool_calls"][0]["function"]["name"] if "tool_calls" in message else None

        self.assertEqual(called(), "search")
        self.assertEqual(called(tool_choice="auto"), "search")
        self.assertEqual(called(tool_choice="required"), "search")
        self.assertEqual(called(model="fake-model?tool=lookup"), "lookup")
        self.assertEqual(called(model="fake-model?tool=other"), "other")
        named = {"type": "function", "function": {"name": "lookup"}}
        self.assertEqual(called(model="fake-model?tool=search", tool_choice=named), "lookup")
        self.assertIsNone(called(tool_choice="none"))
        # No tools, or an empty list: the usual echo.
        body = self.unary(tools=[], model="fake-model?tool=search&tokens=3")
        self.assertEqual(body["choices"][0]["message"], {"role": "assistant",
                                                         "content": "Echo: hi there"})
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        # The last message is not from the user: no call.
        messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]
        body = self.post({"model": "fake-model?tokens=2", "messages": messages, "tools": TOOLS}).json()
        self.assertEqual(body["choices"][0]["message"]["content"], "Echo: hi")

    def test_tool_call_stream(self):
        body, chunks = self.assert_stream_matches_unary(tools=TOOLS)
        call_id = chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"]
        self.assertEqual(call_id, chunks[0]["id"].replace("chatcmpl-fake-", "call_fake_"))
        self.assertEqual(self.deltas(chunks), [
            {"role": "assistant", "content": None},
            {"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                             "function": {"name": "search", "arguments": ""}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": '{"query"'}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": ':"hi the'}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": 're"}'}}]},
        ])
        self.assertEqual(chunks[-2]["choices"][0]["finish_reason"], "tool_calls")
        self.assertEqual(chunks[-1]["usage"]["completion_tokens"], 3)

    def test_parallel_tool_calls(self):
        body, chunks = self.assert_stream_matches_unary(model="fake-model?parallel=2",
                                                        tools=TOOLS)
        number = body["id"].rsplit("-", 1)[1]
        calls = body["choices"][0]["message"]["tool_calls"]
        self.assertEqual([c["id"] for c in calls], ["call_fake_%s_0" % number,
                                                   "call_fake_%s_1" % number])
        self.assertEqual([c["function"]["name"] for c in calls], ["search", "search"])
        self.assertEqual([c["function"]["arguments"] for c in calls],
                         ['{"query":"hi there"}', '{"query":"hi there (2)"}'])
        self.assertEqual(body["usage"]["completion_tokens"], 3 + 3)
        # Streamed one call after the other, each opened by its own delta.
        indexes = [d["tool_calls"][0]["index"] for d in self.deltas(chunks)[1:]]
        self.assertEqual(indexes, [0, 0, 0, 0, 1, 1, 1, 1])

    def test_tool_call_cut_by_max_tokens_and_faults(self):
        body, chunks = self.assert_stream_matches_unary(model="fake-model?parallel=2",
                                                        tools=TOOLS, max_tokens=4)
        calls = body["choices"][0]["message"]["tool_calls"]
        self.assertEqual([c["function"]["arguments"] for c in calls],
                         ['{"query":"hi there"}', '{"query"'])
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        body = self.unary(tools=TOOLS, max_tokens=0)
        self.assertEqual(body["choices"][0]["message"], {"role": "assistant", "content": None})
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        # Faults strike after the first step: the opening delta plus a fragment.
        resp = self.post(chat_body(model="fake-model?fault=error_event", stream=True, tools=TOOLS))
        data = resp.sse_data()
        self.assertEqual(len(data), 4)
        self.assertEqual(json.loads(data[2])["choices"][0]["delta"]["tool_calls"][0]["function"],
                         {"arguments": '{"query"'})
        self.assertIn("error", json.loads(data[3]))

    def test_tool_result(self):
        messages = [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "search", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny 21C"}]
        kwargs = {"messages": messages, "tools": TOOLS}
        body, chunks = self.assert_stream_matches_unary(**kwargs)
        self.assertEqual(body["choices"][0]["message"], {"role": "assistant",
                                                         "content": "Tool result: sunny 21C"})
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        self.assertEqual(body["usage"]["completion_tokens"], 4)
        self.assertEqual(self.deltas(chunks)[1:], [{"content": "Tool "}, {"content": "result: "},
                                                   {"content": "sunny "}, {"content": "21C"}])
        body, _ = self.assert_stream_matches_unary(max_tokens=2, **kwargs)
        self.assertEqual(body["choices"][0]["message"]["content"], "Tool result: ")
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        messages[-1]["content"] = [{"type": "text", "text": "part one"},
                                   {"type": "text", "text": "part two"}]
        body = self.unary(**kwargs)
        self.assertEqual(body["choices"][0]["message"]["content"],
                         "Tool result: part one part two")

    # -- reasoning -------------------------------------------------------------

    def test_reasoning_unary(self):
        body = self.unary(model="fake-model?reasoning=5&tokens=3")
        self.assertEqual(body["choices"][0]["message"], {
            "role": "assistant", "content": "Echo: hi there",
            "reasoning_content": "Thinking about: hi there lorem"})
        self.assertEqual(body["usage"], {
            "prompt_tokens": 2, "completion_tokens": 8, "total_tokens": 10,
            "completion_tokens_details": {"reasoning_tokens": 5}})
        message = self.unary(model="fake-model?reasoning=2&tokens=1&reasoning_field=reasoning")[
            "choices"][0]["message"]
        self.assertEqual(message, {"role": "assistant", "content": "Echo:",
                                   "reasoning": "Thinking about:"})
        # reasoning=0: no reasoning, but the usage detail is there.
        body = self.unary(model="fake-model?reasoning=0&tokens=2")
        self.assertEqual(body["choices"][0]["message"], {"role": "assistant", "content": "Echo: hi"})
        self.assertEqual(body["usage"]["completion_tokens_details"], {"reasoning_tokens": 0})
        # max_tokens covers reasoning and answer together.
        body = self.unary(model="fake-model?reasoning=5&tokens=3", max_tokens=3)
        self.assertEqual(body["choices"][0]["message"], {
            "role": "assistant", "content": "", "reasoning_content": "Thinking about: hi "})
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        self.assertEqual(body["usage"]["completion_tokens"], 3)
        self.assertEqual(body["usage"]["completion_tokens_details"], {"reasoning_tokens": 3})
        body = self.unary(model="fake-model?reasoning=2&tokens=3", max_tokens=3)
        self.assertEqual(body["choices"][0]["message"]["content"], "Echo: ")
        self.assertEqual(body["choices"][0]["finish_reason"], "length")

    def test_reasoning_stream(self):
        for field in ("reasoning_content", "reasoning"):
            model = "fake-model?reasoning=3&tokens=2&reasoning_field=" + field
            body, chunks = self.assert_stream_matches_unary(model=model)
            self.assertEqual(self.deltas(chunks), [
                {"role": "assistant", "content": None, field: "Thinking "},
                {field: "about: "}, {field: "hi"},
                {"content": "Echo: "}, {"content": "hi"}])
            self.assertEqual(body["usage"]["completion_tokens_details"], {"reasoning_tokens": 3})
        self.assert_stream_matches_unary(model="fake-model?reasoning=4&tokens=4", max_tokens=6)

    def test_reasoning_before_tool_call(self):
        body, chunks = self.assert_stream_matches_unary(model="fake-model?reasoning=2",
                                                        tools=TOOLS)
        message = body["choices"][0]["message"]
        self.assertEqual(message["reasoning_content"], "Thinking about:")
        self.assertEqual(message["tool_calls"][0]["function"]["name"], "search")
        self.assertEqual(body["usage"]["completion_tokens"], 2 + 3)
        deltas = self.deltas(chunks)
        self.assertEqual(deltas[0], {"role": "assistant", "content": None,
                                     "reasoning_content": "Thinking "})
        self.assertEqual(deltas[1], {"reasoning_content": "about:"})
        self.assertEqual(deltas[2]["tool_calls"][0]["function"], {"name": "search", "arguments": ""})

    # -- structured output -----------------------------------------------------

    def test_json_object(self):
        body, chunks = self.assert_stream_matches_unary(response_format={"type": "json_object"})
        content = body["choices"][0]["message"]["content"]
        self.assertEqual(content, '{"echo":"hi there"}')
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        pieces = [d["content"] for d in self.deltas(chunks)[1:]]
        self.assertEqual(pieces, ['{"echo":', '"hi ther', 'e"}'])
        self.assertEqual(body["usage"]["completion_tokens"], 3)
        body, _ = self.assert_stream_matches_unary(response_format={"type": "json_object"},
                                                   max_tokens=1)
        self.assertEqual(body["choices"][0]["message"]["content"], '{"echo":')
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        # response_format text: the usual echo.
        body = self.unary(model="fake-model?tokens=2", response_format={"type": "text"})
        self.assertEqual(body["choices"][0]["message"]["content"], "Echo: hi")

    def test_json_schema(self):
        properties = {"z_text": {"type": "string"}, "count": {"type": "integer"},
                      "ratio": {"type": "number"}, "ok": {"type": "boolean"},
                      "items": {"type": "array", "items": {"type": "string"}},
                      "nested": {"type": "object", "properties": {}},
                      "maybe": {"type": ["string", "null"]}, "untyped": {}}
        response_format = {"type": "json_schema", "json_schema": {
            "name": "answer", "strict": True,
            "schema": {"type": "object", "properties": properties,
                       "required": list(properties), "additionalProperties": False}}}
        body, chunks = self.assert_stream_matches_unary(response_format=response_format)
        content = body["choices"][0]["message"]["content"]
        self.assertEqual(content, '{"z_text":"hi there","count":42,"ratio":4.5,"ok":true,'
                                  '"items":[],"nested":{},"maybe":null,"untyped":null}')
        self.assertEqual(list(json.loads(content)), list(properties))  # schema order
        pieces = [d["content"] for d in self.deltas(chunks)[1:]]
        self.assertTrue(all(len(p) == 8 for p in pieces[:-1]))
        self.assertEqual(len(pieces), (len(content) + 7) // 8)
        self.assertEqual(body["usage"]["completion_tokens"], len(pieces))
        empty = {"type": "json_schema", "json_schema": {"name": "x"}}
        self.assertEqual(self.unary(response_format=empty)["choices"][0]["message"]["content"], "{}")

    # -- refusal ---------------------------------------------------------------

    def test_refusal(self):
        body, chunks = self.assert_stream_matches_unary(model="fake-model?refusal=1")
        self.assertEqual(body["choices"][0]["message"], {
            "role": "assistant", "content": None, "refusal": "I can't help with that."})
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        self.assertEqual(body["usage"]["completion_tokens"], 5)
        self.assertEqual(self.deltas(chunks), [
            {"role": "assistant", "content": None, "refusal": ""},
            {"refusal": "I "}, {"refusal": "can't "}, {"refusal": "help "},
            {"refusal": "with "}, {"refusal": "that."}])

    def test_precedence(self):
        json_format = {"type": "json_object"}
        # A tool call beats a refusal and structured output.
        message = self.unary(model="fake-model?refusal=1", tools=TOOLS,
                             response_format=json_format)["choices"][0]["message"]
        self.assertIn("tool_calls", message)
        # A refusal beats structured output.
        message = self.unary(model="fake-model?refusal=1",
                             response_format=json_format)["choices"][0]["message"]
        self.assertEqual(message["refusal"], "I can't help with that.")
        # Structured output beats text= and the echo.
        message = self.unary(model="fake-model?text=plain",
                             response_format=json_format)["choices"][0]["message"]
        self.assertEqual(message["content"], '{"echo":"hi there"}')
        # Reasoning comes first in every case.
        body, chunks = self.assert_stream_matches_unary(model="fake-model?refusal=1&reasoning=1")
        self.assertEqual(self.deltas(chunks)[:2], [
            {"role": "assistant", "content": None, "reasoning_content": "Thinking"},
            {"refusal": "I "}])
        self.assert_stream_matches_unary(model="fake-model?reasoning=2",
                                         response_format=json_format)

    # -- usage details, directives, request log ---------------------------------

    def test_cached_tokens(self):
        body, _ = self.assert_stream_matches_unary(model="fake-model?cached=7&reasoning=1&tokens=2")
        self.assertEqual(body["usage"], {
            "prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 7},
            "completion_tokens_details": {"reasoning_tokens": 1}})

    def test_bad_new_directives(self):
        for query in ("reasoning_field=thoughts", "parallel=0", "parallel=two", "tool=",
                      "reasoning=-1", "cached=x", "tool=a%0Ab"):
            resp = self.post(chat_body(model="fake-model?" + query))
            self.assertEqual(resp.status, 400, query)
            self.assertEqual(resp.json()["error"]["code"], "invalid_fakellm_directive")

    def test_request_log_keeps_new_fields(self):
        body = chat_body(tools=TOOLS, tool_choice="auto", response_format={"type": "json_object"})
        self.post(body)
        client = RawClient(self.port)
        try:
            log = client.request("GET", "/_requests").json()
        finally:
            client.close()
        self.assertEqual(log[-1]["body"], body)



# ---------------------------------------------------------------------------
# Anthropic Messages mode
# ---------------------------------------------------------------------------

ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
ANTHROPIC_TOOLS = [{"name": "search", "description": "Search the web",
                    "input_schema": {"type": "object"}},
                   {"name": "lookup", "input_schema": {"type": "object"}}]


def messages_body(model="claude-test", content="hi there", stream=False, max_tokens=1000,
                  **extra):
    body = {"model": model, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def sse_events(response):
    """The (event name, parsed data) pairs of an Anthropic SSE body."""
    events = []
    for block in re.split(r"\r?\n\r?\n", response.body.decode("utf-8")):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in re.split(r"\r?\n", block))
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def assemble_events(events):
    """Rebuild the message from stream events the way Anthropic's SDKs do."""
    message, blocks, partial_json = None, {}, {}
    for name, data in events:
        if name == "message_start":
            message = dict(data["message"])
        elif name == "content_block_start":
            blocks[data["index"]] = dict(data["content_block"])
            partial_json[data["index"]] = ""
        elif name == "content_block_delta":
            block, delta = blocks[data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial_json[data["index"]] += delta["partial_json"]
        elif name == "content_block_stop":
            block = blocks[data["index"]]
            if block["type"] == "tool_use":
                try:
                    block["input"] = json.loads(partial_json[data["index"]])
                except ValueError:
                    block["input"] = {}
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"] = {**message["usage"], **data["usage"]}
    message["content"] = [blocks[index] for index in sorted(blocks)]
    return message


def without_fake_numbers(obj):
    """Ids and signatures carry the message number, which differs per request."""
    return json.loads(re.sub(r"(msg|toolu|sig|redacted)_fake_\d+", r"\1_fake_N",
                             json.dumps(obj)))


class AnthropicTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm()

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def request(self, method, path, body=None, headers=None):
        client = RawClient(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()

    def post(self, body, headers=ANTHROPIC_HEADERS, path="/v1/messages"):
        return self.request("POST", path, body, headers)

    def unary(self, **kwargs):
        resp = self.post(messages_body(**kwargs))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.headers["content-type"], "application/json")
        return resp.json()

    def streamed(self, **kwargs):
        """The events of a stream, checked for the overall shape."""
        resp = self.post(messages_body(stream=True, **kwargs))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.headers["content-type"], "text/event-stream; charset=utf-8")
        events = sse_events(resp)
        names = [name for name, _ in events]
        self.assertEqual(names[:2], ["message_start", "ping"])
        self.assertEqual(names[-2:], ["message_delta", "message_stop"])
        for name, data in events:
            self.assertEqual(data["type"], name)
        # Blocks open and close in order, one at a time.
        open_index, next_index = None, 0
        for name, data in events:
            if name == "content_block_start":
                self.assertIsNone(open_index)
                self.assertEqual(data["index"], next_index)
                open_index, next_index = data["index"], next_index + 1
            elif name == "content_block_delta":
                self.assertEqual(data["index"], open_index)
            elif name == "content_block_stop":
                self.assertEqual(data["index"], open_index)
                open_index = None
        self.assertIsNone(open_index)
        return events

    def assert_stream_matches_unary(self, **kwargs):
        body = self.unary(**kwargs)
        events = self.streamed(**kwargs)
        self.assertEqual(without_fake_numbers(assemble_events(events)),
                         without_fake_numbers(body))
        return body, events

    # -- plain answers ---------------------------------------------------------

    def test_unary_shape(self):
        for path in ("/v1/messages", "/messages"):
            resp = self.post(messages_body(model="claude-test?tokens=5",
                                           system="be brief"), path=path)
            self.assertEqual(resp.status, 200)
            body = resp.json()
            self.assertRegex(body["id"], r"^msg_fake_\d+$")
            self.assertEqual(body, {
                "id": body["id"], "type": "message", "role": "assistant",
                "model": "claude-test",
                "content": [{"type": "text", "text": "Echo: hi there lorem ipsum"}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 4, "output_tokens": 5,
                          "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}})

    def test_system_blocks_content_blocks_and_input_tokens(self):
        body = {"model": "claude-test?tokens=4", "max_tokens": 50,
                "system": [{"type": "text", "text": "you are"}, {"type": "text", "text": "nice"}],
                "temperature": 0.5, "top_p": 0.9, "top_k": 5, "metadata": {"user_id": "u1"},
                "messages": [
                    {"role": "user", "content": "ignored earlier message"},
                    {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
                    {"role": "user", "content": [
                        {"type": "text", "text": "foo"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                     "data": "xx"}},
                        {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                                        "data": "doc"}},
                        {"type": "text", "text": "bar"}]}]}
        result = self.post(body).json()
        self.assertEqual(result["content"], [{"type": "text", "text": "Echo: foo bar lorem"}])
        self.assertEqual(result["usage"]["input_tokens"], 3 + 3 + 1 + 2)

    def test_cache_usage(self):
        body, _ = self.assert_stream_matches_unary(
            model="claude-test?cached=1&cache_write=2&tokens=2",
            content="one two three four five")
        self.assertEqual(body["usage"], {"input_tokens": 2, "cache_read_input_tokens": 1,
                                         "cache_creation_input_tokens": 2, "output_tokens": 2})
        # input_tokens never goes below 0.
        usage = self.unary(model="claude-test?cached=50")["usage"]
        self.assertEqual(usage["input_tokens"], 0)
        self.assertEqual(usage["cache_read_input_tokens"], 50)

    def test_text_directive_and_max_tokens(self):
        body = self.unary(model="claude-test?text=h%C3%A9llo%20%E4%B8%96%E7%95%8C")
        self.assertEqual(body["content"], [{"type": "text", "text": "h\u00e9llo \u4e16\u754c"}])
        self.assertEqual(body["usage"]["output_tokens"], 2)
        body, _ = self.assert_stream_matches_unary(max_tokens=3)
        self.assertEqual(body["content"], [{"type": "text", "text": "Echo: hi there "}])
        self.assertEqual(body["stop_reason"], "max_tokens")
        self.assertEqual(body["usage"]["output_tokens"], 3)
        # An empty reply is an empty text block.
        body, events = self.assert_stream_matches_unary(model="claude-test?tokens=0")
        self.assertEqual(body["content"], [{"type": "text", "text": ""}])
        self.assertEqual([n for n, _ in events], [
            "message_start", "ping", "content_block_start", "content_block_stop",
            "message_delta", "message_stop"])

    def test_stop_sequences(self):
        body, events = self.assert_stream_matches_unary(stop_sequences=["zzz", "lorem", "hi"])
        self.assertEqual(body["content"], [{"type": "text", "text": "Echo: "}])
        self.assertEqual(body["stop_reason"], "stop_sequence")
        self.assertEqual(body["stop_sequence"], "hi")
        self.assertEqual(events[-2][1]["delta"], {"stop_reason": "stop_sequence",
                                                  "stop_sequence": "hi"})
        # Cut inside a token: the part before the stop sequence is sent.
        body = self.unary(stop_sequences=["ere"])
        self.assertEqual(body["content"][0]["text"], "Echo: hi th")
        self.assertEqual(body["usage"]["output_tokens"], 3)
        # max_tokens cuts first: no stop sequence.
        body = self.unary(stop_sequences=["lorem"], max_tokens=2)
        self.assertEqual((body["stop_reason"], body["stop_sequence"]), ("max_tokens", None))
        body = self.unary(stop_sequences=["absent"])
        self.assertEqual((body["stop_reason"], body["stop_sequence"]), ("end_turn", None))

    # -- streaming -------------------------------------------------------------

    def test_stream_exact_events(self):
        resp = self.post(messages_body(model="claude-test?tokens=3", stream=True))
        self.assertEqual(resp.headers["transfer-encoding"], "chunked")
        self.assertTrue(resp.body.startswith(b"event: message_start\ndata: {"))
        self.assertTrue(resp.body.endswith(
            b'event: message_stop\ndata: {"type":"message_stop"}\n\n'))
        events = sse_events(resp)
        message_id = events[0][1]["message"]["id"]
        self.assertRegex(message_id, r"^msg_fake_\d+$")

        def delta(text):
            return ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": text}})

        self.assertEqual(events, [
            ("message_start", {"type": "message_start", "message": {
                "id": message_id, "type": "message", "role": "assistant",
                "model": "claude-test", "content": [], "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 2, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0, "output_tokens": 1}}}),
            ("ping", {"type": "ping"}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
            delta("Echo: "), delta("hi "), delta("there"),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": 3}}),
            ("message_stop", {"type": "message_stop"}),
        ])
        self.assert_stream_matches_unary(model="claude-test?tokens=3")

    def test_stream_chunk_crlf_comments(self):
        model = "claude-test?chunk=1&text=h%C3%A9llo%20%F0%9F%98%80"
        resp = self.post(messages_body(model=model, stream=True))
        self.assertEqual({len(c) for c in resp.chunks}, {1})
        self.assertEqual(assemble_events(sse_events(resp))["content"],
                         [{"type": "text", "text": "h\u00e9llo \U0001F600"}])

        resp = self.post(messages_body(model="claude-test?crlf=1&tokens=2", stream=True))
        text = resp.body.decode()
        self.assertNotRegex(text, r"[^\r]\n")
        self.assertTrue(text.endswith('data: {"type":"message_stop"}\r\n\r\n'))
        self.assertEqual(len(sse_events(resp)), 8)

        resp = self.post(messages_body(model="claude-test?comments=1&tokens=2", stream=True))
        names = [name for name, _ in sse_events(resp)]
        plain = ["message_start", "content_block_start", "content_block_delta",
                 "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
        # A ping between every two events.
        self.assertEqual(names, [x for name in plain for x in (name, "ping")][:-1])
        self.assertNotIn(b": keep-alive", resp.body)

    def test_http10_stream(self):
        client = RawClient(self.port)
        payload = json.dumps(messages_body(stream=True, model="claude-test?tokens=2")).encode()
        client.sock.sendall(b"POST /v1/messages HTTP/1.0\r\nanthropic-version: 2023-06-01\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
        resp = client.read_response()  # no chunking: body runs to EOF
        client.close()
        self.assertNotIn("transfer-encoding", resp.headers)
        self.assertEqual(assemble_events(sse_events(resp))["content"][0]["text"], "Echo: hi")

    # -- tools -----------------------------------------------------------------

    def test_tool_use(self):
        body, events = self.assert_stream_matches_unary(tools=ANTHROPIC_TOOLS)
        number = body["id"].rsplit("_", 1)[1]
        self.assertEqual(body["content"], [{"type": "tool_use", "id": "toolu_fake_" + number,
                                            "name": "search", "input": {"query": "hi there"}}])
        self.assertEqual(body["stop_reason"], "tool_use")
        # '{"query":"hi there"}' is 20 characters: 3 fragments of up to 8.
        self.assertEqual(body["usage"]["output_tokens"], 3)

        def json_delta(piece):
            return ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "input_json_delta",
                                                      "partial_json": piece}})

        tool_id = events[2][1]["content_block"]["id"]
        self.assertRegex(tool_id, r"^toolu_fake_\d+$")
        self.assertEqual(events[2:], [
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                "type": "tool_use", "id": tool_id, "name": "search", "input": {}}}),
            json_delta(""), json_delta('{"query"'), json_delta(':"hi the'), json_delta('re"}'),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                               "usage": {"output_tokens": 3}}),
            ("message_stop", {"type": "message_stop"})])

    def test_tool_choice_and_parallel(self):
        def called(model="claude-test", **kwargs):
            content = self.unary(model=model, tools=ANTHROPIC_TOOLS, **kwargs)["content"]
            return [b["name"] for b in content if b["type"] == "tool_use"] or None

        self.assertEqual(called(), ["search"])
        self.assertEqual(called(tool_choice={"type": "auto"}), ["search"])
        self.assertEqual(called(tool_choice={"type": "any"}), ["search"])
        self.assertEqual(called(model="claude-test?tool=lookup"), ["lookup"])
        self.assertEqual(called(model="claude-test?tool=search",
                                tool_choice={"type": "tool", "name": "lookup"}), ["lookup"])
        self.assertIsNone(called(tool_choice={"type": "none"}))
        self.assertIsNone(called(messages=[{"role": "user", "content": "hi"},
                                           {"role": "assistant", "content": "ok"}]))

        body, events = self.assert_stream_matches_unary(model="claude-test?parallel=2",
                                                        tools=ANTHROPIC_TOOLS)
        number = body["id"].rsplit("_", 1)[1]
        self.assertEqual(body["content"], [
            {"type": "tool_use", "id": "toolu_fake_%s_0" % number, "name": "search",
             "input": {"query": "hi there"}},
            {"type": "tool_use", "id": "toolu_fake_%s_1" % number, "name": "search",
             "input": {"query": "hi there (2)"}}])
        self.assertEqual(body["usage"]["output_tokens"], 3 + 3)
        empty = [data["index"] for name, data in events if name == "content_block_delta"
                 and data["delta"].get("partial_json") == ""]
        self.assertEqual(empty, [0, 1])  # each block's first partial_json is ""

        # max_tokens cuts the second call: its input is {}.
        body, _ = self.assert_stream_matches_unary(model="claude-test?parallel=2",
                                                   tools=ANTHROPIC_TOOLS, max_tokens=4)
        self.assertEqual([b["input"] for b in body["content"]], [{"query": "hi there"}, {}])
        self.assertEqual(body["stop_reason"], "max_tokens")

    def test_tool_result(self):
        messages = [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "w"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny 21C"}]}]
        body, events = self.assert_stream_matches_unary(messages=messages, tools=ANTHROPIC_TOOLS,
                                                        model="claude-test?reasoning=2")
        self.assertEqual(body["content"][1:], [{"type": "text", "text": "Tool result: sunny 21C"}])
        self.assertEqual(body["content"][0]["thinking"], "Thinking about:")  # skips tool results
        self.assertEqual(body["stop_reason"], "end_turn")
        self.assertEqual(body["usage"]["output_tokens"], 2 + 4)
        self.assertEqual(body["usage"]["input_tokens"], 1 + 3 + 2)
        messages[-1]["content"] = [
            {"type": "tool_result", "tool_use_id": "toolu_1",
             "content": [{"type": "text", "text": "part one"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
             "content": [{"type": "text", "text": "part two"}]}]
        body = self.unary(messages=messages)
        self.assertEqual(body["content"], [{"type": "text",
                                            "text": "Tool result: part one part two"}])

    # -- thinking, redacted thinking, refusal ------------------------------------

    def test_thinking_and_signature(self):
        body, events = self.assert_stream_matches_unary(model="claude-test?reasoning=3&tokens=2")
        number = body["id"].rsplit("_", 1)[1]
        self.assertEqual(body["content"], [
            {"type": "thinking", "thinking": "Thinking about: hi", "signature": "sig_fake_" + number},
            {"type": "text", "text": "Echo: hi"}])
        self.assertEqual(body["usage"]["output_tokens"], 5)

        def delta(index, kind, key, value):
            return ("content_block_delta", {"type": "content_block_delta", "index": index,
                                            "delta": {"type": kind, key: value}})

        signature = "sig_fake_" + events[0][1]["message"]["id"].rsplit("_", 1)[1]
        self.assertEqual(events[2:-2], [
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                "type": "thinking", "thinking": "", "signature": ""}}),
            delta(0, "thinking_delta", "thinking", "Thinking "),
            delta(0, "thinking_delta", "thinking", "about: "),
            delta(0, "thinking_delta", "thinking", "hi"),
            delta(0, "signature_delta", "signature", signature),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("content_block_start", {"type": "content_block_start", "index": 1,
                                     "content_block": {"type": "text", "text": ""}}),
            delta(1, "text_delta", "text", "Echo: "),
            delta(1, "text_delta", "text", "hi"),
            ("content_block_stop", {"type": "content_block_stop", "index": 1})])

        # The request's thinking switch gives `tokens` thinking tokens.
        body = self.unary(model="claude-test?tokens=2", max_tokens=2000,
                          thinking={"type": "enabled", "budget_tokens": 1024})
        self.assertEqual([b["type"] for b in body["content"]], ["thinking", "text"])
        self.assertEqual(body["content"][0]["thinking"], "Thinking about:")
        body = self.unary(model="claude-test?tokens=2", thinking={"type": "disabled"})
        self.assertEqual([b["type"] for b in body["content"]], ["text"])

        # max_tokens covers thinking and text together.
        body, _ = self.assert_stream_matches_unary(model="claude-test?reasoning=3", max_tokens=2)
        self.assertEqual([b["type"] for b in body["content"]], ["thinking"])
        self.assertEqual(body["content"][0]["thinking"], "Thinking about: ")
        self.assertEqual(body["stop_reason"], "max_tokens")

    def test_thinking_round_trip_is_recorded(self):
        first = self.unary(model="claude-test?reasoning=2&redacted=1", tools=ANTHROPIC_TOOLS)
        tool_use = first["content"][-1]
        follow_up = messages_body(model="claude-test?reasoning=2&redacted=1",
                                  tools=ANTHROPIC_TOOLS, messages=[
                                      {"role": "user", "content": "hi there"},
                                      {"role": "assistant", "content": first["content"]},
                                      {"role": "user", "content": [{
                                          "type": "tool_result", "tool_use_id": tool_use["id"],
                                          "content": "found"}]}])
        resp = self.post(follow_up)
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.json()["content"][-1], {"type": "text", "text": "Tool result: found"})
        log = self.request("GET", "/_requests").json()
        self.assertEqual(log[-1]["path"], "/v1/messages")
        self.assertEqual(log[-1]["headers"]["anthropic-version"], "2023-06-01")
        sent_back = log[-1]["body"]["messages"][1]["content"]
        self.assertEqual([b["type"] for b in sent_back],
                         ["redacted_thinking", "thinking", "tool_use"])
        self.assertEqual(sent_back[1]["signature"], first["content"][1]["signature"])
        self.assertEqual(sent_back[0]["data"], first["content"][0]["data"])

        # A thinking block without its signature is refused, as by the real API.
        del follow_up["messages"][1]["content"][1]["signature"]
        resp = self.post(follow_up)
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.json()["error"]["message"],
                         "messages.1.content.1.thinking.signature: Field required")

    def test_redacted_thinking(self):
        body, events = self.assert_stream_matches_unary(
            model="claude-test?reasoning=1&redacted=1&tokens=1")
        number = body["id"].rsplit("_", 1)[1]
        self.assertEqual(body["content"], [
            {"type": "redacted_thinking", "data": "redacted_fake_" + number},
            {"type": "thinking", "thinking": "Thinking", "signature": "sig_fake_" + number},
            {"type": "text", "text": "Echo:"}])
        self.assertEqual(body["usage"]["output_tokens"], 2)  # redacted_thinking costs nothing
        # The redacted block comes whole in its content_block_start, then
        # the thinking block opens in the same step.
        number = events[0][1]["message"]["id"].rsplit("_", 1)[1]
        self.assertEqual(events[2:6], [
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                "type": "redacted_thinking", "data": "redacted_fake_" + number}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
                "type": "thinking", "thinking": "", "signature": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
                "type": "thinking_delta", "thinking": "Thinking"}})])

    def test_refusal(self):
        body, events = self.assert_stream_matches_unary(model="claude-test?refusal=1")
        self.assertEqual(body["content"], [{"type": "text", "text": "I can't help with that."}])
        self.assertEqual(body["stop_reason"], "refusal")
        self.assertEqual(body["usage"]["output_tokens"], 5)
        self.assertEqual(events[-2][1]["delta"]["stop_reason"], "refusal")
        # A tool call takes precedence.
        body = self.unary(model="claude-test?refusal=1", tools=ANTHROPIC_TOOLS)
        self.assertEqual(body["stop_reason"], "tool_use")

    # -- errors ----------------------------------------------------------------

    def test_status_errors(self):
        expectations = {400: "invalid_request_error", 401: "authentication_error",
                        402: "billing_error", 403: "permission_error", 404: "not_found_error",
                        413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                        504: "timeout_error", 529: "overloaded_error",
                        418: "invalid_request_error", 503: "api_error"}
        for status, error_type in expectations.items():
            for stream in (False, True):
                resp = self.post(messages_body(model="claude-test?status=%d" % status,
                                               stream=stream))
                self.assertEqual(resp.status, status)
                self.assertEqual(resp.headers["content-type"], "application/json")
                body = resp.json()
                self.assertEqual(set(body), {"type", "error"})
                self.assertEqual(body["type"], "error")
                self.assertEqual(set(body["error"]), {"type", "message"})
                self.assertEqual(body["error"]["type"], error_type, status)
                self.assertNotIn("retry-after", resp.headers)
        self.assertEqual(self.post(messages_body(model="claude-test?status=529")).json(),
                         {"type": "error", "error": {"type": "overloaded_error",
                                                     "message": "Overloaded"}})
        self.assertEqual(self.post(messages_body(model="my-model?status=404")).json()[
            "error"]["message"], "model: my-model")
        resp = self.post(messages_body(model="claude-test?status=429&retry_after=7"))
        self.assertEqual(resp.headers["retry-after"], "7")
        resp = self.post(messages_body(model="claude-test?status=400&code=billing_error"))
        self.assertEqual(resp.json()["error"]["type"], "billing_error")

    def test_request_validation(self):
        def error(body, headers=ANTHROPIC_HEADERS):
            resp = self.post(body, headers=headers)
            self.assertEqual(resp.status, 400, body)
            self.assertEqual(resp.json()["type"], "error")
            self.assertEqual(resp.json()["error"]["type"], "invalid_request_error")
            return resp.json()["error"]["message"]

        body = messages_body()
        del body["max_tokens"]
        self.assertEqual(self.post(body).json(), {"type": "error", "error": {
            "type": "invalid_request_error", "message": "max_tokens: Field required"}})
        self.assertEqual(error(messages_body(), headers={}),
                         "anthropic-version: header is required")
        error(b"{not json")
        self.assertEqual(error({"model": "claude-test", "max_tokens": 5}),
                         "messages: Field required")
        self.assertEqual(error(messages_body(max_tokens=0)),
                         "max_tokens: Input should be greater than or equal to 1")
        self.assertIn("messages.0.role", error(messages_body(messages=[
            {"role": "system", "content": "x"}, {"role": "user", "content": "hi"}])))
        self.assertIn("'image_url'", error(messages_body(content=[
            {"type": "image_url", "image_url": {"url": "data:,"}}])))
        self.assertEqual(error(messages_body(n=2)), "n: Extra inputs are not permitted")
        self.assertEqual(error(messages_body(tools=[{"type": "function", "function": {
            "name": "search"}}])), "tools.0.name: Field required")
        error(messages_body(tool_choice="auto"))
        error(messages_body(tool_choice={"type": "tool"}))
        error(messages_body(thinking={"type": "enabled", "budget_tokens": 100}))
        self.assertEqual(error(messages_body(max_tokens=1024, thinking={
            "type": "enabled", "budget_tokens": 1024})),
            "`max_tokens` must be greater than `thinking.budget_tokens`.")
        error(messages_body(stop_sequences="lorem"))
        self.assertIn("no_such_directive", error(messages_body(
            model="claude-test?no_such_directive=1")))
        error(messages_body(model="claude-test?fault=nonsense"))

    # -- faults ----------------------------------------------------------------

    def test_fault_malformed(self):
        resp = self.post(messages_body(model="claude-test?fault=gzip"))
        self.assertEqual(resp.status, 400)  # OpenAI mode only
        self.assertIn(b"OpenAI mode only", resp.body)
        resp = self.post(messages_body(model="claude-test?fault=malformed"))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers["content-type"], "application/json")
        with self.assertRaises(ValueError):
            resp.json()
        resp = self.post(messages_body(model="claude-test?fault=malformed&tokens=3", stream=True))
        blocks = resp.body.decode().split("\n\n")
        self.assertIn('"text":"Echo: "', blocks[3])
        self.assertTrue(blocks[4].startswith("event: content_block_delta\ndata: "))
        with self.assertRaises(ValueError):
            json.loads(blocks[4].split("data: ", 1)[1])
        self.assertTrue(resp.body.endswith(b'data: {"type":"message_stop"}\n\n'))

    def test_fault_drop(self):
        client = RawClient(self.port)
        client.send_request("POST", "/v1/messages", messages_body(model="claude-test?fault=drop"),
                            ANTHROPIC_HEADERS)
        self.assertEqual(client.read_to_eof(), b"")
        client.close()

        client = RawClient(self.port)
        client.send_request("POST", "/v1/messages",
                            messages_body(model="claude-test?fault=drop", stream=True),
                            ANTHROPIC_HEADERS)
        status, _ = client.read_head()
        self.assertEqual(status, 200)
        rest = client.read_to_eof()
        client.close()
        self.assertIn(b'"text":"Echo: "', rest)   # the first delta came
        self.assertEqual(rest.count(b"event: content_block_delta"), 1)
        self.assertNotIn(b"message_delta", rest)
        self.assertNotIn(b"message_stop", rest)
        self.assertFalse(rest.endswith(b"0\r\n\r\n"))

    def test_fault_nodone_and_error_event_keep_alive(self):
        client = RawClient(self.port)
        try:
            resp = client.request("POST", "/v1/messages",
                                  messages_body(model="claude-test?fault=nodone", stream=True),
                                  ANTHROPIC_HEADERS)
            names = [name for name, _ in sse_events(resp)]
            self.assertEqual(names[-1], "message_delta")
            self.assertNotIn("message_stop", names)

            resp = client.request("POST", "/v1/messages",
                                  messages_body(model="claude-test?fault=error_event",
                                                stream=True), ANTHROPIC_HEADERS)
            events = sse_events(resp)
            self.assertEqual([name for name, _ in events], [
                "message_start", "ping", "content_block_start", "content_block_delta", "error"])
            self.assertEqual(events[-1][1], {"type": "error", "error": {
                "type": "overloaded_error", "message": "Overloaded"}})
            self.assertTrue(resp.body.endswith(
                b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
                b'"message":"Overloaded"}}\n\n'))

            # Tool use: faults strike after the first step, which carries the
            # empty partial_json and the first piece.
            resp = client.request("POST", "/v1/messages",
                                  messages_body(model="claude-test?fault=error_event",
                                                stream=True, tools=ANTHROPIC_TOOLS),
                                  ANTHROPIC_HEADERS)
            pieces = [data["delta"]["partial_json"] for name, data in sse_events(resp)
                      if name == "content_block_delta"]
            self.assertEqual(pieces, ["", '{"query"'])

            self.assertEqual(client.request("GET", "/healthz").body, b"ok")
        finally:
            client.close()

    def test_pacing(self):
        start = time.monotonic()
        resp = self.post(messages_body(model="claude-test?delay_ms=150&status=529"))
        self.assertGreaterEqual(time.monotonic() - start, 0.13)
        self.assertEqual(resp.status, 529)

        start = time.monotonic()
        self.post(messages_body(model="claude-test?first_token_ms=50&pace_ms=50&tokens=2"))
        self.assertGreaterEqual(time.monotonic() - start, 0.13)  # 50 + 2 * 50

        client = RawClient(self.port)
        try:
            start = time.monotonic()
            client.send_request("POST", "/v1/messages", messages_body(
                model="claude-test?first_token_ms=150&pace_ms=50&tokens=2"
                      "&pause_after_first_ms=100", stream=True), ANTHROPIC_HEADERS)
            client.read_head()
            self.assertIn(b"message_start", client.read_chunk())
            self.assertIn(b"ping", client.read_chunk())
            self.assertIn(b"content_block_start", client.read_chunk())
            self.assertGreaterEqual(time.monotonic() - start, 0.13)  # first_token_ms
            self.assertIn(b"text_delta", client.read_chunk())
            first = time.monotonic()
            self.assertIn(b"text_delta", client.read_chunk())
            self.assertGreaterEqual(time.monotonic() - first, 0.13)  # pause + pace
            while client.read_chunk() is not None:
                pass
        finally:
            client.close()


# ---------------------------------------------------------------------------
# Stateful faults and concurrency stats (a server of their own, because these
# change the whole instance; each test leaves it healthy)
# ---------------------------------------------------------------------------

class StatefulTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm()

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def request(self, method, path, body=None, headers=None):
        client = RawClient(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()

    def chat(self, model, **extra):
        return self.request("POST", "/v1/chat/completions", chat_body(model=model, **extra))

    def messages(self, model, **extra):
        return self.request("POST", "/v1/messages", messages_body(model=model, **extra),
                            ANTHROPIC_HEADERS)

    def stats(self):
        return self.request("GET", "/_stats").json()

    def wait_for_stats(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats) or time.monotonic() > deadline:
                return stats
            time.sleep(0.02)

    def test_fail_first(self):
        model = "fake-model?status=429&retry_after=1&fail_first=1"
        resp = self.chat(model)
        self.assertEqual(resp.status, 429)
        self.assertEqual(resp.headers["retry-after"], "1")
        for _ in range(2):
            resp = self.chat(model, stream=True)
            self.assertEqual(resp.status, 200)
            self.assertNotIn("retry-after", resp.headers)
            self.assertEqual(resp.sse_data()[-1], "[DONE]")
        # Another model string has its own counter; fail_first=0 never fails.
        self.assertEqual(self.chat(model + "&tokens=2").status, 429)
        self.assertEqual(self.chat("fake-model?status=500&fail_first=0").status, 200)

        # Anthropic mode, two failures, then success.
        model = "claude-test?status=529&fail_first=2"
        self.assertEqual([self.messages(model).status for _ in range(3)], [529, 529, 200])
        self.assertEqual(self.messages(model).json()["stop_reason"], "end_turn")

        # fault=drop: the first request is dropped, the second streams.
        model = "claude-test?fault=drop&fail_first=1"
        client = RawClient(self.port)
        client.send_request("POST", "/v1/messages", messages_body(model=model, stream=True),
                            ANTHROPIC_HEADERS)
        client.read_head()
        self.assertNotIn(b"message_stop", client.read_to_eof())
        client.close()
        resp = self.messages(model, stream=True)
        self.assertEqual(sse_events(resp)[-1][0], "message_stop")

        # DELETE /_requests resets the counters.
        self.assertEqual(self.request("DELETE", "/_requests").status, 200)
        self.assertEqual(self.chat("fake-model?status=429&retry_after=1&fail_first=1").status, 429)
        self.assertEqual(self.messages("claude-test?status=529&fail_first=2").status, 529)

    def test_instance_fault(self):
        self.addCleanup(self.request, "DELETE", "/_fault")
        self.request("DELETE", "/_requests")
        self.assertEqual(self.request("GET", "/_fault").json(), {"fault": None})
        resp = self.request("PUT", "/_fault", {"status": 503, "retry_after": 3})
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json(), {"fault": {"status": 503, "retry_after": "3"}})
        self.assertEqual(self.request("GET", "/_fault").json(),
                         {"fault": {"status": 503, "retry_after": "3"}})
        before = self.stats()["requests"]

        resp = self.chat("fake-model", stream=True)
        self.assertEqual(resp.status, 503)
        self.assertEqual(resp.headers["retry-after"], "3")
        self.assertEqual(resp.json()["error"]["code"], "overloaded")
        resp = self.messages("claude-test?tokens=2")
        self.assertEqual(resp.status, 503)
        self.assertEqual(resp.headers["retry-after"], "3")
        self.assertEqual(resp.json()["type"], "error")
        self.assertEqual(resp.json()["error"]["type"], "api_error")
        # Even a request fakellm would otherwise reject fails that way.
        self.assertEqual(self.chat("fake-model?no_such_directive=1").status, 503)
        self.assertEqual(self.request("GET", "/healthz").status, 200)  # not affected
        self.assertEqual(self.stats()["requests"], before + 3)
        self.assertEqual(len(self.request("GET", "/_requests").json()), 3)

        self.request("PUT", "/_fault", {"status": 529})
        self.assertEqual(self.messages("claude-test").json()["error"]["type"], "overloaded_error")

        self.assertEqual(self.request("PUT", "/_fault", {"fault": "drop"}).status, 200)
        for path, body in (("/v1/chat/completions", chat_body()),
                           ("/v1/messages", messages_body())):
            client = RawClient(self.port)
            client.send_request("POST", path, body, ANTHROPIC_HEADERS)
            self.assertEqual(client.read_to_eof(), b"")
            client.close()

        self.assertEqual(self.request("DELETE", "/_fault").json(), {"fault": None})
        self.assertEqual(self.chat("fake-model").status, 200)
        self.assertEqual(self.messages("claude-test").status, 200)

        for bad in ({}, {"status": 200}, {"status": "503"}, {"fault": "slow"},
                    {"status": 503, "fault": "drop"}, {"status": 503, "retry": 1}, [503]):
            resp = self.request("PUT", "/_fault", bad)
            self.assertEqual(resp.status, 400, bad)
            self.assertEqual(resp.json()["error"]["code"], "invalid_fakellm_fault")
        self.assertEqual(self.request("GET", "/_fault").json(), {"fault": None})

    def test_peak_stats(self):
        base = self.request("DELETE", "/_stats").json()
        self.assertEqual(base["requests"], 0)
        self.assertEqual(base["in_flight"], 0)
        self.assertEqual(base["peak_in_flight"], 0)
        self.assertEqual(base["peak_connections"], base["active_connections"])

        held = []
        try:
            for index in range(5):
                client = RawClient(self.port)
                if index < 2:
                    client.send_request("POST", "/v1/messages", messages_body(
                        model="claude-test?first_token_ms=60000", stream=True),
                        ANTHROPIC_HEADERS)
                elif index < 4:
                    client.send_request("POST", "/v1/chat/completions", chat_body(
                        model="fake-model?first_token_ms=60000", stream=True))
                else:  # not streaming: in flight during delay_ms
                    client.send_request("POST", "/v1/chat/completions", chat_body(
                        model="fake-model?delay_ms=60000"))
                held.append(client)
            for client in held[:4]:
                client.read_head()
            during = self.wait_for_stats(lambda s: s["in_flight"] == 5)
            self.assertEqual(during["in_flight"], 5)
            self.assertEqual(during["peak_in_flight"], 5)
            self.assertEqual(during["open_streams"], 4)
            self.assertGreaterEqual(during["peak_connections"], 6)  # + the /_stats one
        finally:
            for client in held:
                client.close()
        after = self.wait_for_stats(lambda s: s["in_flight"] == 0 and s["closed_early"] == 5)
        self.assertEqual(after["in_flight"], 0)
        self.assertEqual(after["peak_in_flight"], 5)
        self.assertEqual(after["requests"], 5)
        self.assertEqual(after["closed_early"], 5)
        self.assertGreater(after["last_disconnect_unix_ms"], 0)
        self.assertGreaterEqual(after["peak_connections"], 6)

        reset = self.request("DELETE", "/_stats").json()
        self.assertEqual((reset["requests"], reset["closed_early"], reset["in_flight"],
                          reset["peak_in_flight"], reset["last_disconnect_unix_ms"]),
                         (0, 0, 0, 0, 0))
        self.assertEqual(reset["peak_connections"], reset["active_connections"])
        self.assertGreaterEqual(reset["active_connections"], 1)  # the one asking
        self.chat("fake-model")
        self.assertEqual(self.stats()["peak_in_flight"], 1)


# ---------------------------------------------------------------------------
# Tests needing other command-line flags
# ---------------------------------------------------------------------------

class FlagsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm("--api_key", "sk-test-123", "--tokens", "3",
                                           "--pace_ms", "1", "--first_token_ms", "1")

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def request(self, method, path, body=None, headers=None):
        client = RawClient(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()

    def test_api_key(self):
        expected = {"error": {"message": "Incorrect API key provided",
                              "type": "invalid_request_error", "code": "invalid_api_key"}}
        for headers in ({}, {"Authorization": "Bearer sk-wrong-456"}, {"authorization": "sk-test-123"}):
            resp = self.request("POST", "/v1/chat/completions", chat_body(), headers)
            self.assertEqual(resp.status, 401)
            self.assertEqual(resp.json(), expected)
            self.assertNotIn(b"sk-", resp.body)
        self.assertEqual(self.request("GET", "/v1/models").status, 401)

        good = {"AUTHORIZATION": "Bearer sk-test-123"}
        resp = self.request("POST", "/v1/chat/completions", chat_body(), good)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json()["choices"][0]["message"]["content"], "Echo: hi there")  # --tokens 3
        self.assertEqual(self.request("GET", "/v1/models", headers=good).status, 200)
        self.assertEqual(self.request("GET", "/healthz").status, 200)  # no key needed

        log = self.request("GET", "/_requests").json()
        self.assertEqual(log[1]["headers"]["authorization"], "Bearer sk-wrong-456")
        self.assertEqual(log[-1]["headers"]["authorization"], "Bearer sk-test-123")

    def test_anthropic_api_key(self):
        expected = {"type": "error", "error": {"type": "authentication_error",
                                               "message": "invalid x-api-key"}}
        for headers in ({}, {"x-api-key": "sk-wrong-456"},
                        {"Authorization": "Bearer sk-test-123"}):
            headers.update(ANTHROPIC_HEADERS)
            resp = self.request("POST", "/v1/messages", messages_body(), headers)
            self.assertEqual(resp.status, 401)
            self.assertEqual(resp.json(), expected)
            self.assertNotIn(b"sk-", resp.body)
        good = {"X-Api-Key": "sk-test-123", **ANTHROPIC_HEADERS}
        resp = self.request("POST", "/v1/messages", messages_body(), good)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json()["content"], [{"type": "text", "text": "Echo: hi there"}])
        resp = self.request("POST", "/messages", messages_body(), {"x-api-key": "sk-test-123"})
        self.assertEqual(resp.status, 400)  # the key is right, the version is missing
        self.assertEqual(resp.json()["error"]["message"], "anthropic-version: header is required")
        log = self.request("GET", "/_requests").json()
        self.assertEqual(log[-1]["headers"]["x-api-key"], "sk-test-123")
        self.request("DELETE", "/_requests")  # test_api_key reads the log from its start


# ---------------------------------------------------------------------------
# Gemini mode
# ---------------------------------------------------------------------------

def gemini_body(content="hi there", **extra):
    body = {"contents": [{"role": "user", "parts": [{"text": content}]}]}
    body.update(extra)
    return body


def gemini_path(model="gemini-test", stream=False, version="v1beta"):
    """The URL of a Gemini call; the model (directives included) is
    percent-encoded as one path segment, as the gateway sends it."""
    model = urllib.parse.quote(model, safe="")
    if stream:
        return "/%s/models/%s:streamGenerateContent?alt=sse" % (version, model)
    return "/%s/models/%s:generateContent" % (version, model)


def assemble_gemini(chunks):
    """Rebuild one answer from stream chunks the way Google's SDKs merge a
    stream: parts in order (adjacent text pieces of the same kind joined,
    signatures kept on the part they came with), the last finishReason,
    usageMetadata, modelVersion and responseId."""
    parts, answer = [], {}
    for chunk in chunks:
        candidate = chunk["candidates"][0]
        for part in candidate["content"]["parts"]:
            previous = parts[-1] if parts else None
            if ("text" in part and previous is not None and "text" in previous
                    and previous.get("thought") == part.get("thought")
                    and "thoughtSignature" not in part and part["text"] != ""):
                previous["text"] += part["text"]
            elif part == {"text": ""}:
                continue
            else:
                parts.append(dict(part))
        if "finishReason" in candidate:
            answer["finishReason"] = candidate["finishReason"]
        for key in ("usageMetadata", "modelVersion", "responseId"):
            answer[key] = chunk[key]
    return {"candidates": [{"content": {"parts": parts, "role": "model"},
                            "finishReason": answer["finishReason"], "index": 0}],
            "usageMetadata": answer["usageMetadata"],
            "modelVersion": answer["modelVersion"], "responseId": answer["responseId"]}


def without_gemini_numbers(obj):
    return json.loads(re.sub(r"(resp|sig)_fake_\d+", r"\1_fake_N", json.dumps(obj)))


WEATHER_DECLARATIONS = [{"functionDeclarations": [
    {"name": "get_weather", "description": "Weather for a city",
     "parametersJsonSchema": {"type": "object"}},
    {"name": "get_time"}]}]


class GeminiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm()

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def request(self, method, path, body=None, headers=None):
        client = RawClient(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()

    def unary(self, model="gemini-test", **body):
        resp = self.request("POST", gemini_path(model), gemini_body(**body))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.headers["content-type"], "application/json")
        return resp.json()

    def streamed(self, model="gemini-test", **body):
        resp = self.request("POST", gemini_path(model, stream=True), gemini_body(**body))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.headers["content-type"], "text/event-stream")
        chunks = [json.loads(data) for data in resp.sse_data()]
        self.assertNotIn("[DONE]", resp.sse_data())
        # Only the last chunk ends the candidate.
        finishes = [c["candidates"][0].get("finishReason") for c in chunks
                    if c.get("candidates")]
        self.assertTrue(finishes[-1], chunks)
        self.assertFalse(any(finishes[:-1]), chunks)
        return chunks

    def assert_stream_matches_unary(self, model="gemini-test", **body):
        unary = self.unary(model, **body)
        chunks = self.streamed(model, **body)
        self.assertEqual(without_gemini_numbers(assemble_gemini(chunks)),
                         without_gemini_numbers(unary))
        return unary, chunks

    def test_unary_shape(self):
        for version in ("v1beta", "v1"):
            resp = self.request("POST", gemini_path("gemini-test?tokens=5", version=version),
                                gemini_body(systemInstruction={"parts": [{"text": "be brief"}]}))
            self.assertEqual(resp.status, 200, resp.body)
            body = resp.json()
            self.assertRegex(body["responseId"], r"^resp_fake_\d+$")
            self.assertEqual(without_gemini_numbers(body), {
                "candidates": [{"content": {"parts": [{"text": "Echo: hi there lorem ipsum"}],
                                            "role": "model"},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 5,
                                  "totalTokenCount": 9},
                "modelVersion": "gemini-test", "responseId": "resp_fake_N"})

    def test_last_user_text_prompt_words_and_snake_case(self):
        body = self.unary(contents=[
            {"role": "user", "parts": [{"text": "first question"}]},
            {"role": "model", "parts": [{"text": "an answer", "thought_signature": "x"}]},
            {"parts": [{"text": "second"}, {"inline_data": {"mime_type": "image/png",
                                                           "data": "iVBORw=="}},
                       {"file_data": {"mime_type": "application/pdf",
                                      "file_uri": "gs://b/doc.pdf"}}, {"text": "one"}]}],
            system_instruction={"parts": [{"text": "sys"}]})
        self.assertEqual(body["candidates"][0]["content"]["parts"][0]["text"],
                         "Echo: second one lorem ipsum dolor sit amet")
        self.assertEqual(body["usageMetadata"]["promptTokenCount"], 7)

    def test_stream_matches_unary(self):
        _, chunks = self.assert_stream_matches_unary("gemini-test?tokens=4&cached=2")
        self.assertEqual(len(chunks), 5)  # a chunk a token, then the final chunk
        self.assertEqual(chunks[-1]["candidates"][0]["content"]["parts"], [{"text": ""}])
        self.assertEqual(chunks[-1]["usageMetadata"],
                         {"promptTokenCount": 2, "candidatesTokenCount": 4,
                          "totalTokenCount": 6, "cachedContentTokenCount": 2})
        self.assertEqual(chunks[0]["usageMetadata"],
                         {"promptTokenCount": 2, "totalTokenCount": 2})

    def test_stream_chunk_crlf_comments(self):
        unary = self.unary("gemini-test?text=h%C3%A9llo%20%F0%9F%98%80")
        resp = self.request("POST", gemini_path(
            "gemini-test?text=h%C3%A9llo%20%F0%9F%98%80&chunk=1&crlf=1&comments=1", stream=True),
            gemini_body())
        self.assertIn(b"\r\n\r\n", resp.body)
        self.assertIn(b": keep-alive", resp.body)
        self.assertTrue(all(len(c) == 1 for c in resp.chunks))
        chunks = [json.loads(d) for d in resp.sse_data()]
        self.assertEqual(without_gemini_numbers(assemble_gemini(chunks)),
                         without_gemini_numbers(unary))
        self.assertEqual(unary["candidates"][0]["content"]["parts"][0]["text"], "héllo 😀")

    def test_function_calls(self):
        body, chunks = self.assert_stream_matches_unary(
            "gemini-test?parallel=2", content="weather in Paris", tools=WEATHER_DECLARATIONS)
        candidate = body["candidates"][0]
        self.assertEqual(candidate["finishReason"], "STOP")
        self.assertEqual(candidate["content"]["parts"], [
            {"functionCall": {"name": "get_weather", "args": {"query": "weather in Paris"}}},
            {"functionCall": {"name": "get_weather",
                              "args": {"query": "weather in Paris (2)"}}}])
        # Each call comes whole, in a chunk of its own.
        calls = [c for c in chunks if "functionCall" in c["candidates"][0]["content"]["parts"][0]]
        self.assertEqual(len(calls), 2)
        # Pieces of 8 characters are the tokens.
        self.assertEqual(body["usageMetadata"]["candidatesTokenCount"], 2 * 4)

        named = self.unary(content="q", tools=WEATHER_DECLARATIONS, toolConfig={
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}})
        self.assertEqual(named["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
                         "get_time")
        directive = self.unary("gemini-test?tool=get_time", content="q",
                               tools=WEATHER_DECLARATIONS)
        self.assertEqual(
            directive["candidates"][0]["content"]["parts"][0]["functionCall"]["name"], "get_time")
        none = self.unary("gemini-test?tokens=2", content="q", tools=WEATHER_DECLARATIONS,
                          toolConfig={"functionCallingConfig": {"mode": "NONE"}})
        self.assertEqual(none["candidates"][0]["content"]["parts"], [{"text": "Echo: q"}])

    def test_function_response_turn(self):
        contents = [
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather",
                                                          "args": {"query": "weather?"}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "18C"}}},
                {"functionResponse": {"name": "get_weather", "response": {"temp": 20}}}]}]
        body, _ = self.assert_stream_matches_unary(contents=contents, tools=WEATHER_DECLARATIONS)
        self.assertEqual(body["candidates"][0]["content"]["parts"],
                         [{"text": 'Tool result: 18C {"temp":20}'}])
        self.assertEqual(body["usageMetadata"]["promptTokenCount"], 1 + 1 + 1)

    def test_thoughts_and_signature(self):
        hidden, chunks = self.assert_stream_matches_unary("gemini-test?reasoning=3&tokens=2")
        n = hidden["responseId"][len("resp_fake_"):]
        self.assertEqual(hidden["candidates"][0]["content"]["parts"],
                         [{"text": "Echo: hi", "thoughtSignature": "sig_fake_" + n}])
        self.assertEqual(hidden["usageMetadata"]["thoughtsTokenCount"], 3)
        self.assertEqual(hidden["usageMetadata"]["totalTokenCount"], 2 + 2 + 3)
        self.assertEqual(len(chunks), 3)  # hidden thoughts send nothing

        config = {"thinkingConfig": {"includeThoughts": True}}
        shown, _ = self.assert_stream_matches_unary(
            "gemini-test?reasoning=3", content="weather", tools=WEATHER_DECLARATIONS,
            generationConfig=config)
        n = shown["responseId"][len("resp_fake_"):]
        self.assertEqual(shown["candidates"][0]["content"]["parts"], [
            {"text": "Thinking about: weather", "thought": True},
            {"functionCall": {"name": "get_weather", "args": {"query": "weather"}},
             "thoughtSignature": "sig_fake_" + n}])

        # A thinking budget without reasoning=: `tokens` thoughts.
        budget = self.unary("gemini-test?tokens=2", generationConfig={
            "thinkingConfig": {"thinkingBudget": 1024}})
        self.assertEqual(budget["usageMetadata"]["thoughtsTokenCount"], 2)
        # Cut during the thoughts: the signature on an empty text part.
        cut, chunks = self.assert_stream_matches_unary(
            "gemini-test?reasoning=5", generationConfig={"maxOutputTokens": 3})
        self.assertEqual(cut["candidates"][0]["finishReason"], "MAX_TOKENS")
        self.assertEqual(without_gemini_numbers(cut["candidates"][0]["content"]["parts"]),
                         [{"text": "", "thoughtSignature": "sig_fake_N"}])
        self.assertEqual(without_gemini_numbers(chunks[-1]["candidates"][0]["content"]["parts"]),
                         [{"text": "", "thoughtSignature": "sig_fake_N"}])

    def test_json_max_tokens_stop_and_refusal(self):
        schema = {"type": "object", "properties": {"query": {"type": "string"},
                                                   "n": {"type": "integer"}}}
        body, _ = self.assert_stream_matches_unary(content="json please", generationConfig={
            "responseMimeType": "application/json", "responseJsonSchema": schema})
        self.assertEqual(json.loads(body["candidates"][0]["content"]["parts"][0]["text"]),
                         {"query": "json please", "n": 42})
        body = self.unary(generationConfig={"responseMimeType": "application/json"})
        self.assertEqual(body["candidates"][0]["content"]["parts"][0]["text"],
                         '{"echo":"hi there"}')
        body, _ = self.assert_stream_matches_unary(generationConfig={"maxOutputTokens": 2})
        self.assertEqual(body["candidates"][0]["finishReason"], "MAX_TOKENS")
        self.assertEqual(body["candidates"][0]["content"]["parts"], [{"text": "Echo: hi "}])
        body = self.unary(generationConfig={"stopSequences": ["there"]})
        self.assertEqual(body["candidates"][0]["content"]["parts"], [{"text": "Echo: hi "}])
        self.assertEqual(body["candidates"][0]["finishReason"], "STOP")
        body, _ = self.assert_stream_matches_unary("gemini-test?refusal=1")
        self.assertEqual(body["candidates"][0]["finishReason"], "SAFETY")

    def test_blocked_prompt(self):
        body = self.unary("gemini-test?blocked=SAFETY")
        self.assertNotIn("candidates", body)
        self.assertEqual(body["promptFeedback"]["blockReason"], "SAFETY")
        self.assertEqual(body["usageMetadata"], {"promptTokenCount": 2, "totalTokenCount": 2})
        resp = self.request("POST", gemini_path("gemini-test?blocked=OTHER", stream=True),
                            gemini_body())
        chunks = [json.loads(d) for d in resp.sse_data()]
        self.assertEqual(len(chunks), 1)
        self.assertEqual(chunks[0]["promptFeedback"]["blockReason"], "OTHER")
        resp = self.request("POST", gemini_path("gemini-test?blocked=MAYBE"), gemini_body())
        self.assertEqual(resp.status, 400)

    def test_status_errors(self):
        cases = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 418: "FAILED_PRECONDITION",
                 599: "INTERNAL"}
        for status, rpc_status in cases.items():
            for stream in (False, True):
                resp = self.request("POST", gemini_path("gemini-x?status=%d" % status, stream),
                                    gemini_body())
                self.assertEqual(resp.status, status)
                self.assertEqual(resp.headers["content-type"], "application/json")
                error = resp.json()["error"]
                self.assertEqual(error["code"], status)
                self.assertEqual(error["status"], rpc_status)
                self.assertNotIn("details", error)
        self.assertIn("models/gemini-x is not found",
                      self.request("POST", gemini_path("gemini-x?status=404"),
                                   gemini_body()).json()["error"]["message"])
        resp = self.request("POST", gemini_path("gemini-x?status=429&retry_after=7&code=OTHER"),
                            gemini_body())
        self.assertNotIn("retry-after", resp.headers)  # Google says it in the body
        self.assertEqual(resp.json()["error"]["status"], "OTHER")
        self.assertEqual(resp.json()["error"]["details"],
                         [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                           "retryDelay": "7s"}])

    def test_request_validation(self):
        cases = [
            ({"contents": []}, "contents is not specified"),
            ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
            (gemini_body(n=2), 'Unknown name "n"'),
            ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "valid role"),
            ({"contents": [{"parts": [{"text": "x", "inlineData": {}}]}]}, "oneof field 'data'"),
            ({"contents": [{"parts": [{"thought": True}]}]}, "oneof field 'data'"),
            ({"contents": [{"parts": [{"functionCall": {"name": "f"}}]}]}, "function call turn"),
            ({"contents": [{"parts": [{"functionResponse": {"name": "f", "response": 1}}]}]},
             "response: Expected an object"),
            (gemini_body(tools=[{"functionDeclarations": [{"description": "x"}]}]),
             "Name cannot be empty"),
            (gemini_body(toolConfig={"functionCallingConfig": {"mode": "REQUIRED"}}),
             "function_calling_config.mode"),
            (gemini_body(generationConfig={"max_tokens": 5}), 'Unknown name "max_tokens"'),
            (gemini_body(generationConfig={"responseSchema": {}, "responseJsonSchema": {}}),
             "mutually exclusive"),
            (gemini_body(generationConfig={"thinkingConfig": {"thinkingBudget": 1,
                                                              "thinkingLevel": "high"}}),
             "only one of thinking budget"),
            (gemini_body(generationConfig={"maxOutputTokens": 0}), "positive integer"),
        ]
        for body, message in cases:
            resp = self.request("POST", gemini_path(), body)
            self.assertEqual(resp.status, 400, body)
            error = resp.json()["error"]
            self.assertEqual(error["status"], "INVALID_ARGUMENT")
            self.assertIn(message, error["message"], body)
        for path in (gemini_path("gemini-test?nonsense=1"),
                     "/v1beta/models/gemini-test:streamGenerateContent"):
            resp = self.request("POST", path, gemini_body())
            self.assertEqual(resp.status, 400)
        resp = self.request("POST", gemini_path(), b"{not json")
        self.assertEqual(resp.status, 400)

    def test_faults(self):
        resp = self.request("POST", gemini_path("gemini-test?fault=malformed"), gemini_body())
        self.assertEqual((resp.status, resp.body), (200, b'{"candidates": ['))
        client = RawClient(self.port)
        client.send_request("POST", gemini_path("gemini-test?fault=drop"), gemini_body())
        self.assertEqual(client.read_to_eof(), b"")
        client.close()

        data = self.request("POST", gemini_path("gemini-test?fault=malformed&tokens=3", True),
                            gemini_body()).sse_data()
        self.assertEqual(data[1], '{"candidates": [')
        self.assertIn('"finishReason":"STOP"', data[-1])

        client = RawClient(self.port)
        client.send_request("POST", gemini_path("gemini-test?fault=drop&tokens=3", True),
                            gemini_body())
        status, _ = client.read_head()
        self.assertEqual(status, 200)
        first = client.read_chunk()
        self.assertIn(b'"Echo: "', first)
        with self.assertRaises(EOFError):  # no final chunk, no terminating chunk
            client.read_chunk()
        client.close()

        # nodone and error_event end properly: the connection stays usable.
        client = RawClient(self.port)
        resp = client.request("POST", gemini_path("gemini-test?fault=nodone&tokens=3", True),
                              gemini_body())
        chunks = [json.loads(d) for d in resp.sse_data()]
        self.assertEqual(len(chunks), 3)
        self.assertFalse(any(c["candidates"][0].get("finishReason") for c in chunks))
        resp = client.request("POST", gemini_path("gemini-test?fault=error_event&tokens=3", True),
                              gemini_body())
        data = resp.sse_data()
        self.assertEqual(len(data), 2)
        self.assertEqual(json.loads(data[1])["error"]["status"], "INTERNAL")
        self.assertEqual(client.request("GET", "/healthz").status, 200)
        client.close()

    def test_instance_fault_fail_first_and_log(self):
        self.addCleanup(self.request, "DELETE", "/_fault")
        self.request("DELETE", "/_requests")
        self.request("PUT", "/_fault", {"status": 503, "retry_after": 4})
        resp = self.request("POST", gemini_path("gemini-x?nonsense=1", True), gemini_body())
        self.assertEqual(resp.status, 503)
        self.assertEqual(resp.json()["error"], {
            "code": 503, "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                         "retryDelay": "4s"}]})
        self.request("DELETE", "/_fault")
        model = "gemini-test?status=500&fail_first=1"
        self.assertEqual(self.request("POST", gemini_path(model), gemini_body()).status, 500)
        self.assertEqual(self.request("POST", gemini_path(model), gemini_body()).status, 200)
        log = self.request("GET", "/_requests").json()
        self.assertEqual(len(log), 3)
        self.assertEqual(log[-1]["path"], gemini_path(model))
        self.assertEqual(log[-1]["body"], gemini_body())


class GeminiKeyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm("--api_key", "AIza-test-123")

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def request(self, method, path, body=None, headers=None):
        client = RawClient(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()

    def test_gemini_api_key(self):
        resp = self.request("POST", gemini_path(), gemini_body(),
                            {"Authorization": "Bearer AIza-test-123"})
        self.assertEqual(resp.status, 403)
        self.assertEqual(resp.json()["error"]["status"], "PERMISSION_DENIED")
        for headers, path in (({"x-goog-api-key": "AIza-wrong"}, gemini_path()),
                              ({}, gemini_path() + "?key=AIza-wrong")):
            resp = self.request("POST", path, gemini_body(), headers)
            self.assertEqual(resp.status, 400)
            error = resp.json()["error"]
            self.assertEqual(error["status"], "INVALID_ARGUMENT")
            self.assertEqual(error["details"][0]["reason"], "API_KEY_INVALID")
            self.assertNotIn(b"AIza", resp.body)
        for headers, path in (({"X-Goog-Api-Key": "AIza-test-123"}, gemini_path()),
                              ({}, gemini_path() + "?key=AIza-test-123")):
            self.assertEqual(self.request("POST", path, gemini_body(), headers).status, 200)
        # The key of another mode does not count here.
        self.assertEqual(self.request("POST", "/v1/chat/completions", chat_body(),
                                      {"x-goog-api-key": "AIza-test-123"}).status, 401)


class AzureTest(unittest.TestCase):
    """Azure OpenAI mode: deployment paths with api-version, the api-key
    header, content filter annotations and errors."""

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_fakellm("--api_key", "azure-key")

    @classmethod
    def tearDownClass(cls):
        stop_fakellm(cls.proc)

    def post(self, path, body, key="azure-key"):
        client = RawClient(self.port)
        try:
            return client.request("POST", path, body, {"api-key": key})
        finally:
            client.close()

    def deployment_path(self, deployment):
        return ("/openai/deployments/%s/chat/completions?api-version=2024-10-21"
                % urllib.parse.quote(deployment, safe=""))

    def test_deployment_path_takes_the_model_from_the_url(self):
        resp = self.post(self.deployment_path("fake-model"), chat_body(model="ignored"))
        self.assertEqual(resp.status, 200, resp.body)
        body = resp.json()
        self.assertEqual(body["model"], "fake-model")
        self.assertEqual(body["choices"][0]["message"]["content"],
                         "Echo: hi there lorem ipsum dolor sit amet")
        self.assertIn("content_filter_results", body["choices"][0])
        self.assertEqual(body["prompt_filter_results"][0]["prompt_index"], 0)

    def test_v1_path_takes_the_model_from_the_body(self):
        resp = self.post("/openai/v1/chat/completions", chat_body())
        self.assertEqual(resp.status, 200, resp.body)

    def test_missing_api_version_and_wrong_key(self):
        resp = self.post("/openai/deployments/fake-model/chat/completions", chat_body())
        self.assertEqual(resp.status, 404)
        self.assertEqual(resp.json()["error"]["code"], "404")
        resp = self.post(self.deployment_path("fake-model"), chat_body(), key="wrong")
        self.assertEqual(resp.status, 401)
        self.assertNotIn("azure-key", resp.body.decode())

    def test_stream_starts_with_the_prompt_filter_chunk(self):
        resp = self.post(self.deployment_path("fake-model"), chat_body(stream=True))
        self.assertEqual(resp.status, 200, resp.body)
        chunks = [json.loads(d) for d in resp.sse_data() if d != "[DONE]"]
        self.assertEqual(chunks[0]["choices"], [])
        self.assertEqual(chunks[0]["id"], "")
        self.assertIn("prompt_filter_results", chunks[0])
        self.assertEqual(chunks[-1]["choices"][0]["finish_reason"], "stop")

    def test_content_filter_directives(self):
        resp = self.post(self.deployment_path("fake-model?content_filter=prompt"), chat_body())
        self.assertEqual(resp.status, 400)
        error = resp.json()["error"]
        self.assertEqual(error["code"], "content_filter")
        self.assertEqual(error["innererror"]["code"], "ResponsibleAIPolicyViolation")
        resp = self.post(self.deployment_path("fake-model?content_filter=completion"), chat_body())
        self.assertEqual(resp.status, 200, resp.body)
        choice = resp.json()["choices"][0]
        self.assertEqual(choice["finish_reason"], "content_filter")
        self.assertEqual(choice["message"]["content"], "Echo: hi there lorem ")  # cut as max_tokens cuts
        self.assertTrue(choice["content_filter_results"]["violence"]["filtered"])


class ShutdownTest(unittest.TestCase):

    def test_sigterm_and_sigint_exit_cleanly(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            proc, port = start_fakellm()
            client = RawClient(port)  # an open stream must not block shutdown
            client.send_request("POST", "/v1/chat/completions",
                                chat_body(model="fake-model?first_token_ms=60000", stream=True))
            client.read_head()
            proc.send_signal(signum)
            self.assertEqual(proc.wait(timeout=10), 0)
            self.assertEqual(proc.stdout.read(), "")  # exactly one line was printed
            proc.stdout.close()
            client.close()


if __name__ == "__main__":
    unittest.main()
