#!/usr/bin/env python3
"""Self-test for fakellm.py (standard library unittest only).

Starts fakellm as a subprocess on port 0 and checks each documented
behaviour over raw sockets / urllib.  Timing checks only use generous lower
bounds (or loose upper bounds), so the test stays deterministic on a loaded
machine.

    python3 tests/fakellm/fakellm_selftest.py [-v]
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
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
        self.assertEqual(set(before), {"active_connections", "open_streams", "requests",
                                       "closed_early", "last_disconnect_unix_ms"})
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
