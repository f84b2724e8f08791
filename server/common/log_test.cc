// The log writer (ordering, drops on a blocked fd, flush on stop, the
// synchronous path before start and after stop) and the plain line formats.
// Each writer test writes to a pipe it owns; "blocked" is a pipe nobody
// reads. No sleep stands in for synchronization: waits are on conditions.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/log.h"
#include "server/common/log_writer.h"

namespace llmgateway {
namespace {

class Pipe {
 public:
  Pipe() {
    EXPECT_EQ(pipe(fds_), 0);
    fcntl(fds_[0], F_SETFL, O_NONBLOCK);  // the test's reads never block
  }
  ~Pipe() {
    CloseWriteEnd();
    close(fds_[0]);
  }
  int write_fd() const { return fds_[1]; }
  void CloseWriteEnd() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
  }
  // Bytes waiting in the pipe.
  int Pending() const {
    int n = 0;
    ioctl(fds_[0], FIONREAD, &n);
    return n;
  }
  // Everything readable now.
  std::string ReadAvailable() {
    std::string out;
    char buffer[65536];
    ssize_t n;
    while ((n = read(fds_[0], buffer, sizeof(buffer))) > 0) out.append(buffer, n);
    return out;
  }
  // Everything until the write end is closed (a reader thread's loop).
  std::string ReadToEnd() {
    std::string out;
    while (true) {
      out += ReadAvailable();
      pollfd ready{fds_[0], POLLIN, 0};
      poll(&ready, 1, -1);
      if ((ready.revents & POLLIN) == 0 && (ready.revents & POLLHUP) != 0) break;
    }
    return out + ReadAvailable();
  }

 private:
  int fds_[2] = {-1, -1};
};

// Blocks until the writer has taken a line longer than the pipe can hold
// and sits in write(2) with the pipe full: any byte of it in the pipe says
// it left the queue.
void WaitUntilWriterIsStuck(const Pipe& pipe) {
  while (pipe.Pending() == 0) std::this_thread::yield();
}

std::string BigLine(const Pipe& pipe) {
  return std::string(2 * fcntl(pipe.write_fd(), F_GETPIPE_SZ) + 10, 'x') + "\n";
}

LogWriter::Options To(const Pipe& pipe) {
  LogWriter::Options options;
  options.fd = pipe.write_fd();
  return options;
}

TEST(LogWriterTest, WritesSynchronouslyBeforeStartAndAfterStop) {
  Pipe pipe;
  LogWriter writer(To(pipe));
  writer.Write("before\n");
  EXPECT_EQ(pipe.ReadAvailable(), "before\n");
  writer.Start();
  writer.Write("during\n");
  writer.Stop();
  EXPECT_EQ(pipe.ReadAvailable(), "during\n");
  writer.Write("after\n");
  EXPECT_EQ(pipe.ReadAvailable(), "after\n");
  EXPECT_EQ(writer.dropped(), 0u);
}

TEST(LogWriterTest, StopWritesEverythingQueued) {
  Pipe pipe;
  LogWriter writer(To(pipe));
  writer.Start();
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string line = absl::StrCat("line ", i, "\n");
    expected += line;
    writer.Write(std::move(line));
  }
  writer.Stop();  // 1000 short lines fit in the pipe: nothing needs reading
  EXPECT_EQ(pipe.ReadAvailable(), expected);
  EXPECT_EQ(writer.dropped(), 0u);
}

TEST(LogWriterTest, KeepsEachThreadsOrderAndLinesWhole) {
  Pipe pipe;
  LogWriter::Options options = To(pipe);
  options.max_lines = 1 << 20;  // this test is about order, not drops
  options.max_bytes = 64 << 20;
  LogWriter writer(options);
  writer.Start();
  std::string output;
  std::thread reader([&] { output = pipe.ReadToEnd(); });
  constexpr int kThreads = 4;
  constexpr int kLines = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&writer, t] {
      for (int i = 0; i < kLines; ++i) {
        writer.Write(absl::StrCat("t", t, " ", i, " ", std::string(i % 97, 'p'), "\n"));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  writer.Stop();
  pipe.CloseWriteEnd();
  reader.join();

  int next[kThreads] = {};
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(' ', 2));
    ASSERT_EQ(f.size(), 3u) << line;
    const int t = f[0][1] - '0';
    ASSERT_TRUE(t >= 0 && t < kThreads) << line;
    ASSERT_EQ(f[1], absl::StrCat(next[t])) << "thread " << t << " out of order";
    EXPECT_EQ(f[2], std::string(next[t] % 97, 'p')) << line;
    ++next[t];
    ++lines;
  }
  EXPECT_EQ(lines, kThreads * kLines);
  EXPECT_EQ(writer.dropped(), 0u);
}

TEST(LogWriterTest, AFullQueueDropsCountsAndReportsLines) {
  Pipe pipe;
  std::atomic<int> on_drop_calls{0};
  LogWriter::Options options = To(pipe);
  options.max_lines = 4;
  options.on_drop = [&] { on_drop_calls.fetch_add(1); };
  LogWriter writer(options);
  writer.Start();
  const std::string big = BigLine(pipe);
  writer.Write(big);
  WaitUntilWriterIsStuck(pipe);

  // Nobody reads: every Write returns at once, 4 queued and 10 dropped.
  for (int i = 0; i < 14; ++i) writer.Write(absl::StrCat("l", i, "\n"));
  EXPECT_EQ(writer.dropped(), 10u);
  EXPECT_EQ(on_drop_calls.load(), 10);
  EXPECT_FALSE(writer.Flush(absl::Milliseconds(1)));

  std::string output;
  std::thread reader([&] { output = pipe.ReadToEnd(); });
  EXPECT_TRUE(writer.Flush(absl::InfiniteDuration()));
  writer.Stop();
  pipe.CloseWriteEnd();
  reader.join();
  EXPECT_EQ(output, big + "l0\nl1\nl2\nl3\n10 log lines dropped\n");
  EXPECT_EQ(writer.dropped(), 10u);
}

TEST(LogWriterTest, TheByteBoundDropsToo) {
  Pipe pipe;
  const std::string big = BigLine(pipe);
  LogWriter::Options options = To(pipe);
  options.max_bytes = big.size();
  options.dropped_line = [](uint64_t n) { return absl::StrCat("lost ", n, "\n"); };
  LogWriter writer(options);
  writer.Start();
  writer.Write(big);  // exactly the bound
  WaitUntilWriterIsStuck(pipe);

  const std::string a = std::string(big.size() - 5, 'a') + "\n";
  writer.Write(a);         // the bound less 4 bytes
  writer.Write("1234\n");  // 5 more: over it, dropped
  writer.Write("123\n");   // 4 more: exactly at it
  EXPECT_EQ(writer.dropped(), 1u);

  std::string output;
  std::thread reader([&] { output = pipe.ReadToEnd(); });
  writer.Stop();
  pipe.CloseWriteEnd();
  reader.join();
  EXPECT_EQ(output, big + a + "123\n" + "lost 1\n");
}

TEST(LogWriterTest, ReportsADropEvenWhenNothingElseIsQueued) {
  Pipe pipe;
  LogWriter::Options options = To(pipe);
  options.max_bytes = 4;
  LogWriter writer(options);
  writer.Start();
  writer.Write("too long\n");
  EXPECT_EQ(writer.dropped(), 1u);
  writer.Stop();
  EXPECT_EQ(pipe.ReadAvailable(), "1 log lines dropped\n");
}

TEST(LogWriterTest, CanStartAgainAfterStop) {
  Pipe pipe;
  LogWriter writer(To(pipe));
  writer.Start();
  writer.Write("a\n");
  writer.Stop();
  writer.Start();
  writer.Write("b\n");
  EXPECT_TRUE(writer.Flush(absl::InfiniteDuration()));
  EXPECT_EQ(pipe.ReadAvailable(), "a\nb\n");
}

// Whether `text` reaches the pipe within `within`.
bool Arrives(Pipe& pipe, std::string* seen, absl::string_view text, absl::Duration within) {
  const absl::Time deadline = absl::Now() + within;
  while (true) {
    *seen += pipe.ReadAvailable();
    if (absl::StrContains(*seen, text)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

TEST(LogWriterTest, BatchesLinesBehindAWriteOutUntilTheWindowEnds) {
  Pipe pipe;
  LogWriter::Options options = To(pipe);
  options.batch_window = absl::Hours(1);
  LogWriter writer(options);
  writer.Start();
  std::string seen;
  // Into an idle writer: out at once.
  writer.Write("first\n");
  ASSERT_TRUE(Arrives(pipe, &seen, "first\n", absl::Seconds(30)));
  // The writer now gathers for an hour: these wait...
  writer.Write("second\n");
  writer.Write("third\n");
  EXPECT_FALSE(Arrives(pipe, &seen, "second", absl::Milliseconds(200)));
  // ...until a Flush cuts the window short.
  EXPECT_TRUE(writer.Flush(absl::InfiniteDuration()));
  EXPECT_TRUE(Arrives(pipe, &seen, "second\nthird\n", absl::Seconds(30)));
  // So does Stop.
  writer.Write("fourth\n");
  writer.Stop();
  EXPECT_TRUE(Arrives(pipe, &seen, "fourth\n", absl::Seconds(30)));
  EXPECT_EQ(seen, "first\nsecond\nthird\nfourth\n");
}

TEST(LogWriterTest, AHalfFullQueueCutsTheWindowShort) {
  Pipe pipe;
  LogWriter::Options options = To(pipe);
  options.batch_window = absl::Hours(1);
  options.max_lines = 8;
  LogWriter writer(options);
  writer.Start();
  std::string seen;
  writer.Write("0\n");
  ASSERT_TRUE(Arrives(pipe, &seen, "0\n", absl::Seconds(30)));
  for (int i = 1; i <= 3; ++i) writer.Write(absl::StrCat(i, "\n"));
  EXPECT_FALSE(Arrives(pipe, &seen, "1\n", absl::Milliseconds(200)));
  writer.Write("4\n");  // the fourth waiting line: half of max_lines
  EXPECT_TRUE(Arrives(pipe, &seen, "1\n2\n3\n4\n", absl::Seconds(30)));
  EXPECT_EQ(writer.dropped(), 0u);
}

TEST(LogFormatTest, ParsesItsNames) {
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &format));
  EXPECT_EQ(format, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("JSON", &format));
  EXPECT_FALSE(ParseLogFormat("", &format));
}

const absl::Time kTime = absl::FromUnixMillis(1714564800123);  // 2024-05-01T12:00:00.123Z

TEST(LogFormatTest, TextLine) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kInfo, kTime, "serving 1 provider(s)"),
            "2024-05-01T12:00:00.123Z INFO serving 1 provider(s)\n");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kWarning, kTime, "w"),
            "2024-05-01T12:00:00.123Z WARN w\n");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kError, kTime, "e"),
            "2024-05-01T12:00:00.123Z ERROR e\n");
}

TEST(LogFormatTest, JsonLine) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, LogLevel::kWarning, kTime,
                          "job \"a\"\nfailed"),
            "{\"time\":\"2024-05-01T12:00:00.123Z\",\"level\":\"WARN\","
            "\"msg\":\"job \\\"a\\\"\\nfailed\"}\n");
}

std::string Json(absl::string_view value) {
  std::string out;
  AppendJsonString(value, &out);
  return out;
}

TEST(JsonStringTest, EscapesWhatCouldEndTheStringOrTheLine) {
  EXPECT_EQ(Json(""), "\"\"");
  EXPECT_EQ(Json("plain text 123"), "\"plain text 123\"");
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Json(std::string("\0\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(Json("x\"}\n{\"level\":\"ERROR\""), "\"x\\\"}\\n{\\\"level\\\":\\\"ERROR\\\"\"");
  // U+2028 and U+2029 end lines in JavaScript.
  EXPECT_EQ(Json("a\xe2\x80\xa8" "b\xe2\x80\xa9"), "\"a\\u2028b\\u2029\"");
}

TEST(JsonStringTest, KeepsValidUtf8AndReplacesEveryInvalidByte) {
  EXPECT_EQ(Json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Json("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(Json("a\x80" "b"), "\"a\\ufffdb\"");              // lone continuation byte
  EXPECT_EQ(Json("\xc0\xaf"), "\"\\ufffd\\ufffd\"");           // overlong '/'
  EXPECT_EQ(Json("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");  // overlong, 3 bytes
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
  EXPECT_EQ(Json("\xe2\x82"), "\"\\ufffd\\ufffd\"");            // cut short at the end
  EXPECT_EQ(Json("\xe2\x82\"x"), "\"\\ufffd\\ufffd\\\"x\"");    // cut short by a quote
}

}  // namespace
}  // namespace llmgateway
