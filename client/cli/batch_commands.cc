// llmgw batch submit | status | results | cancel | list: durable batch jobs
// from and to files in OpenAI's batch JSONL shapes.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "client/batch_jsonl.h"
#include "client/cli/cli.h"
#include "client/cli/progress.h"

namespace llmgateway::cli {
namespace {

namespace v1 = ::llmgateway::v1;

int Usage(Command& command, const char* text) {
  absl::FPrintF(command.err, "usage: llmgw batch %s\n", text);
  return kUsageExit;
}

// A job that ended FAILED exits with its error's code (UNKNOWN without one),
// CANCELLED with CANCELLED; SUCCEEDED, even with failed items, with 0: the
// failed items are in the results.
int JobExit(const v1::BatchJob& job) {
  switch (job.state()) {
    case v1::BatchJob::STATE_FAILED:
      return job.error().code() != 0 ? job.error().code() : static_cast<int>(absl::StatusCode::kUnknown);
    case v1::BatchJob::STATE_CANCELLED:
      return static_cast<int>(absl::StatusCode::kCancelled);
    default:
      return 0;
  }
}

void PrintJob(Command& command, const v1::BatchJob& job) {
  if (command.flags.json) {
    absl::FPrintF(command.out, "%s\n", ToJson(job));
  } else {
    absl::FPrintF(command.out, "%s\n", ProgressLine(job));
    if (job.has_error()) absl::FPrintF(command.out, "  error: %s\n", job.error().message());
  }
}

// Waits with progress on stderr; the ended job, or the error.
absl::StatusOr<v1::BatchJob> Wait(Command& command, const std::string& id) {
  ProgressPrinter progress(command.err, command.flags.progress_tty);
  client::WaitOptions wait;
  wait.poll_interval = command.flags.poll_interval;
  return command.client.WaitForBatchJob(id, wait,
                                        [&](const v1::BatchJob& job) { progress.Update(job); });
}

int Submit(Command& command) {
  if (command.args.size() != 2) return Usage(command, "submit FILE.jsonl");
  const std::string& path = command.args[1];
  std::ifstream file(path);
  if (!file) {
    return ReportError(command.err, absl::NotFoundError(absl::StrCat("cannot open ", path)));
  }
  v1::CreateBatchJobRequest request;
  if (absl::Status read = client::ReadBatchInput(file, &request); !read.ok()) {
    return ReportError(command.err, absl::Status(read.code(), absl::StrCat(path, ": ", read.message())));
  }
  if (request.items().empty()) {
    return ReportError(command.err, absl::InvalidArgumentError(absl::StrCat(path, ": no items")));
  }
  const CliFlags& f = command.flags;
  request.set_display_name(f.display_name.empty() ? path.substr(path.rfind('/') + 1) : f.display_name);
  request.set_max_concurrency(f.max_concurrency);
  request.set_request_id(f.request_id);
  request.mutable_labels()->insert(f.labels.begin(), f.labels.end());
  absl::StatusOr<v1::BatchJob> job = command.client.CreateBatchJob(std::move(request));
  if (!job.ok()) return ReportError(command.err, job.status());
  if (!f.wait) {
    // The id alone on stdout: ID=$(llmgw batch submit f.jsonl) works.
    absl::FPrintF(command.out, "%s\n", f.json ? ToJson(*job) : job->id());
    return 0;
  }
  absl::FPrintF(command.err, "submitted %s (%d items)\n", job->id(), job->total_count());
  absl::StatusOr<v1::BatchJob> ended = Wait(command, job->id());
  if (!ended.ok()) return ReportError(command.err, ended.status());
  PrintJob(command, *ended);
  return JobExit(*ended);
}

int Status(Command& command) {
  if (command.args.size() != 2) return Usage(command, "status ID [--wait]");
  absl::StatusOr<v1::BatchJob> job = command.flags.wait ? Wait(command, command.args[1])
                                                        : command.client.GetBatchJob(command.args[1]);
  if (!job.ok()) return ReportError(command.err, job.status());
  PrintJob(command, *job);
  return command.flags.wait ? JobExit(*job) : 0;
}

int Results(Command& command) {
  if (command.args.size() != 2) {
    return Usage(command, "results ID [--wait] [--start_index=N] [--output=FILE]");
  }
  const std::string& id = command.args[1];
  absl::StatusOr<v1::BatchJob> job =
      command.flags.wait ? Wait(command, id) : command.client.GetBatchJob(id);
  if (!job.ok()) return ReportError(command.err, job.status());

  FILE* out = command.out;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &std::fclose);
  if (!command.flags.output.empty()) {
    // Appending: a resumed read (--start_index) continues the same file.
    file.reset(std::fopen(command.flags.output.c_str(), command.flags.start_index > 0 ? "a" : "w"));
    if (!file) {
      return ReportError(command.err, absl::PermissionDeniedError(absl::StrCat(
                                          "cannot write ", command.flags.output)));
    }
    out = file.get();
  }
  int resume_at = command.flags.start_index;
  absl::StatusOr<int> next = command.client.ReadBatchJobResults(
      id, command.flags.start_index, [&](const v1::BatchJobResult& result) {
        absl::FPrintF(out, "%s\n", client::FormatBatchOutputLine(id, result));
        resume_at = result.index() + 1;
      });
  std::fflush(out);
  if (!next.ok()) {
    ReportError(command.err, next.status());
    absl::FPrintF(command.err, "resume with --start_index=%d\n", resume_at);
    return ExitCode(next.status());
  }
  if (*next < job->total_count() && !client::IsTerminal(job->state())) {
    absl::FPrintF(command.err,
                  "job %s is still running: results before index %d so far; resume with "
                  "--start_index=%d, or wait with --wait\n",
                  id, *next, *next);
  }
  return 0;
}

int Cancel(Command& command) {
  if (command.args.size() != 2) return Usage(command, "cancel ID");
  absl::StatusOr<v1::BatchJob> job = command.client.CancelBatchJob(command.args[1]);
  if (!job.ok()) return ReportError(command.err, job.status());
  PrintJob(command, *job);
  return 0;
}

int List(Command& command) {
  if (command.args.size() != 1) return Usage(command, "list");
  std::string token;
  do {
    absl::StatusOr<v1::ListBatchJobsResponse> page = command.client.ListBatchJobs(100, token);
    if (!page.ok()) return ReportError(command.err, page.status());
    for (const v1::BatchJob& job : page->jobs()) {
      if (command.flags.json) {
        absl::FPrintF(command.out, "%s\n", ToJson(job));
      } else {
        absl::FPrintF(command.out, "%s\t%s\n", ProgressLine(job), job.display_name());
      }
    }
    token = page->next_page_token();
  } while (!token.empty());
  return 0;
}

}  // namespace

int RunBatch(Command& command) {
  const std::string sub = command.args.empty() ? "" : command.args[0];
  if (sub == "submit") return Submit(command);
  if (sub == "status") return Status(command);
  if (sub == "results") return Results(command);
  if (sub == "cancel") return Cancel(command);
  if (sub == "list") return List(command);
  return Usage(command, "submit|status|results|cancel|list ...");
}

}  // namespace llmgateway::cli
