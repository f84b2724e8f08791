// Tests SseParser against WHATWG event-stream fixtures, every chunking of
// them, its zero-copy and no-allocation promises, and its size limit.
#include "server/http/sse_parser.h"

#include <cstdlib>
#include <memory>
#include <new>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "server/http/sse_test_event.h"

// Counts heap allocations while g_count_allocations is set: the steady-state
// test must see none, and only replacing operator new shows what std::string
// does behind the parser's back.
namespace {
bool g_count_allocations = false;
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  if (g_count_allocations) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace llmgateway::http {
namespace {

struct Result {
  std::vector<Event> events;
  absl::Status status;
  bool pending = false;
};

// Each chunk gets its own exactly-sized heap copy, freed right after Feed, so
// under ASan a view kept past its chunk is a use-after-free, not luck.
Result Parse(const std::vector<std::string>& chunks,
             size_t max_event_bytes = 8 << 20) {
  SseParser parser(max_event_bytes);
  Result r;
  for (const std::string& chunk : chunks) {
    std::unique_ptr<char[]> copy(new char[chunk.size() + 1]);
    chunk.copy(copy.get(), chunk.size());
    r.status = parser.Feed(
        absl::string_view(copy.get(), chunk.size()), [&](const SseEvent& e) {
          r.events.push_back({std::string(e.type), std::string(e.data),
                              std::string(e.last_event_id)});
          return true;
        });
    if (!r.status.ok()) break;
  }
  r.pending = parser.HasPendingEvent();
  return r;
}

Result ParseWhole(const std::string& stream) { return Parse({stream}); }

std::vector<Event> Events(const std::string& stream) {
  Result r = ParseWhole(stream);
  EXPECT_TRUE(r.status.ok()) << r.status;
  return r.events;
}

Event Msg(std::string data, std::string type = "", std::string id = "") {
  return {std::move(type), std::move(data), std::move(id)};
}

using EventList = std::vector<Event>;
using std::string_literals::operator""s;

TEST(SseParserTest, CommentsAreIgnored) {
  EXPECT_EQ(Events(": hello\ndata: x\n: another\n\n:\n\n"),
            EventList{Msg("x")});
}

TEST(SseParserTest, OneLeadingSpaceIsDropped) {
  EXPECT_EQ(Events("data:x\n\n"), EventList{Msg("x")});
  EXPECT_EQ(Events("data: x\n\n"), EventList{Msg("x")});
  EXPECT_EQ(Events("data:  two spaces\n\n"), EventList{Msg(" two spaces")});
  EXPECT_EQ(Events("data:\tx\n\n"), EventList{Msg("\tx")});
  EXPECT_EQ(Events("data: x \n\n"), EventList{Msg("x ")});
}

TEST(SseParserTest, MultiLineDataIsJoinedWithNewline) {
  EXPECT_EQ(Events("data: a\ndata: b\ndata:c\n\n"), EventList{Msg("a\nb\nc")});
  EXPECT_EQ(Events("data: {\"a\":\ndata: 1}\n\n"),
            EventList{Msg("{\"a\":\n1}")});
}

TEST(SseParserTest, ColonsAfterTheFirstBelongToTheValue) {
  EXPECT_EQ(Events("data: a:b: c\n\n"), EventList{Msg("a:b: c")});
  EXPECT_EQ(Events("data::x\n\n"), EventList{Msg(":x")});
}

TEST(SseParserTest, EmptyDataLinesAddNewlines) {
  EXPECT_EQ(Events("data\n\n"), EventList{Msg("")});
  EXPECT_EQ(Events("data:\n\n"), EventList{Msg("")});
  EXPECT_EQ(Events("data: \n\n"), EventList{Msg("")});
  EXPECT_EQ(Events("data\ndata\n\n"), EventList{Msg("\n")});
  EXPECT_EQ(Events("data\ndata\ndata\n\n"), EventList{Msg("\n\n")});
  EXPECT_EQ(Events("data: a\ndata\n\n"), EventList{Msg("a\n")});
}

TEST(SseParserTest, EventTypeAppliesToOneEvent) {
  EXPECT_EQ(Events("event: add\ndata: 1\n\ndata: 2\n\n"),
            (EventList{Msg("1", "add"), Msg("2")}));
  EXPECT_EQ(Events("event:a\nevent: b\ndata: 1\n\n"), EventList{Msg("1", "b")});
  // An event with no data dispatches nothing but still resets the type.
  EXPECT_EQ(Events("event: lost\n\ndata: 1\n\n"), EventList{Msg("1")});
  EXPECT_EQ(Events("event\ndata: 1\n\n"), EventList{Msg("1")});
  EXPECT_EQ(Events("event: message\ndata: 1\n\n"),
            EventList{Msg("1", "message")});
}

TEST(SseParserTest, LastEventIdPersists) {
  EXPECT_EQ(
      Events("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"),
      (EventList{Msg("a", "", "1"), Msg("b", "", "1"), Msg("c", "", "2")}));
  // An id alone dispatches nothing but is kept for later events.
  EXPECT_EQ(Events("id: 7\n\ndata: a\n\n"), EventList{Msg("a", "", "7")});
  // An empty id resets it.
  EXPECT_EQ(Events("id: 1\n\nid\ndata: a\n\nid: 2\n\nid:\ndata: b\n\n"),
            (EventList{Msg("a"), Msg("b")}));
  // Later in the same event wins.
  EXPECT_EQ(Events("id: 1\ndata: a\nid: 2\n\n"), EventList{Msg("a", "", "2")});
}

TEST(SseParserTest, IdContainingNulIsIgnored) {
  EXPECT_EQ(Events("id: 1\n\nid: 2\0x\ndata: a\n\n"s),
            EventList{Msg("a", "", "1")});
  // NUL is ordinary elsewhere.
  EXPECT_EQ(Events("data: a\0b\n\n"s), EventList{Msg("a\0b"s)});
}

TEST(SseParserTest, BlankLineWithoutDataDispatchesNothing) {
  EXPECT_EQ(Events("\n\n\n"), EventList{});
  EXPECT_EQ(Events(": ping\n\n"), EventList{});
  EXPECT_EQ(Events("retry: 1000\n\n"), EventList{});
  EXPECT_EQ(Events("data: a\n\n\n\ndata: b\n\n"),
            (EventList{Msg("a"), Msg("b")}));
}

TEST(SseParserTest, UnknownAndMisspelledFieldsAreIgnored) {
  EXPECT_EQ(Events("retry: 1000\nfoo: bar\nDATA: no\ndata : no\n data: no\n"
                   "dat: no\ndatax: no\ndata: yes\n\n"),
            EventList{Msg("yes")});
}

const std::string kBom = "\xEF\xBB\xBF";

TEST(SseParserTest, ByteOrderMarkIsStrippedOnlyAtStreamStart) {
  EXPECT_EQ(Events(kBom + "data: a\n\n"), EventList{Msg("a")});
  // A second BOM is text: here it makes the field name unknown.
  EXPECT_EQ(Events(kBom + kBom + "data: a\n\ndata: b\n\n"),
            EventList{Msg("b")});
  EXPECT_EQ(Events("data: a\n\n" + kBom + "data: b\n\n"), EventList{Msg("a")});
  EXPECT_EQ(Events(kBom + "data: " + kBom + "\n\n"), EventList{Msg(kBom)});
  // Part of a BOM is not one.
  EXPECT_EQ(Events(kBom.substr(0, 2) + "data: a\n\ndata: b\n\n"),
            EventList{Msg("b")});
  EXPECT_EQ(Events(kBom.substr(0, 1) + "\ndata: b\n\n"), EventList{Msg("b")});
}

TEST(SseParserTest, AllLineEndsWork) {
  const EventList want = {Msg("a\nb"), Msg("c")};
  EXPECT_EQ(Events("data: a\ndata: b\n\ndata: c\n\n"), want);
  EXPECT_EQ(Events("data: a\rdata: b\r\rdata: c\r\r"), want);
  EXPECT_EQ(Events("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), want);
  EXPECT_EQ(Events("data: a\r\ndata: b\n\rdata: c\r\r\n"), want);
  // CR then LF is one line end; LF then CR is two.
  EXPECT_EQ(Events("data: a\r\n"), EventList{});
  EXPECT_EQ(Events("data: a\n\r"), EventList{Msg("a")});
}

TEST(SseParserTest, DoneSentinelIsJustData) {
  EXPECT_EQ(Events("data: {\"x\":1}\n\ndata: [DONE]\n\n"),
            (EventList{Msg("{\"x\":1}"), Msg("[DONE]")}));
}

TEST(SseParserTest, Utf8PassesThroughUntouched) {
  EXPECT_EQ(Events("event: \xC3\xA9\ndata: \xE4\xB8\xAD\xF0\x9F\x98\x80\n\n"),
            EventList{Msg("\xE4\xB8\xAD\xF0\x9F\x98\x80", "\xC3\xA9")});
  // Invalid UTF-8 is not ours to repair.
  EXPECT_EQ(Events("data: \xFF\xC3\n\n"), EventList{Msg("\xFF\xC3")});
}

// Streams shaped like what the gateway reads, plus every edge the splitter
// could get wrong: CR/LF pairs, BOM, multi-byte characters, comments.
const char* const kSplitFixtures[] = {
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
    ": keep-alive\n\ndata: [DONE]\n\n",
    "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n"
    "event: ping\r\ndata: {}\r\n\r\nid: 9\r\ndata: a\r\ndata: b\r\n\r\n",
    "\xEF\xBB\xBF"
    "data: a\rdata: b\r\r\xEF\xBB\xBF"
    "data: c\n\n",
    "data: a\xF0\x9F\x98\x80z\r\n\r\ndata:\xF0\x9F\x98\x80\n\rdata\ndata\n\n",
    "\xEF\xBB\xBF\xEF\xBB\xBF"
    "data: x\r\n\r\n:c\rid: 1\n\nevent: e\r\r\n",
    "data: tail without blank line\r\ndata: more",
    "\xEF\xBB",
    "\r\n\r\n\n\r\r\ndata: a\r",
};

void ExpectSameResult(const Result& got, const Result& want,
                      const std::string& how) {
  EXPECT_EQ(got.events, want.events) << how;
  EXPECT_EQ(got.status, want.status) << how;
  EXPECT_EQ(got.pending, want.pending) << how;
}

TEST(SseParserTest, EveryTwoAndThreeChunkSplitMatchesOneChunk) {
  for (const std::string stream : kSplitFixtures) {
    SCOPED_TRACE(absl::CHexEscape(stream));
    const Result whole = ParseWhole(stream);
    ASSERT_TRUE(whole.status.ok()) << whole.status;
    for (size_t i = 0; i <= stream.size(); ++i) {
      ExpectSameResult(Parse({stream.substr(0, i), stream.substr(i)}), whole,
                       absl::StrCat("split at ", i));
      for (size_t j = i; j <= stream.size(); ++j) {
        ExpectSameResult(Parse({stream.substr(0, i), stream.substr(i, j - i),
                                stream.substr(j)}),
                         whole, absl::StrCat("split at ", i, " and ", j));
      }
    }
  }
}

TEST(SseParserTest, OneByteChunksMatchOneChunk) {
  for (const std::string stream : kSplitFixtures) {
    SCOPED_TRACE(absl::CHexEscape(stream));
    std::vector<std::string> bytes;
    for (char c : stream) bytes.push_back(std::string(1, c));
    ExpectSameResult(Parse(bytes), ParseWhole(stream), "1-byte chunks");
  }
}

// An empty chunk may be a null view (absl::string_view(), an empty vector's
// data()): memchr(nullptr, c, 0) is undefined behaviour, which UBSan
// (--config=ubsan, --config=fuzz) reports. Found by sse_parser_fuzzer.
TEST(SseParserTest, EmptyChunkWithNullDataIsNothing) {
  SseParser parser(1024);
  std::vector<std::string> data;
  auto collect = [&](const SseEvent& e) {
    data.emplace_back(e.data);
    return true;
  };
  ASSERT_TRUE(parser.Feed(absl::string_view(), collect).ok());
  ASSERT_TRUE(parser.Feed("data: a\r", collect).ok());
  ASSERT_TRUE(parser.Feed(absl::string_view(), collect).ok());
  ASSERT_TRUE(parser.Feed("\n\n", collect).ok());
  EXPECT_EQ(data, std::vector<std::string>{"a"});
}

TEST(SseParserTest, CrLfSplitBetweenCrAndLfIsOneLineEnd) {
  EXPECT_EQ(Parse({"data: a\r", "\ndata: b\r", "\n\r", "\n"}).events,
            EventList{Msg("a\nb")});
  // A CR closing a chunk still ends its line at once.
  EXPECT_EQ(Parse({"data: a\r\r"}).events, EventList{Msg("a")});
  EXPECT_EQ(Parse({"data: a\r", "\r"}).events, EventList{Msg("a")});
  // Only the very next byte can complete the pair; an empty chunk between
  // shows nothing.
  EXPECT_EQ(Parse({"data: a\r", "", "\n", "\n"}).events, EventList{Msg("a")});
}

TEST(SseParserTest, EmojiSplitAtEveryOffsetComesOutIntact) {
  const std::string emoji = "\xF0\x9F\x98\x80";
  const std::string stream = "data: <" + emoji + ">\r\n\r\n";
  for (size_t i = 0; i <= stream.size(); ++i) {
    EXPECT_EQ(Parse({stream.substr(0, i), stream.substr(i)}).events,
              EventList{Msg("<" + emoji + ">")})
        << "split at " << i;
  }
}

TEST(SseParserTest, BomSplitAcrossChunksIsStripped) {
  EXPECT_EQ(Parse({"\xEF", "\xBB", "\xBF", "data: a\n\n"}).events,
            EventList{Msg("a")});
  EXPECT_EQ(Parse({"\xEF", "", "\xBB\xBF", "data: a\n\n"}).events,
            EventList{Msg("a")});
  // The held bytes come back when the BOM turns out not to be one.
  EXPECT_EQ(Parse({"\xEF\xBB", "data: a\n\ndata: b\n\n"}).events,
            EventList{Msg("b")});
  EXPECT_EQ(Parse({"\xEF\xBB", "\n", "data: b\n\n"}).events,
            EventList{Msg("b")});
}

// Runs `on_event` over the events of feeding `chunks` (kept alive by the
// caller) to one parser.
template <typename F>
void FeedAll(SseParser& parser, const std::vector<absl::string_view>& chunks,
             F on_event) {
  for (absl::string_view chunk : chunks) {
    ASSERT_TRUE(parser.Feed(chunk, on_event).ok());
  }
}

bool Within(absl::string_view inner, absl::string_view outer) {
  return inner.data() >= outer.data() &&
         inner.data() + inner.size() <= outer.data() + outer.size();
}

TEST(SseParserTest, SingleLineDataInsideTheChunkIsNotCopied) {
  SseParser parser;
  const std::string chunk1 = "data: hello\n\ndata: spans";
  const std::string chunk2 = " chunks\n\ndata: again\n\ndata: a\ndata: b\n\n";
  std::vector<std::string> data;
  std::vector<bool> in_chunk;
  FeedAll(parser, {chunk1}, [&](const SseEvent& e) {
    data.push_back(std::string(e.data));
    in_chunk.push_back(Within(e.data, chunk1));
    return true;
  });
  FeedAll(parser, {chunk2}, [&](const SseEvent& e) {
    data.push_back(std::string(e.data));
    in_chunk.push_back(Within(e.data, chunk2));
    return true;
  });
  EXPECT_EQ(data, (std::vector<std::string>{"hello", "spans chunks", "again",
                                            "a\nb"}));
  EXPECT_EQ(in_chunk, (std::vector<bool>{true, false, true, false}));
}

TEST(SseParserTest, DataLineInOneChunkAndBlankLineInTheNextIsCopied) {
  // The view into the first chunk must not outlive it: Parse frees each
  // chunk after its Feed, so ASan would see a stale view.
  EXPECT_EQ(Parse({"data: first\n", "\n"}).events, EventList{Msg("first")});
  EXPECT_EQ(Parse({"data: a\n", "data: b\n", "\n"}).events,
            EventList{Msg("a\nb")});
}

TEST(SseParserTest, SteadyStateDoesNotAllocate) {
  // Long enough to defeat the small-string buffer, chunked so that lines,
  // data and an event straddle chunk boundaries.
  const std::string stream =
      "event: content_block_delta_with_a_long_name\n"
      "id: an-event-id-longer-than-sso-0001\n"
      "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"x\"}}\n\n"
      "data: first line of a multi-line event\ndata: second line\n\n"
      ": keep-alive comment\r\n"
      "data: a line that spans two chunks of the stream\r\n\r\n";
  std::vector<absl::string_view> chunks;
  for (size_t i = 0; i < stream.size(); i += 37) {
    chunks.push_back(absl::string_view(stream).substr(i, 37));
  }
  SseParser parser;
  size_t events = 0;
  auto count = [&](const SseEvent&) {
    ++events;
    return true;
  };
  FeedAll(parser, chunks, count);  // warm-up: buffers reach their size
  g_allocations = 0;
  g_count_allocations = true;
  for (int i = 0; i < 100; ++i) FeedAll(parser, chunks, count);
  g_count_allocations = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_EQ(events, 101u * 3);
}

TEST(SseParserTest, PartialLineGrowingForeverIsResourceExhausted) {
  SseParser parser(100);
  auto never = [](const SseEvent&) {
    ADD_FAILURE() << "no event expected";
    return true;
  };
  ASSERT_TRUE(parser.Feed("data: ", never).ok());
  absl::Status status;
  size_t fed = 6;
  while (status.ok() && fed <= 1000) {
    status = parser.Feed("0123456789", never);
    fed += 10;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(fed, 106u) << "fails on the first chunk past the limit";
  EXPECT_TRUE(absl::StrContains(status.message(), "max_event_bytes (100)"))
      << status;
  // The parser stays failed.
  EXPECT_EQ(parser.Feed("\n\n", never).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(SseParserTest, ManyDataLinesAreResourceExhausted) {
  std::vector<std::string> chunks(20, "data: 123456789\n");
  Result r = Parse(chunks, 100);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  EXPECT_TRUE(r.events.empty());
  // The same in one chunk: the limit does not depend on chunking.
  std::string whole;
  for (const std::string& c : chunks) whole += c;
  EXPECT_EQ(Parse({whole}, 100).status.code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(SseParserTest, LimitIsPerEventAndInclusive) {
  // "data: 1234" is 10 bytes: exactly at the limit is fine, and the budget
  // comes back after each dispatch.
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += "data: 1234\n\n";
  Result r = Parse({stream}, 10);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.events.size(), 50u);
  EXPECT_EQ(Parse({"data: 1234\n\n"}, 9).status.code(),
            absl::StatusCode::kResourceExhausted);
  // A second line counts on top of the data already buffered (4 bytes).
  EXPECT_TRUE(Parse({"data: 1234\n: 6789\n\n"}, 10).status.ok());
  EXPECT_EQ(Parse({"data: 1234\n: 67890\n\n"}, 10).status.code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(SseParserTest, ReturningFalseStopsAtOnce) {
  SseParser parser;
  std::vector<std::string> seen;
  absl::Status status =
      parser.Feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", [&](const SseEvent& e) {
        seen.push_back(std::string(e.data));
        return false;
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, std::vector<std::string>{"1"});

  seen.clear();
  SseParser second;
  status =
      second.Feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", [&](const SseEvent& e) {
        seen.push_back(std::string(e.data));
        return seen.size() < 2;
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2"}));
}

TEST(SseParserTest, HasPendingEvent) {
  SseParser parser;
  auto ignore = [](const SseEvent&) { return true; };
  EXPECT_FALSE(parser.HasPendingEvent());
  ASSERT_TRUE(parser.Feed("data: a", ignore).ok());
  EXPECT_TRUE(parser.HasPendingEvent()) << "partial line";
  ASSERT_TRUE(parser.Feed("\r", ignore).ok());
  EXPECT_TRUE(parser.HasPendingEvent()) << "data not dispatched";
  ASSERT_TRUE(parser.Feed("\n", ignore).ok());
  EXPECT_TRUE(parser.HasPendingEvent())
      << "LF completing CRLF is no blank line";
  ASSERT_TRUE(parser.Feed("\r\n", ignore).ok());
  EXPECT_FALSE(parser.HasPendingEvent()) << "dispatched";
  ASSERT_TRUE(parser.Feed(": keep-alive\n", ignore).ok());
  EXPECT_FALSE(parser.HasPendingEvent()) << "comments begin no event";
  ASSERT_TRUE(parser.Feed("event: x\n", ignore).ok());
  EXPECT_TRUE(parser.HasPendingEvent()) << "an event was begun";
  ASSERT_TRUE(parser.Feed("\n", ignore).ok());
  EXPECT_FALSE(parser.HasPendingEvent());
  ASSERT_TRUE(parser.Feed(":", ignore).ok());
  EXPECT_TRUE(parser.HasPendingEvent()) << "an unterminated comment";

  EXPECT_TRUE(Parse({"\xEF"}).pending) << "held BOM byte";
  EXPECT_FALSE(Parse({"\xEF\xBB\xBF"}).pending);
  EXPECT_FALSE(Parse({"data: [DONE]\n\n"}).pending);
  EXPECT_TRUE(Parse({"data: [DONE]\n"}).pending);
}

}  // namespace
}  // namespace llmgateway::http
