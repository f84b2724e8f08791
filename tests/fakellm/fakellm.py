#!/usr/bin/env python3
"""fakellm: a fake OpenAI-compatible LLM upstream for tests, demos and benchmarks.

It answers `POST /v1/chat/completions` (JSON or SSE streaming) and the
Anthropic Messages API's `POST /v1/messages` with a deterministic reply, and
lets each request ask for faults and pacing through "directives" carried in
the model name, e.g.

    {"model": "fake-model?status=429&retry_after=2", "messages": [...]}

so a test of the gateway can make the upstream fail, stall, drop the
connection or stream slowly without any extra control channel.  Requests
with `tools`, `response_format`, or the reasoning=/refusal=/cached=
directives get tool calls, structured JSON, reasoning, refusals and usage
details in the shapes OpenAI (and DeepSeek, for reasoning) use; in Anthropic
mode the same simulated model answers with content blocks (thinking with
signatures, redacted thinking, tool_use) and Anthropic's event stream.
Retry tests can make only the first K requests of a model fail
(`fail_first=K`), and `PUT /_fault` makes the whole instance fail until
`DELETE /_fault`.  It also keeps a log of the chat and messages requests it
received (`GET /_requests`) and counters (`GET /_stats`), notably how many
responses were cut short because the client (the gateway) went away, which is
how tests check that the gateway aborts upstream transfers, and how many
requests and connections were open at once.

Python 3 standard library only; HTTP/1.1 is spoken by hand on top of
asyncio streams so that faults (malformed JSON, dropped connections, 1-byte
chunks, ...) can be produced exactly.  See README.md beside this file.

Usage:
    python3 fakellm.py --listen 127.0.0.1:0 [--pace_ms N] [--first_token_ms N]
                       [--tokens N] [--api_key KEY]
"""

import argparse
import asyncio
import collections
import dataclasses
import gzip
import http
import itertools
import json
import re
import signal
import sys
import time
import traceback
import urllib.parse
import zlib

MODEL_ID = "fake-model"
FILLER_WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
    "tempor incididunt ut labore et dolore magna aliqua"
).split()
# A token is a word plus the whitespace after it.  The second pattern is
# used for text= replies, which must survive the split byte for byte, so it
# also keeps leading whitespace (attached to the first token).
TOKEN_RE = re.compile(r"\S+\s*")
EXACT_TOKEN_RE = re.compile(r"\s*\S+\s*")
# Tool-call arguments and structured (JSON) output are streamed in pieces of
# this many characters; each piece counts as one completion token.
FRAGMENT_CHARS = 8
REFUSAL_TEXT = "I can't help with that."

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
MESSAGES_PATHS = ("/v1/messages", "/messages")   # Anthropic Messages API
MODELS_PATHS = ("/v1/models", "/models")

MAX_HEAD_BYTES = 64 * 1024          # request line + headers
MAX_BODY_BYTES = 32 * 1024 * 1024   # request body
MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # unread (pipelined) input per connection
MAX_RECORDED_REQUESTS = 1000
LISTEN_BACKLOG = 4096
READ_SIZE = 64 * 1024


# ---------------------------------------------------------------------------
# Configuration and shared state
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class Config:
    """Process-wide defaults from the command line."""
    pace_ms: int = 0
    first_token_ms: int = 0
    tokens: int = 8
    api_key: str = None


class State:
    """Everything shared between connections: config, request log, counters."""

    def __init__(self, config):
        self.config = config
        self.recorded = collections.deque(maxlen=MAX_RECORDED_REQUESTS)
        self.active_connections = 0
        self.peak_connections = 0
        self.open_streams = 0
        self.chat_requests = 0      # chat and messages requests
        self.in_flight = 0          # chat and messages requests being answered
        self.peak_in_flight = 0
        self.closed_early = 0
        self.last_disconnect_unix_ms = 0
        self.next_completion_id = itertools.count(1)
        self.connection_tasks = set()
        # fail_first=K: requests seen so far, per exact model string.
        self.fail_first_seen = collections.Counter()
        # PUT /_fault: {"status": N, "retry_after": S, "code": C} or
        # {"fault": "drop"}; None when the instance is healthy.
        self.instance_fault = None

    def note_closed_early(self):
        """A client went away before we finished sending a response."""
        self.closed_early += 1
        self.last_disconnect_unix_ms = int(time.time() * 1000)

    def connection_opened(self):
        self.active_connections += 1
        self.peak_connections = max(self.peak_connections, self.active_connections)

    def request_started(self):
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def reset_stats(self):
        """DELETE /_stats: counters restart; gauges (connections, streams,
        requests in flight) stay, and the peaks restart from them."""
        self.chat_requests = 0
        self.closed_early = 0
        self.last_disconnect_unix_ms = 0
        self.peak_in_flight = self.in_flight
        self.peak_connections = self.active_connections

    def stats(self):
        return {
            "active_connections": self.active_connections,
            "peak_connections": self.peak_connections,
            "open_streams": self.open_streams,
            "requests": self.chat_requests,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "closed_early": self.closed_early,
            "last_disconnect_unix_ms": self.last_disconnect_unix_ms,
        }


# ---------------------------------------------------------------------------
# Connection: buffered input with prompt peer-close detection
# ---------------------------------------------------------------------------

class PeerClosed(Exception):
    """The client went away while we were still responding."""


class Disconnected(Exception):
    """The client went away in the middle of sending a request."""


class BadRequest(Exception):
    """The request could not be parsed; answered with an error and a close."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class Connection:
    """One client connection.

    A background "pump" task reads everything the client sends into our own
    buffer.  We do this instead of reading the StreamReader on demand because
    we must notice that the client closed its end (EOF or reset) *while* we
    are busy sleeping between tokens of a stream: the pump resolves
    `peer_closed` the moment that happens, and every sleep and write races
    against it.  Any pipelined next request simply waits in the buffer.

    Consequence: a client that half-closes its sending side (shutdown(SHUT_WR))
    right after its request is treated as gone, like a real abort.
    """

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.eof = False
        self._data_arrived = asyncio.Event()
        self.peer_closed = asyncio.get_running_loop().create_future()
        self._pump_task = asyncio.ensure_future(self._pump())

    async def _pump(self):
        try:
            while True:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    break
                self.buf += data
                self._data_arrived.set()
                if len(self.buf) > MAX_BUFFERED_BYTES:
                    break  # a client flooding us: treat it as gone
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof = True
            self._data_arrived.set()
            if not self.peer_closed.done():
                self.peer_closed.set_result(None)

    # -- input ---------------------------------------------------------------

    async def _wait_for_more(self):
        """Wait until more input arrives; raise Disconnected at EOF."""
        if self.eof:
            raise Disconnected()
        self._data_arrived.clear()
        await self._data_arrived.wait()

    async def wait_for_request_start(self):
        """Wait for the first byte of a request; False on clean EOF."""
        while True:
            # RFC 9112 2.2: ignore empty lines before a request line.
            while self.buf[:2] == b"\r\n":
                del self.buf[:2]
            if self.buf:
                return True
            if self.eof:
                return False
            await self._wait_for_more()

    async def read_until(self, separator, limit):
        """Return the bytes before `separator` and consume both."""
        search_from = 0
        while True:
            index = self.buf.find(separator, search_from)
            if index >= 0:
                data = bytes(self.buf[:index])
                del self.buf[:index + len(separator)]
                return data
            if len(self.buf) > limit:
                raise BadRequest("request head or chunk line too long", 431)
            search_from = max(0, len(self.buf) - len(separator) + 1)
            await self._wait_for_more()

    async def read_exactly(self, count):
        while len(self.buf) < count:
            await self._wait_for_more()
        data = bytes(self.buf[:count])
        del self.buf[:count]
        return data

    # -- output --------------------------------------------------------------

    def is_gone(self):
        return self.peer_closed.done() or self.writer.is_closing()

    async def write(self, data):
        """Send bytes and wait until they are handed to the kernel's buffer
        (or at least below the write high-water mark)."""
        if self.is_gone():
            raise PeerClosed()
        self.writer.write(data)
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise PeerClosed() from exc

    async def sleep_ms(self, ms):
        """Sleep, but raise PeerClosed as soon as the client goes away."""
        if self.is_gone():
            raise PeerClosed()
        if ms > 0:
            await asyncio.wait((self.peer_closed,), timeout=ms / 1000)
            if self.is_gone():
                raise PeerClosed()

    def close(self):
        """Close our side; buffered output is still flushed first."""
        self._pump_task.cancel()
        self.writer.close()


# ---------------------------------------------------------------------------
# HTTP/1.1 request parsing and response writing
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class Request:
    method: str
    target: str
    path: str
    version: str
    headers: dict
    body: bytes
    keep_alive: bool


async def read_request(conn):
    """Read one request from the connection; None when the client is done."""
    if not await conn.wait_for_request_start():
        return None
    head = await conn.read_until(b"\r\n\r\n", MAX_HEAD_BYTES)
    lines = head.decode("utf-8", "replace").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest("malformed request line")
    method, target, version = parts
    headers = parse_headers(lines[1:])

    body = await read_body(conn, headers)
    connection_tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.1":
        keep_alive = "close" not in connection_tokens
    else:
        keep_alive = "keep-alive" in connection_tokens
    path = target.split("?", 1)[0]
    return Request(method, target, path, version, headers, body, keep_alive)


def parse_headers(lines):
    """Header lines to a dict keyed by lower-case name (repeats joined)."""
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest("malformed header line")
        name = name.lower()
        value = value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return headers


async def read_body(conn, headers):
    transfer_encoding = headers.get("transfer-encoding", "").strip().lower()
    if transfer_encoding:
        if transfer_encoding.split(",")[-1].strip() != "chunked":
            raise BadRequest("unsupported transfer-encoding", 501)
        await maybe_send_continue(conn, headers)
        return await read_chunked_body(conn)
    length_text = headers.get("content-length")
    if length_text is None:
        return b""
    if not length_text.isdigit():
        raise BadRequest("bad content-length")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise BadRequest("request body too large", 413)
    if length:
        await maybe_send_continue(conn, headers)
    return await conn.read_exactly(length)


async def maybe_send_continue(conn, headers):
    # curl sends "Expect: 100-continue" for larger bodies and would otherwise
    # wait a second before sending them.
    if headers.get("expect", "").lower() == "100-continue":
        await conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")


async def read_chunked_body(conn):
    body = bytearray()
    while True:
        size_line = await conn.read_until(b"\r\n", 4096)
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if size == 0:
            break
        if len(body) + size > MAX_BODY_BYTES:
            raise BadRequest("request body too large", 413)
        body += await conn.read_exactly(size)
        if await conn.read_exactly(2) != b"\r\n":
            raise BadRequest("chunk not followed by CRLF")
    while await conn.read_until(b"\r\n", MAX_HEAD_BYTES):
        pass  # trailer fields: ignored
    return bytes(body)


def response_head(status, headers, keep_alive):
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Status %d" % status
    lines = ["HTTP/1.1 %d %s" % (status, reason), "Server: fakellm"]
    lines += ["%s: %s" % (name, value) for name, value in headers]
    lines.append("Connection: " + ("keep-alive" if keep_alive else "close"))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def to_json(obj):
    # ensure_ascii=False: multi-byte UTF-8 goes on the wire as is, like
    # OpenAI does, so chunk=1 really splits characters across HTTP chunks.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


async def send_body(conn, req, status, body, content_type, extra_headers=()):
    """Send a complete response with Content-Length; returns keep-alive."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    headers += list(extra_headers)
    await conn.write(response_head(status, headers, req.keep_alive) + body)
    return req.keep_alive


async def send_json(conn, req, status, obj, extra_headers=()):
    return await send_body(conn, req, status, to_json(obj), "application/json", extra_headers)


def error_body(message, error_type, code):
    return {"error": {"message": message, "type": error_type, "code": code}}


async def send_error(conn, req, status, message, error_type="invalid_request_error",
                     code=None, extra_headers=()):
    return await send_json(conn, req, status, error_body(message, error_type, code), extra_headers)


# ---------------------------------------------------------------------------
# Directives: faults and pacing requested through the model name
# ---------------------------------------------------------------------------

FAULTS = ("malformed", "drop", "nodone", "error_event", "gzip")
OPENAI_ONLY_FAULTS = ("gzip",)
CONTENT_FILTERS = ("prompt", "completion")
INT_DIRECTIVES = {  # name: (smallest, largest)
    "status": (200, 599),
    "delay_ms": (0, 3_600_000),
    "first_token_ms": (0, 3_600_000),
    "pace_ms": (0, 3_600_000),
    "pause_after_first_ms": (0, 3_600_000),
    "tokens": (0, 1_000_000),
    "chunk": (1, 1 << 20),
    "parallel": (1, 128),
    "reasoning": (0, 1_000_000),
    "cached": (0, 1_000_000_000),
    "cache_write": (0, 1_000_000_000),
    "fail_first": (0, 1_000_000_000),
}
FLAG_DIRECTIVES = ("crlf", "comments", "refusal", "redacted", "leak_key")
TEXT_DIRECTIVES = ("code", "retry_after", "text", "tool")
REASONING_FIELDS = ("reasoning_content", "reasoning")


@dataclasses.dataclass
class Directives:
    status: int = 200
    code: str = None
    retry_after: str = None
    fault: str = None
    delay_ms: int = 0
    first_token_ms: int = 0
    pace_ms: int = 0
    pause_after_first_ms: int = 0
    tokens: int = 8
    chunk: int = 0           # 0: one HTTP chunk per SSE event
    crlf: bool = False
    comments: bool = False
    text: str = None
    tool: str = None         # name of the tool to call (unless tool_choice names one)
    parallel: int = 1        # number of tool calls
    reasoning: int = None    # reasoning tokens; None: no reasoning, no usage details
    reasoning_field: str = "reasoning_content"
    refusal: bool = False
    cached: int = None       # usage.prompt_tokens_details.cached_tokens
                             # (Anthropic: usage.cache_read_input_tokens)
    cache_write: int = None  # Anthropic: usage.cache_creation_input_tokens
    redacted: bool = False   # Anthropic: a redacted_thinking block
    fail_first: int = None   # only the first K requests with this model fail
    content_filter: str = None  # "prompt": Azure's 400; "completion": cut, finish content_filter
    leak_key: bool = False   # a hostile upstream: its errors (HTTP and mid-stream) quote the
                             # key it was sent, in the message and the code
    sent_key: str = ""       # (leak_key) what the Authorization header carried


def parse_directives(query, config, mode="openai"):
    """Parse 'status=429&retry_after=2'; ValueError on anything unknown,
    so that a typo in a test fails loudly instead of being ignored."""
    directives = Directives(first_token_ms=config.first_token_ms,
                            pace_ms=config.pace_ms, tokens=config.tokens)
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name in INT_DIRECTIVES:
            low, high = INT_DIRECTIVES[name]
            if not value.isdigit() or not low <= int(value) <= high:
                raise ValueError("fakellm directive %s must be an integer in [%d, %d]"
                                 % (name, low, high))
            setattr(directives, name, int(value))
        elif name in FLAG_DIRECTIVES:
            setattr(directives, name, value.lower() in ("1", "true", "yes", "on"))
        elif name == "fault":
            if value not in FAULTS:
                raise ValueError("unknown fakellm fault %r (known: %s)" % (value, ", ".join(FAULTS)))
            if value in OPENAI_ONLY_FAULTS and mode != "openai":
                raise ValueError("fakellm fault %s exists in OpenAI mode only" % value)
            directives.fault = value
        elif name == "content_filter":
            if value not in CONTENT_FILTERS:
                raise ValueError("fakellm directive content_filter must be one of: %s"
                                 % ", ".join(CONTENT_FILTERS))
            directives.content_filter = value
        elif name == "reasoning_field":
            if value not in REASONING_FIELDS:
                raise ValueError("fakellm directive reasoning_field must be one of: %s"
                                 % ", ".join(REASONING_FIELDS))
            directives.reasoning_field = value
        elif name in TEXT_DIRECTIVES:
            if name != "text" and ("\r" in value or "\n" in value):
                raise ValueError("fakellm directive %s must not contain line breaks" % name)
            if name == "tool" and not value:
                raise ValueError("fakellm directive tool must name a tool")
            setattr(directives, name, value)
        else:
            raise ValueError("unknown fakellm directive %r" % name)
    return directives


def apply_fail_first(state, model, directives):
    """fail_first=K: the first K requests carrying exactly this model string
    (directives included) fail as their directives say; later ones are
    answered as if status, fault and retry_after were absent."""
    if directives.fail_first is None:
        return
    seen = state.fail_first_seen[model]
    state.fail_first_seen[model] = seen + 1
    if seen >= directives.fail_first:
        directives.status = 200
        directives.fault = None
        directives.retry_after = None


# What status=N answers with: (error type, error code, message).
ERROR_KINDS = {
    400: ("invalid_request_error", None, "Invalid request (simulated by fakellm)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("permission_denied", "permission_denied",
          "You are not allowed to sample from this model (simulated by fakellm)."),
    404: ("invalid_request_error", "model_not_found",
          "The model `{model}` does not exist or you do not have access to it."),
    408: ("timeout", "timeout", "Request timed out (simulated by fakellm)."),
    413: ("invalid_request_error", "request_too_large", "Request too large (simulated by fakellm)."),
    422: ("invalid_request_error", None, "Unprocessable request (simulated by fakellm)."),
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for {model} (simulated by fakellm). Please try again later."),
    500: ("server_error", None,
          "The server had an error while processing your request (simulated by fakellm)."),
    502: ("server_error", "bad_gateway", "Bad gateway (simulated by fakellm)."),
    503: ("server_error", "overloaded",
          "The engine is currently overloaded, please try again later (simulated by fakellm)."),
    504: ("server_error", "timeout", "Gateway timeout (simulated by fakellm)."),
}


def simulated_error(status, model, code_override):
    if status in ERROR_KINDS:
        error_type, code, message = ERROR_KINDS[status]
    elif status >= 500:
        error_type, code, message = "server_error", None, "Server error (simulated by fakellm)."
    else:
        error_type, code, message = ("invalid_request_error", None,
                                     "Request failed with status %d (simulated by fakellm)." % status)
    if code_override is not None:
        code = code_override
    return error_body(message.format(model=model), error_type, code)


# ---------------------------------------------------------------------------
# The simulated model
# ---------------------------------------------------------------------------

def content_text(content):
    """Text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content
                 if isinstance(part, dict) and part.get("type") == "text"]
        return " ".join(text for text in texts if isinstance(text, str))
    return ""


def last_user_text(messages):
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def count_prompt_tokens(messages):
    return sum(len(content_text(m.get("content")).split())
               for m in messages if isinstance(m, dict))


def padded_tokens(text, wanted):
    """`text` split into tokens, then filler words, exactly `wanted` of them
    (a longer text is cut); the trailing whitespace of the last is dropped."""
    tokens = TOKEN_RE.findall(text)[:wanted]
    filler = itertools.cycle(FILLER_WORDS)
    while len(tokens) < wanted:
        if tokens and not tokens[-1][-1].isspace():
            tokens[-1] += " "
        tokens.append(next(filler) + " ")
    if tokens:
        tokens[-1] = tokens[-1].rstrip()
    return tokens


def exact_tokens(text):
    """`text` split into tokens that concatenate back to it byte for byte."""
    return EXACT_TOKEN_RE.findall(text) or ([text] if text else [])


def reply_tokens(directives, messages):
    """The plain reply as a list of tokens (their concatenation is the reply).

    text= mode: the given text, unpadded and untruncated (apart from max_tokens).
    After a tool result (last message has role "tool"): "Tool result: <its
    content>", likewise unpadded.
    Echo mode: "Echo: <last user text>" split into tokens, then filler words,
    exactly `tokens` of them; the reply's trailing whitespace is dropped.
    """
    if directives.text is not None:
        return exact_tokens(directives.text)
    last = last_message(messages)
    if last.get("role") == "tool":
        return exact_tokens("Tool result: " + content_text(last.get("content")))
    return padded_tokens("Echo: " + last_user_text(messages), directives.tokens)


def reasoning_tokens(directives, messages):
    """reasoning=N: "Thinking about: <last user text>" plus filler, N tokens."""
    if not directives.reasoning:
        return []
    return padded_tokens("Thinking about: " + last_user_text(messages), directives.reasoning)


def fragments(text, size=FRAGMENT_CHARS):
    """Tool-call arguments and structured output stream in fixed-size pieces."""
    return [text[start:start + size] for start in range(0, len(text), size)]


def compact_json(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def last_message(messages):
    last = messages[-1] if messages else None
    return last if isinstance(last, dict) else {}


def tool_to_call(body, directives, messages):
    """The name of the tool the model calls, or None to answer normally.

    A call needs a non-empty `tools` array, a `tool_choice` other than "none"
    and a last message from the user.  The name comes from a tool_choice of
    {"type":"function","function":{"name":X}}, else from tool=NAME, else from
    the first tool with a function name."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    choice = body.get("tool_choice")
    if choice == "none" or last_message(messages).get("role") != "user":
        return None
    if isinstance(choice, dict) and choice.get("type") == "function":
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str) and name:
            return name
    if directives.tool is not None:
        return directives.tool
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str) and name:
            return name
    return None


# Sample values for json_schema properties, by their "type".
SCHEMA_SAMPLES = {"integer": lambda text: 42, "number": lambda text: 4.5,
                  "boolean": lambda text: True, "array": lambda text: [],
                  "object": lambda text: {}, "string": lambda text: text}


def structured_reply(body, text):
    """The JSON text asked for by response_format, or None for free text."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_object":
        return compact_json({"echo": text})
    if response_format.get("type") != "json_schema":
        return None
    json_schema = response_format.get("json_schema")
    schema = json_schema.get("schema") if isinstance(json_schema, dict) else None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    reply = {}
    for key, prop in (properties.items() if isinstance(properties, dict) else ()):
        kind = prop.get("type") if isinstance(prop, dict) else None
        sample = SCHEMA_SAMPLES.get(kind) if isinstance(kind, str) else None
        reply[key] = sample(text) if sample else None
    return compact_json(reply)


def token_limit(body):
    """max_completion_tokens (newer name) or max_tokens, if a valid int."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


@dataclasses.dataclass
class ToolCall:
    id: str
    name: str
    arguments: str   # the complete arguments JSON text


@dataclasses.dataclass
class Completion:
    """One planned answer: what to say and how.

    The answer is a list of tokens, each streamed as one step: first the
    reasoning tokens, then the output pieces.  What an output piece is
    depends on `kind`:
      "content"    a token of the reply text (or an 8-character fragment
                   of structured JSON output);
      "refusal"    a token of the refusal text;
      "tool_calls" (call index, 8-character fragment of its arguments).
    max_tokens has already cut both lists."""
    id: str
    created: int
    model: str
    reasoning: list
    kind: str
    pieces: list
    calls: list      # ToolCall, for kind "tool_calls"
    finish_reason: str
    usage: dict
    include_usage: bool
    directives: Directives
    azure: bool = False  # Azure OpenAI's content filter annotations

    @property
    def token_count(self):
        return len(self.reasoning) + len(self.pieces)

    def sent_calls(self):
        """The tool calls as far as their arguments were produced."""
        arguments = {}
        for call_index, fragment in self.pieces:
            arguments[call_index] = arguments.get(call_index, "") + fragment
        return [{"id": self.calls[i].id, "type": "function",
                 "function": {"name": self.calls[i].name, "arguments": arguments[i]}}
                for i in sorted(arguments)]

    def message(self):
        message = {"role": "assistant"}
        if self.kind == "content":
            message["content"] = "".join(self.pieces)
        elif self.kind == "refusal":
            message["content"] = None
            message["refusal"] = "".join(self.pieces)
        else:
            message["content"] = None
        if self.reasoning:
            message[self.directives.reasoning_field] = "".join(self.reasoning)
        if self.kind == "tool_calls" and self.pieces:
            message["tool_calls"] = self.sent_calls()
        return message

    def message_body(self):
        body = {
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": self.message(),
                "logprobs": None,
                "finish_reason": self.finish_reason,
            }],
            "usage": self.usage,
        }
        if self.azure:
            body["prompt_filter_results"] = AZURE_PROMPT_FILTER_RESULTS
            body["choices"][0]["content_filter_results"] = azure_filter_results(
                self.finish_reason == "content_filter")
        return body

    def stream_steps(self):
        """(role delta or None, steps): each step is the list of deltas sent
        for one token.  With reasoning, the role rides on the first
        reasoning delta (DeepSeek's shape) instead of a chunk of its own."""
        if self.kind == "content":
            role = {"role": "assistant", "content": ""}
        elif self.kind == "refusal":
            role = {"role": "assistant", "content": None, "refusal": ""}
        else:
            role = {"role": "assistant", "content": None}
        field = self.directives.reasoning_field
        steps = [[{field: token}] for token in self.reasoning]
        if self.kind == "tool_calls":
            started = set()
            for call_index, fragment in self.pieces:
                step = []
                if call_index not in started:
                    started.add(call_index)
                    call = self.calls[call_index]
                    step.append({"tool_calls": [{
                        "index": call_index, "id": call.id, "type": "function",
                        "function": {"name": call.name, "arguments": ""}}]})
                step.append({"tool_calls": [{"index": call_index,
                                             "function": {"arguments": fragment}}]})
                steps.append(step)
        else:
            steps += [[{self.kind: piece}] for piece in self.pieces]
        if self.reasoning:
            steps[0][0] = {"role": "assistant", "content": None, **steps[0][0]}
            role = None
        return role, steps

    def chunk(self, delta, finish_reason=None):
        chunk = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None,
                         "finish_reason": finish_reason}],
        }
        if self.include_usage:
            chunk["usage"] = None  # OpenAI sends usage: null on every other chunk
        return to_json(chunk)

    def usage_chunk(self):
        return to_json({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": [], "usage": self.usage,
        })


def plan_completion(state, body, model, directives):
    """Decide the answer.  Precedence: a tool call (tools given, last message
    from the user) > refusal=1 > response_format > the plain reply; reasoning
    (reasoning=N) comes before any of them."""
    messages = body["messages"]
    number = next(state.next_completion_id)
    user_text = last_user_text(messages)
    reasoning = reasoning_tokens(directives, messages)
    calls = []
    tool_name = tool_to_call(body, directives, messages)
    if tool_name is not None:
        kind, finish_reason = "tool_calls", "tool_calls"
        for index in range(directives.parallel):
            call_id = "call_fake_%d" % number
            query = user_text
            if directives.parallel > 1:
                call_id += "_%d" % index
                if index:
                    query += " (%d)" % (index + 1)
            calls.append(ToolCall(call_id, tool_name, compact_json({"query": query})))
        pieces = [(index, fragment) for index, call in enumerate(calls)
                  for fragment in fragments(call.arguments)]
    else:
        finish_reason = "stop"
        structured = None if directives.refusal else structured_reply(body, user_text)
        if directives.refusal:
            kind, pieces = "refusal", TOKEN_RE.findall(REFUSAL_TEXT)
        elif structured is not None:
            kind, pieces = "content", fragments(structured)
        else:
            kind, pieces = "content", reply_tokens(directives, messages)

    if directives.content_filter == "completion":
        # The filter stops the answer part-way, as Azure's does.
        pieces = pieces[:len(pieces) // 2]
        finish_reason = "content_filter"
    limit = token_limit(body)
    if limit is not None and limit < len(reasoning) + len(pieces):
        reasoning = reasoning[:limit]
        pieces = pieces[:limit - len(reasoning)]
        finish_reason = "length"

    prompt_tokens = count_prompt_tokens(messages)
    completion_tokens = len(reasoning) + len(pieces)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    if directives.cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": directives.cached}
    if directives.reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": len(reasoning)}
    stream_options = body.get("stream_options")
    include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
    return Completion(
        id="chatcmpl-fake-%d" % number,
        created=int(time.time()),
        model=model,
        reasoning=reasoning,
        kind=kind,
        pieces=pieces,
        calls=calls,
        finish_reason=finish_reason,
        usage=usage,
        include_usage=include_usage,
        directives=directives,
    )


# ---------------------------------------------------------------------------
# Chat completions
# ---------------------------------------------------------------------------

def record_request(state, req):
    try:
        body = json.loads(req.body)
    except ValueError:
        body = req.body.decode("utf-8", "replace")
    state.recorded.append({"method": req.method, "path": req.target,
                           "headers": dict(req.headers), "body": body})


def is_authorized(req, config):
    if config.api_key is None:
        return True
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token.strip() == config.api_key


async def reject_unauthorized(conn, req):
    # Never echo the key (or what was sent) back.
    return await send_error(conn, req, 401, "Incorrect API key provided",
                            code="invalid_api_key")


async def handle_model_request(conn, req, state, anthropic, azure=None):
    """A chat (OpenAI, or Azure when `azure` is its azure_route) or messages
    (Anthropic) request: counted, recorded and tracked as in flight whatever
    becomes of it."""
    state.chat_requests += 1
    record_request(state, req)
    state.request_started()
    try:
        if state.instance_fault is not None:
            return await answer_instance_fault(conn, req, state.instance_fault, anthropic)
        if anthropic:
            return await handle_messages(conn, req, state)
        if azure is not None:
            return await handle_azure_chat(conn, req, state, azure)
        return await handle_chat(conn, req, state)
    finally:
        state.in_flight -= 1


def requested_model_name(req):
    """The model name (before any '?') of a request body, if it has one."""
    try:
        model = json.loads(req.body).get("model")
    except (ValueError, AttributeError):
        return ""
    return model.partition("?")[0] if isinstance(model, str) else ""


async def answer_instance_fault(conn, req, fault, anthropic):
    """PUT /_fault is in force: fail without looking at the request."""
    if fault.get("fault") == "drop":
        conn.close()
        return False
    status = fault["status"]
    headers = []
    if fault.get("retry_after") is not None:
        headers.append(("retry-after" if anthropic else "Retry-After", fault["retry_after"]))
    model = requested_model_name(req)
    if anthropic:
        body = anthropic_simulated_error(status, model, fault.get("code"))
    else:
        body = simulated_error(status, model, fault.get("code"))
    return await send_json(conn, req, status, body, headers)


async def handle_chat(conn, req, state):
    if not is_authorized(req, state.config):
        return await reject_unauthorized(conn, req)
    return await answer_chat(conn, req, state)


async def answer_chat(conn, req, state, deployment=None, azure=False):
    """An authorized chat request. `deployment`: Azure's model, from the
    URL path (the body's model is ignored, as Azure does)."""
    try:
        body = json.loads(req.body)
    except ValueError:
        return await send_error(conn, req, 400,
                                "We could not parse the JSON body of your request. "
                                "(HINT: This likely means you aren't using your HTTP "
                                "library correctly.)")
    if not isinstance(body, dict):
        return await send_error(conn, req, 400, "The request body must be a JSON object.")
    if deployment is not None:
        body["model"] = deployment
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return await send_error(conn, req, 400, "You must provide a model parameter.")
    if not isinstance(body.get("messages"), list):
        return await send_error(conn, req, 400, "Missing required parameter: 'messages'.",
                                code="missing_required_parameter")
    model_name, _, query = model.partition("?")
    try:
        directives = parse_directives(query, state.config)
    except ValueError as exc:
        return await send_error(conn, req, 400, str(exc), code="invalid_fakellm_directive")
    apply_fail_first(state, model, directives)

    # delay_ms: nothing at all is sent until it has passed.
    await conn.sleep_ms(directives.delay_ms)
    extra_headers = []
    if directives.retry_after is not None:
        extra_headers.append(("Retry-After", directives.retry_after))

    if directives.leak_key:
        directives.sent_key = req.headers.get("authorization", "").partition(" ")[2]
    if directives.status >= 300:
        error = simulated_error(directives.status, model_name, directives.code)
        if directives.leak_key:
            error["error"]["message"] += " (you sent " + directives.sent_key + ")"
            error["error"]["code"] = directives.sent_key
        return await send_json(conn, req, directives.status, error, extra_headers)
    if directives.content_filter == "prompt":
        return await send_json(conn, req, 400, AZURE_PROMPT_FILTERED, extra_headers)

    completion = plan_completion(state, body, model_name, directives)
    completion.azure = azure
    if body.get("stream"):
        return await stream_completion(conn, req, state, completion, extra_headers)
    return await send_completion(conn, req, completion, extra_headers)


async def send_completion(conn, req, completion, extra_headers):
    """Non-streaming answer; takes first_token_ms + pace_ms * tokens."""
    directives = completion.directives
    if directives.fault == "drop":
        conn.close()
        return False
    if directives.fault == "malformed":
        return await send_body(conn, req, directives.status, '{"id": "x", "choices": [',
                               "application/json", extra_headers)
    await conn.sleep_ms(directives.first_token_ms
                        + directives.pace_ms * completion.token_count)
    if directives.fault == "gzip":  # compressed, though no Accept-Encoding asked for it
        return await send_body(conn, req, directives.status,
                               gzip.compress(to_json(completion.message_body()).encode("utf-8")),
                               "application/json",
                               list(extra_headers) + [("Content-Encoding", "gzip")])
    return await send_json(conn, req, directives.status, completion.message_body(),
                           extra_headers)


class SseWriter:
    """Writes SSE events as HTTP chunks (or raw, for HTTP/1.0 clients),
    honouring the crlf, comments and chunk directives."""

    def __init__(self, conn, directives, chunked):
        self.conn = conn
        self.newline = "\r\n" if directives.crlf else "\n"
        self.comments = directives.comments
        self.piece_size = directives.chunk
        self.chunked = chunked
        # fault=gzip: the stream gzip-compressed, each event flushed.
        self.compressor = zlib.compressobj(wbits=31) if directives.fault == "gzip" else None

    async def event(self, data):
        text = ""
        if self.comments:
            text += ": keep-alive" + self.newline * 2
        text += "data: " + data + self.newline * 2
        raw = text.encode("utf-8")
        if self.compressor is not None:
            raw = self.compressor.compress(raw) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        await self._write(raw)

    async def _write(self, data):
        size = self.piece_size or len(data)
        for start in range(0, len(data), size):
            piece = data[start:start + size]
            if self.chunked:
                piece = b"%x\r\n%s\r\n" % (len(piece), piece)
            await self.conn.write(piece)

    async def end(self):
        if self.compressor is not None:
            await self._write(self.compressor.flush())
        if self.chunked:
            await self.conn.write(b"0\r\n\r\n")


async def stream_completion(conn, req, state, completion, extra_headers):
    """Streaming answer.

    Timeline: headers at once; first_token_ms; role chunk + first token
    (with reasoning, the role rides on the first reasoning delta);
    pause_after_first_ms; then each further token and finally the finish
    chunk each after pace_ms (so the total matches the non-streaming delay);
    usage chunk if asked; [DONE]; end of the chunked body.  A "token" is one
    step of Completion.stream_steps(): usually one delta, but the first
    fragment of a tool call comes right after the delta that opens the call.
    """
    directives = completion.directives
    chunked = req.version == "HTTP/1.1"  # HTTP/1.0 has no chunked encoding
    keep_alive = req.keep_alive and chunked
    headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    if directives.fault == "gzip":
        headers.append(("Content-Encoding", "gzip"))
    await conn.write(response_head(directives.status, headers + extra_headers, keep_alive))

    state.open_streams += 1
    try:
        sse = SseWriter(conn, directives, chunked)
        if completion.azure:
            await sse.event(AZURE_PROMPT_FILTER_CHUNK)
        await conn.sleep_ms(directives.first_token_ms)
        role, steps = completion.stream_steps()
        if role is not None:
            await sse.event(completion.chunk(role))
        for index, step in enumerate(steps):
            if index > 0:
                await conn.sleep_ms(directives.pace_ms)
            for delta in step:
                await sse.event(completion.chunk(delta))
            if index == 0:
                ended = await after_first_token(conn, sse, directives)
                if ended is not None:
                    return ended and keep_alive
        if not steps:  # faults then strike after the role chunk
            ended = await after_first_token(conn, sse, directives)
            if ended is not None:
                return ended and keep_alive

        await conn.sleep_ms(directives.pace_ms)
        await sse.event(completion.chunk({}, completion.finish_reason))
        if completion.include_usage:
            await sse.event(completion.usage_chunk())
        if directives.fault != "nodone":
            await sse.event("[DONE]")
        await sse.end()
        return keep_alive
    finally:
        state.open_streams -= 1


async def after_first_token(conn, sse, directives):
    """Stream faults that strike after the first token.

    Returns None to carry on with the stream, or, when the fault ended it,
    whether the connection can still be reused (True: the response was ended
    properly; False: the connection was dropped)."""
    fault = directives.fault
    if fault == "drop":
        conn.close()  # no terminating chunk, no [DONE]
        return False
    if fault == "error_event":
        error = {"message": "upstream exploded", "type": "server_error"}
        if directives.leak_key:
            error["message"] += " with key " + directives.sent_key
            error["code"] = directives.sent_key
        await sse.event(to_json({"error": error}))
        await sse.end()
        return True
    if fault == "malformed":
        await sse.event('{"id": "x", "choices": [')  # then carry on normally
    await conn.sleep_ms(directives.pause_after_first_ms)
    return None


# ---------------------------------------------------------------------------
# Anthropic Messages API (POST /v1/messages)
# ---------------------------------------------------------------------------

# What status=N answers with in Anthropic mode: (error type, message).
ANTHROPIC_ERROR_KINDS = {
    400: ("invalid_request_error", "Invalid request (simulated by fakellm)."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low (simulated by fakellm)."),
    403: ("permission_error",
          "Your API key does not have permission to use the specified resource "
          "(simulated by fakellm)."),
    404: ("not_found_error", "model: {model}"),
    413: ("request_too_large",
          "Request exceeds the maximum allowed number of bytes (simulated by fakellm)."),
    429: ("rate_limit_error",
          "Number of requests has exceeded your rate limit (simulated by fakellm)."),
    500: ("api_error", "Internal server error (simulated by fakellm)."),
    504: ("timeout_error", "Request timed out (simulated by fakellm)."),
    529: ("overloaded_error", "Overloaded"),
}

ANTHROPIC_BLOCK_TYPES = ("text", "image", "document", "tool_use", "tool_result",
                         "thinking", "redacted_thinking")
# Required fields of each content block type, and their JSON types.
ANTHROPIC_BLOCK_FIELDS = {
    "text": (("text", str),),
    "image": (("source", dict),),
    "document": (("source", dict),),
    "tool_use": (("id", str), ("name", str), ("input", dict)),
    "tool_result": (("tool_use_id", str),),
    "thinking": (("thinking", str), ("signature", str)),
    "redacted_thinking": (("data", str),),
}
ANTHROPIC_REQUEST_FIELDS = ("model", "messages", "max_tokens", "system", "tools",
                            "tool_choice", "thinking", "stream", "stop_sequences",
                            "temperature", "top_p", "top_k", "metadata", "service_tier")
ANTHROPIC_TOOL_CHOICES = ("auto", "any", "tool", "none")
MIN_THINKING_BUDGET = 1024


def anthropic_error_body(error_type, message):
    return {"type": "error", "error": {"type": error_type, "message": message}}


def anthropic_simulated_error(status, model, type_override):
    if status in ANTHROPIC_ERROR_KINDS:
        error_type, message = ANTHROPIC_ERROR_KINDS[status]
    elif status >= 500:
        error_type, message = "api_error", "Server error (simulated by fakellm)."
    else:
        error_type, message = ("invalid_request_error",
                               "Request failed with status %d (simulated by fakellm)." % status)
    if type_override is not None:
        error_type = type_override
    return anthropic_error_body(error_type, message.format(model=model))


async def send_anthropic_error(conn, req, status, error_type, message, extra_headers=()):
    return await send_json(conn, req, status, anthropic_error_body(error_type, message),
                           extra_headers)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_anthropic_request(body):
    """The request problems the real API rejects with a 400, as far as
    fakellm checks them: returns an error message, or None when fine."""
    if not isinstance(body, dict):
        return "Input should be a valid dictionary"
    for key in body:
        if key not in ANTHROPIC_REQUEST_FIELDS:
            return "%s: Extra inputs are not permitted" % key
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return "model: Field required"
    if "max_tokens" not in body:
        return "max_tokens: Field required"
    max_tokens = body["max_tokens"]
    if not is_int(max_tokens):
        return "max_tokens: Input should be a valid integer"
    if max_tokens < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    if "messages" not in body:
        return "messages: Field required"
    messages = body["messages"]
    if not isinstance(messages, list):
        return "messages: Input should be a valid list"
    if not messages:
        return "messages: at least one message is required"
    for i, message in enumerate(messages):
        problem = check_anthropic_message(message, "messages.%d" % i)
        if problem:
            return problem
    if "system" in body:
        system = body["system"]
        if isinstance(system, list):
            for i, block in enumerate(system):
                if not isinstance(block, dict) or block.get("type") != "text" \
                        or not isinstance(block.get("text"), str):
                    return "system.%d: Input should be a text block" % i
        elif not isinstance(system, str):
            return "system: Input should be a valid string or a list of text blocks"
    if "tools" in body:
        tools = body["tools"]
        if not isinstance(tools, list):
            return "tools: Input should be a valid list"
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                return "tools.%d: Input should be a valid dictionary" % i
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                return "tools.%d.name: Field required" % i
            if tool.get("type", "custom") == "custom" and not isinstance(
                    tool.get("input_schema"), dict):
                return "tools.%d.custom.input_schema: Field required" % i
    if "tool_choice" in body:
        choice = body["tool_choice"]
        if not isinstance(choice, dict) or choice.get("type") not in ANTHROPIC_TOOL_CHOICES:
            return "tool_choice: Input should be an object with type %s" % " or ".join(
                "'%s'" % t for t in ANTHROPIC_TOOL_CHOICES)
        if choice["type"] == "tool" and (not isinstance(choice.get("name"), str)
                                         or not choice["name"]):
            return "tool_choice.tool.name: Field required"
    if "thinking" in body:
        thinking = body["thinking"]
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        if kind not in ("enabled", "disabled"):
            return "thinking: Input should be an object with type 'enabled' or 'disabled'"
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if not is_int(budget):
                return "thinking.enabled.budget_tokens: Field required"
            if budget < MIN_THINKING_BUDGET:
                return ("thinking.enabled.budget_tokens: Input should be greater than or "
                        "equal to %d" % MIN_THINKING_BUDGET)
            if max_tokens <= budget:
                return "`max_tokens` must be greater than `thinking.budget_tokens`."
    if "stop_sequences" in body:
        stops = body["stop_sequences"]
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            return "stop_sequences: Input should be a valid list of strings"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream: Input should be a valid boolean"
    return None


def check_anthropic_message(message, where):
    if not isinstance(message, dict):
        return "%s: Input should be a valid dictionary" % where
    if message.get("role") not in ("user", "assistant"):
        return ("%s.role: Input should be 'user' or 'assistant' (the system prompt goes "
                "in the top-level `system` parameter)" % where)
    if "content" not in message:
        return "%s.content: Field required" % where
    content = message["content"]
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return "%s.content: Input should be a valid string or list" % where
    for i, block in enumerate(content):
        block_where = "%s.content.%d" % (where, i)
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in ANTHROPIC_BLOCK_TYPES:
            return ("%s: Input tag %r found using 'type' does not match any of the expected "
                    "tags: %s" % (block_where, kind,
                                  ", ".join("'%s'" % t for t in ANTHROPIC_BLOCK_TYPES)))
        for field, field_type in ANTHROPIC_BLOCK_FIELDS[kind]:
            if not isinstance(block.get(field), field_type):
                return "%s.%s.%s: Field required" % (block_where, kind, field)
    return None


def blocks_of(message, kind):
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind]


def is_tool_result_turn(message):
    """A user message holding tool_result blocks."""
    return message.get("role") == "user" and bool(blocks_of(message, "tool_result"))


def tool_results_text(message):
    """The text of all tool_result blocks of a message, joined with a space."""
    return " ".join(content_text(b.get("content")) for b in blocks_of(message, "tool_result"))


def anthropic_last_user_text(messages):
    """The text blocks of the last user turn that holds no tool results."""
    for message in reversed(messages):
        if message.get("role") == "user" and not is_tool_result_turn(message):
            return content_text(message.get("content"))
    return ""


def anthropic_prompt_tokens(body):
    """Words over the system prompt, text blocks and tool results."""
    texts = [content_text(body.get("system"))]
    for message in body["messages"]:
        texts.append(content_text(message.get("content")))
        texts.append(tool_results_text(message))
    return sum(len(text.split()) for text in texts)


def anthropic_tool_to_call(body, directives, messages):
    """The tool the model calls, or None to answer with text.  A call needs a
    non-empty `tools` array, a tool_choice other than none and a last
    message that is a user text turn (not a tool result)."""
    tools = body.get("tools")
    if not tools:
        return None
    choice = body.get("tool_choice") or {}
    last = messages[-1]
    if choice.get("type") == "none" or last.get("role") != "user" or is_tool_result_turn(last):
        return None
    if choice.get("type") == "tool":
        return choice["name"]
    if directives.tool is not None:
        return directives.tool
    return tools[0]["name"]


def apply_stop_sequences(tokens, stop_sequences):
    """Cut the reply before the earliest stop sequence (among equally early
    ones, the first listed); returns (tokens, the stop sequence or None)."""
    text = "".join(tokens)
    best = None
    for stop in stop_sequences:
        position = text.find(stop) if stop else -1
        if position >= 0 and (best is None or position < best[0]):
            best = (position, stop)
    if best is None:
        return tokens, None
    kept, length = [], 0
    for token in tokens:
        if length + len(token) > best[0]:
            token = token[:best[0] - length]
            if token:
                kept.append(token)
            break
        kept.append(token)
        length += len(token)
    return kept, best[1]


@dataclasses.dataclass
class ContentBlock:
    """One block of an Anthropic answer, as far as max_tokens let it come."""
    type: str               # redacted_thinking, thinking, text or tool_use
    pieces: list            # tokens (thinking, text) or JSON fragments (tool_use)
    id: str = None          # tool_use
    name: str = None        # tool_use
    arguments: str = None   # tool_use: the complete input JSON text
    signature: str = None   # thinking
    data: str = None        # redacted_thinking

    def body(self):
        """The block in a non-streaming answer."""
        if self.type == "redacted_thinking":
            return {"type": "redacted_thinking", "data": self.data}
        if self.type == "thinking":
            return {"type": "thinking", "thinking": "".join(self.pieces),
                    "signature": self.signature}
        if self.type == "tool_use":
            sent = "".join(self.pieces)
            return {"type": "tool_use", "id": self.id, "name": self.name,
                    "input": json.loads(sent) if sent == self.arguments else {}}
        return {"type": "text", "text": "".join(self.pieces)}

    def start(self):
        """The content_block of content_block_start."""
        if self.type == "redacted_thinking":
            return {"type": "redacted_thinking", "data": self.data}
        if self.type == "thinking":
            return {"type": "thinking", "thinking": "", "signature": ""}
        if self.type == "tool_use":
            return {"type": "tool_use", "id": self.id, "name": self.name, "input": {}}
        return {"type": "text", "text": ""}

    def delta(self, piece):
        if self.type == "thinking":
            return {"type": "thinking_delta", "thinking": piece}
        if self.type == "tool_use":
            return {"type": "input_json_delta", "partial_json": piece}
        return {"type": "text_delta", "text": piece}


@dataclasses.dataclass
class AnthropicMessage:
    """One planned Anthropic answer (max_tokens has already cut it)."""
    id: str
    model: str
    blocks: list
    stop_reason: str
    stop_sequence: str
    usage: dict          # input_tokens and the cache fields, without output_tokens
    output_tokens: int
    directives: Directives

    def full_usage(self):
        return {**self.usage, "output_tokens": self.output_tokens}

    def message_body(self):
        return {
            "id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": [block.body() for block in self.blocks],
            "stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence,
            "usage": self.full_usage(),
        }

    def start_event(self):
        # Like the real API, message_start reports 1 output token; the
        # final count comes with message_delta.
        return {"type": "message_start", "message": {
            "id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**self.usage, "output_tokens": 1}}}

    def delta_event(self):
        return {"type": "message_delta",
                "delta": {"stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence},
                "usage": {"output_tokens": self.output_tokens}}

    def stream_steps(self):
        """(steps, tail): each step is the list of (event, data) sent for one
        token; tail holds the events left after the last token (blocks
        without tokens).  A block's start goes with its first token, its
        stop (and a thinking block's signature_delta) right after its
        last; a tool_use block's first token also carries the empty
        partial_json delta; a redacted_thinking block costs no token and
        goes with the next step."""
        steps, pending = [], []

        def with_next(event):
            pending.append(event)

        def right_after(event):
            (pending if pending or not steps else steps[-1]).append(event)

        for index, block in enumerate(self.blocks):
            with_next(("content_block_start", {"type": "content_block_start", "index": index,
                                               "content_block": block.start()}))
            for number, piece in enumerate(block.pieces):
                events = []
                if block.type == "tool_use" and number == 0:
                    events.append(("content_block_delta", {
                        "type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": ""}}))
                events.append(("content_block_delta", {"type": "content_block_delta",
                                                       "index": index,
                                                       "delta": block.delta(piece)}))
                steps.append(pending + events)
                pending = []
            if block.type == "thinking":
                right_after(("content_block_delta", {
                    "type": "content_block_delta", "index": index,
                    "delta": {"type": "signature_delta", "signature": block.signature}}))
            right_after(("content_block_stop", {"type": "content_block_stop", "index": index}))
        return steps, pending


def plan_message(state, body, model, directives):
    """Decide the Anthropic answer: optional redacted_thinking and thinking
    blocks, then a tool call (tools given, last message a user text turn) >
    refusal=1 > the plain reply (text=, a tool result, or the echo)."""
    messages = body["messages"]
    number = next(state.next_completion_id)
    user_text = anthropic_last_user_text(messages)

    thinking_tokens = directives.reasoning
    thinking = body.get("thinking")
    if thinking_tokens is None and isinstance(thinking, dict) and thinking.get("type") == "enabled":
        thinking_tokens = directives.tokens
    reasoning = []
    if thinking_tokens:
        reasoning = padded_tokens("Thinking about: " + user_text, thinking_tokens)

    stop_sequence = None
    calls = []
    tool_name = anthropic_tool_to_call(body, directives, messages)
    if tool_name is not None:
        kind, stop_reason = "tool_use", "tool_use"
        for index in range(directives.parallel):
            call_id = "toolu_fake_%d" % number
            query = user_text
            if directives.parallel > 1:
                call_id += "_%d" % index
                if index:
                    query += " (%d)" % (index + 1)
            calls.append(ContentBlock("tool_use", [], id=call_id, name=tool_name,
                                      arguments=compact_json({"query": query})))
        pieces = [(index, fragment) for index, call in enumerate(calls)
                  for fragment in fragments(call.arguments)]
    elif directives.refusal:
        kind, stop_reason = "text", "refusal"
        pieces = TOKEN_RE.findall(REFUSAL_TEXT)
    else:
        kind, stop_reason = "text", "end_turn"
        if directives.text is not None:
            pieces = exact_tokens(directives.text)
        elif is_tool_result_turn(messages[-1]):
            pieces = exact_tokens("Tool result: " + tool_results_text(messages[-1]))
        else:
            pieces = padded_tokens("Echo: " + user_text, directives.tokens)
        pieces, stop_sequence = apply_stop_sequences(pieces, body.get("stop_sequences") or [])
        if stop_sequence is not None:
            stop_reason = "stop_sequence"

    planned = len(pieces)
    limit = body["max_tokens"]
    cut = limit < len(reasoning) + len(pieces)
    if cut:
        reasoning = reasoning[:limit]
        pieces = pieces[:limit - len(reasoning)]
        stop_reason, stop_sequence = "max_tokens", None

    blocks = []
    if directives.redacted:
        blocks.append(ContentBlock("redacted_thinking", [], data="redacted_fake_%d" % number))
    if reasoning:
        blocks.append(ContentBlock("thinking", reasoning, signature="sig_fake_%d" % number))
    if kind == "tool_use":
        for index, fragment in pieces:
            calls[index].pieces.append(fragment)
        blocks += [call for call in calls if call.pieces]
    elif pieces or (planned == 0 and not cut):
        blocks.append(ContentBlock("text", pieces))

    prompt_tokens = anthropic_prompt_tokens(body)
    cache_read = directives.cached or 0
    cache_write = directives.cache_write or 0
    usage = {"input_tokens": max(0, prompt_tokens - cache_read - cache_write),
             "cache_creation_input_tokens": cache_write,
             "cache_read_input_tokens": cache_read}
    return AnthropicMessage(
        id="msg_fake_%d" % number, model=model, blocks=blocks, stop_reason=stop_reason,
        stop_sequence=stop_sequence, usage=usage,
        output_tokens=len(reasoning) + len(pieces), directives=directives)


async def handle_messages(conn, req, state):
    config = state.config
    if config.api_key is not None and req.headers.get("x-api-key") != config.api_key:
        # Never echo the key (or what was sent) back.
        return await send_anthropic_error(conn, req, 401, "authentication_error",
                                          "invalid x-api-key")
    if not req.headers.get("anthropic-version"):
        return await send_anthropic_error(conn, req, 400, "invalid_request_error",
                                          "anthropic-version: header is required")
    try:
        body = json.loads(req.body)
    except ValueError:
        return await send_anthropic_error(conn, req, 400, "invalid_request_error",
                                          "There was an error parsing the body of your "
                                          "request: it is not valid JSON.")
    problem = check_anthropic_request(body)
    if problem is not None:
        return await send_anthropic_error(conn, req, 400, "invalid_request_error", problem)
    model = body["model"]
    model_name, _, query = model.partition("?")
    try:
        directives = parse_directives(query, config, mode="anthropic")
    except ValueError as exc:
        return await send_anthropic_error(conn, req, 400, "invalid_request_error", str(exc))
    apply_fail_first(state, model, directives)

    # delay_ms: nothing at all is sent until it has passed.
    await conn.sleep_ms(directives.delay_ms)
    extra_headers = []
    if directives.retry_after is not None:
        extra_headers.append(("retry-after", directives.retry_after))

    if directives.status >= 300:
        error = anthropic_simulated_error(directives.status, model_name, directives.code)
        return await send_json(conn, req, directives.status, error, extra_headers)

    message = plan_message(state, body, model_name, directives)
    if body.get("stream"):
        return await stream_message(conn, req, state, message, extra_headers)
    return await send_message(conn, req, message, extra_headers)


async def send_message(conn, req, message, extra_headers):
    """Non-streaming answer; takes first_token_ms + pace_ms * tokens."""
    directives = message.directives
    if directives.fault == "drop":
        conn.close()
        return False
    if directives.fault == "malformed":
        return await send_body(conn, req, directives.status,
                               '{"id": "x", "type": "message", "content": [',
                               "application/json", extra_headers)
    await conn.sleep_ms(directives.first_token_ms
                        + directives.pace_ms * message.output_tokens)
    return await send_json(conn, req, directives.status, message.message_body(), extra_headers)


class AnthropicSseWriter(SseWriter):
    """SSE with `event:` lines.  comments=1 puts a ping event between every
    two events (instead of SSE comments)."""

    def __init__(self, conn, directives, chunked):
        super().__init__(conn, directives, chunked)
        self.last_event = None

    async def event(self, name, data):
        if not isinstance(data, str):
            data = to_json(data)
        text = ""
        if self.comments and name != "ping" and self.last_event not in (None, "ping"):
            text += "event: ping" + self.newline + "data: " + to_json({"type": "ping"}) \
                + self.newline * 2
        text += "event: " + name + self.newline + "data: " + data + self.newline * 2
        self.last_event = name
        await self._write(text.encode("utf-8"))


async def stream_message(conn, req, state, message, extra_headers):
    """Streaming Anthropic answer.

    Timeline: headers, message_start and a ping at once; first_token_ms;
    the first step (see AnthropicMessage.stream_steps); pause_after_first_ms;
    each further step after pace_ms; after another pace_ms the events left
    over, message_delta and message_stop; end of the chunked body."""
    directives = message.directives
    chunked = req.version == "HTTP/1.1"  # HTTP/1.0 has no chunked encoding
    keep_alive = req.keep_alive and chunked
    headers = [("Content-Type", "text/event-stream; charset=utf-8"),
               ("Cache-Control", "no-cache")]
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    await conn.write(response_head(directives.status, headers + extra_headers, keep_alive))

    state.open_streams += 1
    try:
        sse = AnthropicSseWriter(conn, directives, chunked)
        await sse.event("message_start", message.start_event())
        await sse.event("ping", {"type": "ping"})
        await conn.sleep_ms(directives.first_token_ms)
        steps, tail = message.stream_steps()
        for index, step in enumerate(steps):
            if index > 0:
                await conn.sleep_ms(directives.pace_ms)
            for name, data in step:
                await sse.event(name, data)
            if index == 0:
                ended = await anthropic_after_first_step(conn, sse, directives)
                if ended is not None:
                    return ended and keep_alive
        if not steps:  # faults then strike after message_start
            ended = await anthropic_after_first_step(conn, sse, directives)
            if ended is not None:
                return ended and keep_alive

        await conn.sleep_ms(directives.pace_ms)
        for name, data in tail:
            await sse.event(name, data)
        await sse.event("message_delta", message.delta_event())
        if directives.fault != "nodone":
            await sse.event("message_stop", {"type": "message_stop"})
        await sse.end()
        return keep_alive
    finally:
        state.open_streams -= 1


async def anthropic_after_first_step(conn, sse, directives):
    """Stream faults that strike after the first step; see after_first_token."""
    fault = directives.fault
    if fault == "drop":
        conn.close()  # no message_delta, no message_stop, no terminating chunk
        return False
    if fault == "error_event":
        await sse.event("error", anthropic_error_body("overloaded_error", "Overloaded"))
        await sse.end()
        return True
    if fault == "malformed":  # then carry on normally
        await sse.event("content_block_delta",
                        '{"type": "content_block_delta", "index": 0, "delta": [')
    await conn.sleep_ms(directives.pause_after_first_ms)
    return None


# ---------------------------------------------------------------------------
# Azure OpenAI: the OpenAI format at Azure's paths, with its key header,
# api-version and content filter annotations
# ---------------------------------------------------------------------------

AZURE_DEPLOYMENT_PATH = re.compile(r"^/openai/deployments/([^/]+)/chat/completions$")
AZURE_V1_PATH = "/openai/v1/chat/completions"


def azure_filter_results(filtered):
    categories = ("hate", "self_harm", "sexual", "violence")
    results = {c: {"filtered": False, "severity": "safe"} for c in categories}
    if filtered:
        results["violence"] = {"filtered": True, "severity": "medium"}
    return results


AZURE_PROMPT_FILTER_RESULTS = [{"prompt_index": 0,
                                "content_filter_results": azure_filter_results(False)}]
# Azure streams start with this chunk: no id, no model, no choices.
AZURE_PROMPT_FILTER_CHUNK = to_json({
    "choices": [], "created": 0, "id": "", "model": "", "object": "",
    "prompt_filter_results": AZURE_PROMPT_FILTER_RESULTS})
AZURE_PROMPT_FILTERED = {"error": {
    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
               "management policy. Please modify your prompt and retry. (simulated by fakellm)",
    "type": None, "param": "prompt", "code": "content_filter", "status": 400,
    "innererror": {"code": "ResponsibleAIPolicyViolation",
                   "content_filter_result": azure_filter_results(True)}}}


def azure_route(req):
    """(deployment or None, needs api-version) for an Azure path, else None."""
    match = AZURE_DEPLOYMENT_PATH.match(req.path)
    if match:
        return urllib.parse.unquote(match.group(1)), True
    if req.path == AZURE_V1_PATH:
        return None, False
    return None


def azure_is_authorized(req, config):
    """Azure takes `api-key: KEY`; its v1 API also a bearer token."""
    if config.api_key is None:
        return True
    return req.headers.get("api-key") == config.api_key or is_authorized(req, config)


async def handle_azure_chat(conn, req, state, azure):
    deployment, needs_api_version = azure
    if not azure_is_authorized(req, state.config):
        # Azure's words; the key is never echoed.
        return await send_json(conn, req, 401, {"error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint."}})
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(req.target).query)
    if needs_api_version and not query.get("api-version"):
        return await send_json(conn, req, 404, {"error": {
            "code": "404", "message": "Resource not found"}})
    return await answer_chat(conn, req, state, deployment=deployment, azure=True)


# ---------------------------------------------------------------------------
# Gemini API (POST /v1beta/models/{model}:generateContent and
# :streamGenerateContent?alt=sse).  Self-contained: the shared pieces it uses
# are the directives, the simulated model's helpers, SseWriter and the
# request log; route() has one line that sends these paths here.
# ---------------------------------------------------------------------------

GEMINI_PATH_RE = re.compile(r"^/(v1beta|v1)/models/([^/]+):(generateContent|streamGenerateContent)$")
# Top-level request fields, in both spellings the real API takes.
GEMINI_REQUEST_FIELDS = {
    "contents", "systemInstruction", "system_instruction", "tools", "toolConfig",
    "tool_config", "generationConfig", "generation_config", "safetySettings",
    "safety_settings", "cachedContent", "cached_content", "labels",
}
GEMINI_GENERATION_FIELDS = {
    "temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "seed",
    "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema",
    "responseJsonSchema", "thinkingConfig", "candidateCount", "responseModalities",
    "responseLogprobs", "logprobs", "mediaResolution",
}
GEMINI_THINKING_FIELDS = {"thinkingBudget", "includeThoughts", "thinkingLevel"}
GEMINI_CALLING_MODES = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
# A part's data fields (exactly one per part), in both spellings.
GEMINI_PART_DATA = {
    "text": "text", "inlineData": "inlineData", "inline_data": "inlineData",
    "fileData": "fileData", "file_data": "fileData", "functionCall": "functionCall",
    "function_call": "functionCall", "functionResponse": "functionResponse",
    "function_response": "functionResponse",
}
# What status=N answers with in Gemini mode: (google.rpc status, message).
GEMINI_ERROR_KINDS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument (simulated by fakellm)."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials "
                             "(simulated by fakellm)."),
    403: ("PERMISSION_DENIED", "The caller does not have permission (simulated by fakellm)."),
    404: ("NOT_FOUND", "models/{model} is not found for API version v1beta, or is not "
                       "supported for generateContent."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota) "
                                "(simulated by fakellm)."),
    500: ("INTERNAL", "An internal error has occurred (simulated by fakellm)."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out (simulated by fakellm)."),
}
GEMINI_BLOCK_REASONS = ("SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT",
                        "IMAGE_SAFETY")


class GeminiBadRequest(Exception):
    """A request the real API refuses: (HTTP status, google.rpc status,
    message, optional ErrorInfo reason)."""

    def __init__(self, message, status=400, rpc_status="INVALID_ARGUMENT", reason=None):
        super().__init__(message)
        self.status, self.rpc_status, self.reason = status, rpc_status, reason


def gemini_error_body(status, rpc_status, message, reason=None, retry_delay=None):
    error = {"code": status, "message": message, "status": rpc_status}
    details = []
    if reason is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": reason, "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"}})
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": retry_delay})
    if details:
        error["details"] = details
    return {"error": error}


def gemini_simulated_error(status, model, status_override, retry_after):
    if status in GEMINI_ERROR_KINDS:
        rpc_status, message = GEMINI_ERROR_KINDS[status]
    elif status >= 500:
        rpc_status, message = "INTERNAL", "Server error (simulated by fakellm)."
    else:
        rpc_status, message = ("FAILED_PRECONDITION",
                               "Request failed with status %d (simulated by fakellm)." % status)
    if status_override is not None:
        rpc_status = status_override
    # Google says when to retry in the body (RetryInfo), not in a header.
    retry_delay = None
    if retry_after is not None:
        retry_delay = retry_after if retry_after.endswith("s") else retry_after + "s"
    return gemini_error_body(status, rpc_status, message.format(model=model),
                             retry_delay=retry_delay)


def gemini_field(obj, camel, snake):
    """A field the real API takes in either spelling."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def check_gemini_request(body):
    """Raises GeminiBadRequest for what the real API rejects, as far as
    fakellm checks it."""
    if not isinstance(body, dict):
        raise GeminiBadRequest("Invalid JSON payload received. Expected an object.")
    for key in body:
        if key not in GEMINI_REQUEST_FIELDS:
            raise GeminiBadRequest('Invalid JSON payload received. Unknown name "%s": '
                                   'Cannot find field.' % key)
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise GeminiBadRequest("* GenerateContentRequest.contents: contents is not specified")
    for i, content in enumerate(contents):
        where = "contents[%d]" % i
        if not isinstance(content, dict):
            raise GeminiBadRequest("%s: Expected an object." % where)
        if content.get("role", "user") not in ("user", "model", "function"):
            raise GeminiBadRequest("Please use a valid role: user, model.")
        check_gemini_parts(content.get("parts"), where, content.get("role", "user"))
    system = gemini_field(body, "systemInstruction", "system_instruction")
    if system is not None:
        if not isinstance(system, dict):
            raise GeminiBadRequest("systemInstruction: Expected an object.")
        check_gemini_parts(system.get("parts"), "systemInstruction", "user")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise GeminiBadRequest("tools: Expected a list.")
        for i, tool in enumerate(tools):
            declarations = gemini_field(tool, "functionDeclarations", "function_declarations")
            for j, declaration in enumerate(declarations or []):
                where = "tools[%d].function_declarations[%d]" % (i, j)
                if not isinstance(declaration, dict) or not declaration.get("name"):
                    raise GeminiBadRequest("* GenerateContentRequest.%s.name: Name cannot be empty."
                                           % where)
                if "parameters" in declaration and "parametersJsonSchema" in declaration:
                    raise GeminiBadRequest("%s: parameters and parameters_json_schema are "
                                           "mutually exclusive." % where)
    tool_config = gemini_field(body, "toolConfig", "tool_config")
    calling = gemini_field(tool_config, "functionCallingConfig", "function_calling_config")
    if calling is not None and calling.get("mode", "MODE_UNSPECIFIED") not in GEMINI_CALLING_MODES:
        raise GeminiBadRequest('Invalid value at \'tool_config.function_calling_config.mode\': '
                               '"%s"' % calling.get("mode"))
    config = gemini_field(body, "generationConfig", "generation_config")
    if config is not None:
        if not isinstance(config, dict):
            raise GeminiBadRequest("generationConfig: Expected an object.")
        for key in config:
            if key not in GEMINI_GENERATION_FIELDS:
                raise GeminiBadRequest('Invalid JSON payload received. Unknown name "%s" at '
                                       "'generation_config': Cannot find field." % key)
        if "responseSchema" in config and "responseJsonSchema" in config:
            raise GeminiBadRequest("response_schema and response_json_schema are mutually "
                                   "exclusive.")
        thinking = config.get("thinkingConfig")
        if thinking is not None:
            if not isinstance(thinking, dict) or set(thinking) - GEMINI_THINKING_FIELDS:
                raise GeminiBadRequest("generationConfig.thinkingConfig: Cannot find field.")
            if "thinkingBudget" in thinking and "thinkingLevel" in thinking:
                raise GeminiBadRequest("You can only set only one of thinking budget and "
                                       "thinking level.")
        max_tokens = config.get("maxOutputTokens")
        if max_tokens is not None and (not is_int(max_tokens) or max_tokens < 1):
            raise GeminiBadRequest("generationConfig.maxOutputTokens: must be a positive "
                                   "integer.")


def check_gemini_parts(parts, where, role):
    if not isinstance(parts, list) or not parts:
        raise GeminiBadRequest("* GenerateContentRequest.%s.parts: contents.parts must not "
                               "be empty." % where)
    for j, part in enumerate(parts):
        part_where = "%s.parts[%d]" % (where, j)
        if not isinstance(part, dict):
            raise GeminiBadRequest("%s: Expected an object." % part_where)
        kinds = [GEMINI_PART_DATA[key] for key in part if key in GEMINI_PART_DATA]
        if len(kinds) != 1:
            raise GeminiBadRequest("* GenerateContentRequest.%s.data: required oneof field "
                                   "'data' must have one initialized field" % part_where)
        kind = kinds[0]
        value = next(part[key] for key in part if key in GEMINI_PART_DATA)
        if kind == "text" and not isinstance(value, str):
            raise GeminiBadRequest("%s.text: Expected a string." % part_where)
        if kind == "inlineData" and not (
                isinstance(gemini_field(value, "mimeType", "mime_type"), str)
                and isinstance(value.get("data"), str)):
            raise GeminiBadRequest("%s.inline_data: mime_type and data are required."
                                   % part_where)
        if kind == "fileData" and not isinstance(gemini_field(value, "fileUri", "file_uri"), str):
            raise GeminiBadRequest("%s.file_data.file_uri: Field required." % part_where)
        if kind == "functionCall":
            if role != "model":
                raise GeminiBadRequest("Please ensure that function call turn comes "
                                       "immediately after a user turn or after a function "
                                       "response turn.")
            if not isinstance(value, dict) or not value.get("name"):
                raise GeminiBadRequest("%s.function_call.name: Name cannot be empty."
                                       % part_where)
        if kind == "functionResponse":
            if not isinstance(value, dict) or not value.get("name"):
                raise GeminiBadRequest("%s.function_response.name: Name cannot be empty."
                                       % part_where)
            if not isinstance(value.get("response"), dict):
                raise GeminiBadRequest("%s.function_response.response: Expected an object."
                                       % part_where)
        signature = gemini_field(part, "thoughtSignature", "thought_signature")
        if signature is not None and not isinstance(signature, str):
            raise GeminiBadRequest("%s.thought_signature: Expected a string." % part_where)


def gemini_parts_of(content, kind):
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts or [] if isinstance(part, dict)
            and any(GEMINI_PART_DATA.get(key) == kind for key in part)]


def gemini_text_of(content):
    """The text parts (thoughts left out) of a content, joined with a space."""
    return " ".join(part["text"] for part in gemini_parts_of(content, "text")
                    if not part.get("thought"))


def gemini_function_responses(content):
    return [gemini_field(part, "functionResponse", "function_response")
            for part in gemini_parts_of(content, "functionResponse")]


def gemini_response_text(function_response):
    """A function response as text: its "result" (or "error") when that is
    a string, else its compact JSON."""
    response = function_response.get("response") or {}
    for key in ("result", "error"):
        if isinstance(response.get(key), str) and len(response) == 1:
            return response[key]
    return compact_json(response)


def gemini_last_user_text(contents):
    """The text of the last user turn that holds no function responses."""
    for content in reversed(contents):
        if content.get("role", "user") == "user" and not gemini_function_responses(content):
            return gemini_text_of(content)
    return ""


def gemini_prompt_tokens(body):
    """Words over the system instruction, the text parts and the function
    responses."""
    texts = [gemini_text_of(gemini_field(body, "systemInstruction", "system_instruction"))]
    for content in body["contents"]:
        texts.append(gemini_text_of(content))
        texts += [gemini_response_text(r) for r in gemini_function_responses(content)]
    return sum(len(text.split()) for text in texts)


def gemini_tool_to_call(body, directives, contents):
    """The function the model calls, or None to answer with text.  A call
    needs function declarations, a calling mode other than NONE, and a last
    content that is a user turn without function responses."""
    declarations = [d for tool in body.get("tools") or []
                    for d in gemini_field(tool, "functionDeclarations",
                                          "function_declarations") or []]
    if not declarations:
        return None
    calling = gemini_field(gemini_field(body, "toolConfig", "tool_config"),
                           "functionCallingConfig", "function_calling_config") or {}
    last = contents[-1]
    if calling.get("mode") == "NONE" or last.get("role", "user") != "user" \
            or gemini_function_responses(last):
        return None
    allowed = gemini_field(calling, "allowedFunctionNames", "allowed_function_names")
    if allowed:
        return allowed[0]
    if directives.tool is not None:
        return directives.tool
    return declarations[0]["name"]


def gemini_structured_reply(config, text):
    """The JSON text responseMimeType application/json asks for, or None."""
    if not isinstance(config, dict) or config.get("responseMimeType") != "application/json":
        return None
    schema = config.get("responseJsonSchema", config.get("responseSchema"))
    if not isinstance(schema, dict):
        return compact_json({"echo": text})
    # The OpenAI mode's rules, by way of its request shape.
    return structured_reply({"response_format": {"type": "json_schema",
                                                 "json_schema": {"schema": schema}}}, text)


@dataclasses.dataclass
class GeminiAnswer:
    """One planned Gemini answer (maxOutputTokens has already cut it)."""
    number: int
    model: str
    thoughts: list        # thought tokens
    show_thoughts: bool   # includeThoughts: the thought parts are sent
    kind: str             # "text" or "calls"
    pieces: list          # text tokens, or (call index, piece) for calls
    calls: list           # [(name, args JSON text)]
    signature: str        # on the first answer part (or an empty text part)
    finish_reason: str
    usage: dict
    directives: Directives

    @property
    def response_id(self):
        return "resp_fake_%d" % self.number

    def sent_calls(self):
        """The calls whose every piece fit in maxOutputTokens."""
        sent = collections.Counter(index for index, _ in self.pieces)
        return [call for index, call in enumerate(self.calls)
                if sent[index] == len(fragments(call[1]))]

    def answer_parts(self):
        """The answer's parts in a non-streaming reply."""
        parts = []
        if self.show_thoughts and self.thoughts:
            parts.append({"text": "".join(self.thoughts), "thought": True})
        if self.kind == "calls":
            parts += [{"functionCall": {"name": name, "args": json.loads(args)}}
                      for name, args in self.sent_calls()]
        elif self.pieces:
            parts.append({"text": "".join(self.pieces)})
        signed = next((p for p in parts if not p.get("thought")), None)
        if self.signature is not None:
            if signed is None:
                signed = {"text": ""}
                parts.append(signed)
            signed["thoughtSignature"] = self.signature
        return parts

    def chunk(self, parts, finish_reason=None, usage=None):
        candidate = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish_reason is not None:
            candidate["finishReason"] = finish_reason
        chunk = {"candidates": [candidate]}
        chunk["usageMetadata"] = usage or {"promptTokenCount": self.usage["promptTokenCount"],
                                           "totalTokenCount": self.usage["promptTokenCount"]}
        chunk["modelVersion"] = self.model
        chunk["responseId"] = self.response_id
        return chunk

    def body(self):
        return self.chunk(self.answer_parts(), self.finish_reason, self.usage)

    def stream_steps(self):
        """The chunks' parts, one list per step (token); the signature rides
        on the first answer part, or on the final chunk's empty text part."""
        steps = []
        if self.thoughts:
            steps += [[{"text": t, "thought": True}] if self.show_thoughts else []
                      for t in self.thoughts]
        if self.kind == "calls":
            sent = self.sent_calls()
            by_index = collections.defaultdict(list)
            for index, piece in self.pieces:
                by_index[index].append(piece)
            for index, (name, args) in enumerate(self.calls):
                pieces = by_index.get(index, [])
                # A call goes whole, with its last piece; its other pieces
                # are steps with nothing to send.
                steps += [[] for _ in pieces[:-1]]
                if (name, args) in sent and pieces:
                    steps.append([{"functionCall": {"name": name, "args": json.loads(args)}}])
                elif pieces:
                    steps.append([])
        else:
            steps += [[{"text": piece}] for piece in self.pieces]
        return steps


def plan_gemini_answer(state, body, model, directives):
    """Decide the answer: thoughts (reasoning=N, or `tokens` of them with a
    positive thinkingBudget), then a function call (declarations given, last
    content a user text turn) > refusal=1 > JSON (responseMimeType) > the
    plain reply (text=, a function response, or the echo)."""
    contents = body["contents"]
    number = next(state.next_completion_id)
    user_text = gemini_last_user_text(contents)
    config = gemini_field(body, "generationConfig", "generation_config") or {}
    thinking = config.get("thinkingConfig") or {}

    thought_count = directives.reasoning
    budget = thinking.get("thinkingBudget")
    if thought_count is None and is_int(budget) and budget != 0:
        thought_count = directives.tokens
    thoughts = padded_tokens("Thinking about: " + user_text, thought_count or 0)

    calls = []
    finish_reason = "STOP"
    tool_name = gemini_tool_to_call(body, directives, contents)
    if tool_name is not None:
        kind = "calls"
        for index in range(directives.parallel):
            query = user_text + (" (%d)" % (index + 1) if index else "")
            calls.append((tool_name, compact_json({"query": query})))
        pieces = [(index, piece) for index, (_, args) in enumerate(calls)
                  for piece in fragments(args)]
    else:
        kind = "text"
        structured = None if directives.refusal else gemini_structured_reply(config, user_text)
        last = contents[-1]
        if directives.refusal:
            pieces, finish_reason = TOKEN_RE.findall(REFUSAL_TEXT), "SAFETY"
        elif structured is not None:
            pieces = fragments(structured)
        elif directives.text is not None:
            pieces = exact_tokens(directives.text)
        elif gemini_function_responses(last):
            pieces = exact_tokens("Tool result: " + " ".join(
                gemini_response_text(r) for r in gemini_function_responses(last)))
        else:
            pieces = padded_tokens("Echo: " + user_text, directives.tokens)
        if not directives.refusal:
            pieces, _ = apply_stop_sequences(pieces, config.get("stopSequences") or [])

    limit = config.get("maxOutputTokens")
    if limit is not None and limit < len(thoughts) + len(pieces):
        thoughts = thoughts[:limit]
        pieces = pieces[:limit - len(thoughts)]
        finish_reason = "MAX_TOKENS"

    prompt_tokens = gemini_prompt_tokens(body)
    usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": len(pieces),
             "totalTokenCount": prompt_tokens + len(pieces) + len(thoughts)}
    if thoughts:
        usage["thoughtsTokenCount"] = len(thoughts)
    if directives.cached is not None:
        usage["cachedContentTokenCount"] = directives.cached
    return GeminiAnswer(
        number=number, model=model, thoughts=thoughts,
        show_thoughts=thinking.get("includeThoughts") is True, kind=kind, pieces=pieces,
        calls=calls, signature="sig_fake_%d" % number if thoughts else None,
        finish_reason=finish_reason, usage=usage, directives=directives)


def gemini_split_query(query):
    """The Gemini-only directive blocked=REASON taken out of a directive
    query; returns (the rest, the reason or None)."""
    rest, blocked = [], None
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name == "blocked":
            if value not in GEMINI_BLOCK_REASONS:
                raise ValueError("fakellm directive blocked must be one of: %s"
                                 % ", ".join(GEMINI_BLOCK_REASONS))
            blocked = value
        else:
            rest.append((name, value))
    return urllib.parse.urlencode(rest), blocked


def gemini_key_problem(req, config):
    """None when the request may pass, else the GeminiBadRequest to answer:
    a missing key is 403 PERMISSION_DENIED, a wrong one 400 API_KEY_INVALID,
    as the real API answers (the key is never echoed)."""
    if config.api_key is None:
        return None
    key = req.headers.get("x-goog-api-key")
    if key is None:
        query = urllib.parse.parse_qs(req.target.partition("?")[2])
        key = (query.get("key") or [None])[0]
    if key is None:
        return GeminiBadRequest("Method doesn't allow unregistered callers (callers without "
                                "established identity). Please use API Key or other form of "
                                "API consumer identity to call this API.",
                                status=403, rpc_status="PERMISSION_DENIED")
    if key != config.api_key:
        return GeminiBadRequest("API key not valid. Please pass a valid API key.",
                                reason="API_KEY_INVALID")
    return None


async def send_gemini_bad_request(conn, req, problem, extra_headers=()):
    return await send_json(conn, req, problem.status,
                           gemini_error_body(problem.status, problem.rpc_status, str(problem),
                                             reason=problem.reason), extra_headers)


async def handle_gemini_request(conn, req, state, match):
    """Counted, recorded and tracked as in flight like the chat and messages
    requests, whatever becomes of it."""
    state.chat_requests += 1
    record_request(state, req)
    state.request_started()
    try:
        if state.instance_fault is not None:
            return await answer_gemini_instance_fault(conn, req, state.instance_fault, match)
        return await handle_gemini(conn, req, state, match)
    finally:
        state.in_flight -= 1


async def answer_gemini_instance_fault(conn, req, fault, match):
    """PUT /_fault is in force: fail without looking at the request."""
    if fault.get("fault") == "drop":
        conn.close()
        return False
    model = urllib.parse.unquote(match.group(2)).partition("?")[0]
    body = gemini_simulated_error(fault["status"], model, fault.get("code"),
                                  fault.get("retry_after"))
    return await send_json(conn, req, fault["status"], body)


async def handle_gemini(conn, req, state, match):
    config = state.config
    problem = gemini_key_problem(req, config)
    if problem is not None:
        return await send_gemini_bad_request(conn, req, problem)
    stream = match.group(3) == "streamGenerateContent"
    if stream and urllib.parse.parse_qs(req.target.partition("?")[2]).get("alt") != ["sse"]:
        return await send_gemini_bad_request(conn, req, GeminiBadRequest(
            "fakellm streams only with alt=sse (a JSON array stream is not simulated)"))
    try:
        body = json.loads(req.body)
    except ValueError:
        return await send_gemini_bad_request(conn, req, GeminiBadRequest(
            "Invalid JSON payload received. Unexpected token."))
    try:
        check_gemini_request(body)
    except GeminiBadRequest as problem:
        return await send_gemini_bad_request(conn, req, problem)
    model = urllib.parse.unquote(match.group(2))
    model_name, _, query = model.partition("?")
    try:
        query, blocked = gemini_split_query(query)
        directives = parse_directives(query, config, mode="gemini")
    except ValueError as exc:
        return await send_gemini_bad_request(conn, req, GeminiBadRequest(str(exc)))
    apply_fail_first(state, model, directives)

    # delay_ms: nothing at all is sent until it has passed.
    await conn.sleep_ms(directives.delay_ms)
    if directives.status >= 300:
        error = gemini_simulated_error(directives.status, model_name, directives.code,
                                       directives.retry_after)
        return await send_json(conn, req, directives.status, error)

    if blocked is not None:
        prompt_tokens = gemini_prompt_tokens(body)
        number = next(state.next_completion_id)
        feedback = {"promptFeedback": {"blockReason": blocked, "safetyRatings": []},
                    "usageMetadata": {"promptTokenCount": prompt_tokens,
                                      "totalTokenCount": prompt_tokens},
                    "modelVersion": model_name, "responseId": "resp_fake_%d" % number}
        if not stream:
            return await send_json(conn, req, directives.status, feedback)
        return await stream_gemini_chunks(conn, req, state, directives, [to_json(feedback)])

    answer = plan_gemini_answer(state, body, model_name, directives)
    if stream:
        return await stream_gemini_answer(conn, req, state, answer)
    return await send_gemini_answer(conn, req, answer)


async def send_gemini_answer(conn, req, answer):
    """Non-streaming answer; takes first_token_ms + pace_ms * tokens."""
    directives = answer.directives
    if directives.fault == "drop":
        conn.close()
        return False
    if directives.fault == "malformed":
        return await send_body(conn, req, directives.status, '{"candidates": [',
                               "application/json")
    tokens = len(answer.thoughts) + len(answer.pieces)
    await conn.sleep_ms(directives.first_token_ms + directives.pace_ms * tokens)
    return await send_json(conn, req, directives.status, answer.body())


def gemini_stream_head(req, directives):
    chunked = req.version == "HTTP/1.1"  # HTTP/1.0 has no chunked encoding
    keep_alive = req.keep_alive and chunked
    headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    return chunked, keep_alive, response_head(directives.status, headers, keep_alive)


async def stream_gemini_chunks(conn, req, state, directives, chunks):
    """Chunks sent at once (a blocked prompt's one chunk), then the end."""
    chunked, keep_alive, head = gemini_stream_head(req, directives)
    await conn.write(head)
    state.open_streams += 1
    try:
        sse = SseWriter(conn, directives, chunked)
        for chunk in chunks:
            await sse.event(chunk)
        await sse.end()
        return keep_alive
    finally:
        state.open_streams -= 1


async def stream_gemini_answer(conn, req, state, answer):
    """Streaming Gemini answer: one chunk per step with parts to send
    (thoughts shown only with includeThoughts; a call whole at its last
    piece).  Timeline: headers at once; first_token_ms; the first step;
    pause_after_first_ms; each further step after pace_ms; after another
    pace_ms the final chunk (finishReason, the full usageMetadata, an empty
    text part); then EOF, which is how Gemini streams end."""
    directives = answer.directives
    chunked, keep_alive, head = gemini_stream_head(req, directives)
    await conn.write(head)
    state.open_streams += 1
    try:
        sse = SseWriter(conn, directives, chunked)
        await conn.sleep_ms(directives.first_token_ms)
        signature = answer.signature
        steps = answer.stream_steps()
        for index, parts in enumerate(steps):
            if index > 0:
                await conn.sleep_ms(directives.pace_ms)
            if parts:
                if signature is not None and not parts[0].get("thought"):
                    parts = [{**parts[0], "thoughtSignature": signature}] + parts[1:]
                    signature = None
                await sse.event(to_json(answer.chunk(parts)))
            if index == 0:
                ended = await gemini_after_first_step(conn, sse, directives)
                if ended is not None:
                    return ended and keep_alive
        if not steps:  # faults then strike after first_token_ms
            ended = await gemini_after_first_step(conn, sse, directives)
            if ended is not None:
                return ended and keep_alive

        await conn.sleep_ms(directives.pace_ms)
        final = {"text": ""}
        if signature is not None:
            final["thoughtSignature"] = signature
        if directives.fault != "nodone":
            await sse.event(to_json(answer.chunk([final], answer.finish_reason, answer.usage)))
        await sse.end()
        return keep_alive
    finally:
        state.open_streams -= 1


async def gemini_after_first_step(conn, sse, directives):
    """Stream faults that strike after the first step; see after_first_token."""
    fault = directives.fault
    if fault == "drop":
        conn.close()  # no final chunk, no terminating zero chunk
        return False
    if fault == "error_event":
        await sse.event(to_json(gemini_error_body(
            500, "INTERNAL", "An internal error has occurred (simulated by fakellm).")))
        await sse.end()
        return True
    if fault == "malformed":  # then carry on normally
        await sse.event('{"candidates": [')
    await conn.sleep_ms(directives.pause_after_first_ms)
    return None


# ---------------------------------------------------------------------------
# Other endpoints and routing
# ---------------------------------------------------------------------------

async def route(conn, req, state):
    """Answer one request; returns whether the connection may be reused."""
    method, path = req.method, req.path
    if path in CHAT_PATHS and method == "POST":
        return await handle_model_request(conn, req, state, anthropic=False)
    if path in MESSAGES_PATHS and method == "POST":
        return await handle_model_request(conn, req, state, anthropic=True)
    azure = azure_route(req)
    if azure is not None and method == "POST":
        return await handle_model_request(conn, req, state, anthropic=False, azure=azure)
    if method == "POST" and (gemini := GEMINI_PATH_RE.match(path)):
        return await handle_gemini_request(conn, req, state, gemini)
    if path in MODELS_PATHS and method == "GET":
        if not is_authorized(req, state.config):
            return await reject_unauthorized(conn, req)
        return await send_json(conn, req, 200, {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "fakellm"}],
        })
    if path == "/_requests" and method == "GET":
        return await send_json(conn, req, 200, list(state.recorded))
    if path == "/_requests" and method == "DELETE":
        cleared = len(state.recorded)
        state.recorded.clear()
        state.fail_first_seen.clear()
        return await send_json(conn, req, 200, {"cleared": cleared})
    if path == "/_stats" and method == "GET":
        return await send_json(conn, req, 200, state.stats())
    if path == "/_stats" and method == "DELETE":
        state.reset_stats()
        return await send_json(conn, req, 200, state.stats())
    if path == "/_fault" and method == "GET":
        return await send_json(conn, req, 200, {"fault": state.instance_fault})
    if path == "/_fault" and method == "PUT":
        try:
            state.instance_fault = parse_instance_fault(req.body)
        except ValueError as exc:
            return await send_error(conn, req, 400, str(exc), code="invalid_fakellm_fault")
        return await send_json(conn, req, 200, {"fault": state.instance_fault})
    if path == "/_fault" and method == "DELETE":
        state.instance_fault = None
        return await send_json(conn, req, 200, {"fault": None})
    if path == "/healthz" and method == "GET":
        return await send_body(conn, req, 200, "ok", "text/plain; charset=utf-8")
    return await send_error(conn, req, 404,
                            "Unknown request URL: %s %s. Please check the URL for typos."
                            % (method, path), code="unknown_url")


def parse_instance_fault(body):
    """The JSON body of PUT /_fault: {"status": N} with optional
    "retry_after" and "code", or {"fault": "drop"}; ValueError if bad."""
    try:
        fault = json.loads(body)
    except ValueError:
        raise ValueError("PUT /_fault needs a JSON object body") from None
    if not isinstance(fault, dict):
        raise ValueError("PUT /_fault needs a JSON object body")
    unknown = sorted(set(fault) - {"status", "retry_after", "code", "fault"})
    if unknown:
        raise ValueError("unknown /_fault field(s): %s" % ", ".join(unknown))
    if ("status" in fault) == ("fault" in fault):
        raise ValueError('/_fault needs exactly one of "status" and "fault"')
    if "fault" in fault:
        if fault["fault"] != "drop" or len(fault) != 1:
            raise ValueError('/_fault "fault" must be "drop", on its own')
        return {"fault": "drop"}
    status = fault["status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 300 <= status <= 599:
        raise ValueError('/_fault "status" must be an integer in [300, 599]')
    result = {"status": status}
    retry_after = fault.get("retry_after")
    if retry_after is not None:
        if isinstance(retry_after, int) and not isinstance(retry_after, bool) and retry_after >= 0:
            retry_after = str(retry_after)
        if not isinstance(retry_after, str) or not retry_after or \
                "\r" in retry_after or "\n" in retry_after:
            raise ValueError('/_fault "retry_after" must be a non-negative integer or a string')
        result["retry_after"] = retry_after
    code = fault.get("code")
    if code is not None:
        if not isinstance(code, str) or "\r" in code or "\n" in code:
            raise ValueError('/_fault "code" must be a one-line string')
        result["code"] = code
    return result


async def serve_connection(reader, writer, state):
    task = asyncio.current_task()
    state.connection_tasks.add(task)
    state.connection_opened()
    conn = Connection(reader, writer)
    try:
        while True:
            try:
                req = await read_request(conn)
            except BadRequest as exc:
                bad = Request("", "", "", "HTTP/1.1", {}, b"", keep_alive=False)
                await send_error(conn, bad, exc.status, str(exc))
                break
            if req is None:
                break
            try:
                keep_alive = await route(conn, req, state)
            except PeerClosed:
                state.note_closed_early()
                break
            if not keep_alive:
                break
    except (Disconnected, PeerClosed, ConnectionError, OSError, asyncio.CancelledError):
        pass
    except Exception:  # a bug: report it, drop only this connection
        traceback.print_exc(file=sys.stderr)
    finally:
        state.active_connections -= 1
        state.connection_tasks.discard(task)
        conn.close()


# ---------------------------------------------------------------------------
# Process
# ---------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible LLM upstream.")
    parser.add_argument("--listen", default="127.0.0.1:0",
                        help="HOST:PORT to listen on; port 0 picks a free one")
    parser.add_argument("--pace_ms", type=int, default=0, help="default delay between tokens")
    parser.add_argument("--first_token_ms", type=int, default=0,
                        help="default delay before the first token")
    parser.add_argument("--tokens", type=int, default=8, help="default reply length in tokens")
    parser.add_argument("--api_key", default=None,
                        help="if set, require 'Authorization: Bearer KEY' on chat and "
                             "models requests, and 'x-api-key: KEY' on messages requests")
    parser.add_argument("--tls_cert", default=None,
                        help="serve HTTPS (HTTP/1.1) with this certificate chain (PEM)")
    parser.add_argument("--tls_key", default=None, help="the private key of --tls_cert (PEM)")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls_cert and --tls_key go together")
    host, colon, port = args.listen.rpartition(":")
    if not colon or not port.isdigit():
        parser.error("--listen must be HOST:PORT")
    args.host = host.strip("[]") or "127.0.0.1"
    args.port = int(port)
    for name in ("pace_ms", "first_token_ms", "tokens"):
        if getattr(args, name) < 0:
            parser.error("--%s must not be negative" % name)
    return args


def raise_file_limit():
    """2,000 concurrent connections need more descriptors than a 1024 default."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):
        pass


async def serve(args):
    state = State(Config(pace_ms=args.pace_ms, first_token_ms=args.first_token_ms,
                         tokens=args.tokens, api_key=args.api_key))
    tls = None
    if args.tls_cert is not None:
        import ssl
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        tls.set_alpn_protocols(["http/1.1"])  # fakellm speaks HTTP/1.1 only
    server = await asyncio.start_server(
        lambda reader, writer: serve_connection(reader, writer, state),
        args.host, args.port, backlog=LISTEN_BACKLOG, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    print("fakellm listening on %s:%d" % (args.host, port), flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()

    server.close()
    tasks = list(state.connection_tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    raise_file_limit()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
