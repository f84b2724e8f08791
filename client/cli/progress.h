// A batch job's progress for a person: a bar redrawn in place on a
// terminal, or one plain line per change when stderr is a file or a pipe
// (CI logs, scripts).
#ifndef LLM_GATEWAY_CLIENT_CLI_PROGRESS_H_
#define LLM_GATEWAY_CLIENT_CLI_PROGRESS_H_

#include <cstdio>
#include <string>

#include "llmgateway/v1/batch_jobs.pb.h"

namespace llmgateway::cli {

// "[#########-----------]  45% 450/1000  ok 440  failed 10  RUNNING"
std::string ProgressBar(const llmgateway::v1::BatchJob& job, int width);

// "job J: RUNNING, 450 of 1000 done (440 succeeded, 10 failed)"
std::string ProgressLine(const llmgateway::v1::BatchJob& job);

class ProgressPrinter {
 public:
  ProgressPrinter(FILE* out, bool tty) : out_(out), tty_(tty) {}
  ~ProgressPrinter() { Finish(); }

  void Update(const llmgateway::v1::BatchJob& job);
  // Ends the bar's line (a no-op for plain lines).
  void Finish();

 private:
  FILE* out_;
  bool tty_;
  bool drawn_ = false;
};

}  // namespace llmgateway::cli

#endif  // LLM_GATEWAY_CLIENT_CLI_PROGRESS_H_
