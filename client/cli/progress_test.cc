#include "client/cli/progress.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace llmgateway::cli {
namespace {

namespace v1 = ::llmgateway::v1;

v1::BatchJob Job(int64_t total, int64_t ok, int64_t failed, v1::BatchJob::State state) {
  v1::BatchJob job;
  job.set_id("j1");
  job.set_total_count(total);
  job.set_succeeded_count(ok);
  job.set_failed_count(failed);
  job.set_state(state);
  return job;
}

TEST(ProgressTest, BarFillsWithDoneItems) {
  EXPECT_EQ(ProgressBar(Job(10, 4, 1, v1::BatchJob::STATE_RUNNING), 10),
            "[#####-----]  50% 5/10  ok 4  failed 1  RUNNING");
  EXPECT_EQ(ProgressBar(Job(0, 0, 0, v1::BatchJob::STATE_QUEUED), 4), "[----]   0% 0/0  ok 0  failed 0  QUEUED");
  EXPECT_EQ(ProgressBar(Job(3, 3, 0, v1::BatchJob::STATE_SUCCEEDED), 3),
            "[###] 100% 3/3  ok 3  failed 0  SUCCEEDED");
}

TEST(ProgressTest, LineSaysEverythingInWords) {
  EXPECT_EQ(ProgressLine(Job(10, 4, 1, v1::BatchJob::STATE_RUNNING)),
            "job j1: RUNNING, 5 of 10 done (4 succeeded, 1 failed)");
}

std::string Printed(bool tty) {
  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  {
    ProgressPrinter printer(out, tty);
    printer.Update(Job(2, 1, 0, v1::BatchJob::STATE_RUNNING));
    printer.Update(Job(2, 2, 0, v1::BatchJob::STATE_SUCCEEDED));
  }
  std::fclose(out);
  std::string text(buffer, size);
  free(buffer);
  return text;
}

TEST(ProgressTest, PlainLinesOffATerminalAndOneRedrawnLineOnIt) {
  EXPECT_EQ(Printed(false),
            "job j1: RUNNING, 1 of 2 done (1 succeeded, 0 failed)\n"
            "job j1: SUCCEEDED, 2 of 2 done (2 succeeded, 0 failed)\n");
  const std::string tty = Printed(true);
  EXPECT_EQ(tty.find('\n'), tty.size() - 1);  // one line, ended once
  EXPECT_NE(tty.find("\r[###############---------------]  50%"), std::string::npos);
  EXPECT_NE(tty.find("\r[##############################] 100%"), std::string::npos);
}

}  // namespace
}  // namespace llmgateway::cli
