#include "client/cli/progress.h"

#include "absl/strings/str_format.h"

namespace llmgateway::cli {
namespace {

namespace v1 = ::llmgateway::v1;

std::string StateName(v1::BatchJob::State state) {
  std::string name = v1::BatchJob::State_Name(state);
  return name.substr(name.find('_') + 1);  // STATE_RUNNING -> RUNNING
}

}  // namespace

std::string ProgressBar(const v1::BatchJob& job, int width) {
  const int64_t done = job.succeeded_count() + job.failed_count();
  const int64_t total = job.total_count();
  const int filled = total > 0 ? static_cast<int>(done * width / total) : 0;
  return absl::StrFormat("[%s%s] %3d%% %d/%d  ok %d  failed %d  %s", std::string(filled, '#'),
                         std::string(width - filled, '-'),
                         total > 0 ? static_cast<int>(done * 100 / total) : 0, done, total,
                         job.succeeded_count(), job.failed_count(), StateName(job.state()));
}

std::string ProgressLine(const v1::BatchJob& job) {
  return absl::StrFormat("job %s: %s, %d of %d done (%d succeeded, %d failed)", job.id(),
                         StateName(job.state()), job.succeeded_count() + job.failed_count(),
                         job.total_count(), job.succeeded_count(), job.failed_count());
}

void ProgressPrinter::Update(const v1::BatchJob& job) {
  if (tty_) {
    // \r and erase-to-end: the bar rewrites its own line.
    absl::FPrintF(out_, "\r%s\033[K", ProgressBar(job, 30));
    drawn_ = true;
  } else {
    absl::FPrintF(out_, "%s\n", ProgressLine(job));
  }
  std::fflush(out_);
}

void ProgressPrinter::Finish() {
  if (drawn_) absl::FPrintF(out_, "\n");
  drawn_ = false;
}

}  // namespace llmgateway::cli
