// SQLite schema, migrations and queries of the batch job store.
#include "server/batch/job_store.h"

#include <exception>
#include <limits>
#include <utility>

#include "SQLiteCpp/SQLiteCpp.h"
#include "sqlite3.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "server/common/status_details.h"

namespace llmgateway::batch {
namespace {

using ::llmgateway::v1::BatchJob;
using ::llmgateway::v1::BatchJobResult;
using ::llmgateway::v1::Usage;

// Version 1. A later version adds a step to Migrate; a store written by a
// newer build is refused rather than misread.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: page tokens stay valid
  id TEXT NOT NULL UNIQUE,
  request_id TEXT UNIQUE,                 -- NULL when the caller gave none
  state INTEGER NOT NULL,
  total_count INTEGER NOT NULL,
  succeeded_count INTEGER NOT NULL DEFAULT 0,
  failed_count INTEGER NOT NULL DEFAULT 0,
  max_concurrency INTEGER NOT NULL,
  create_time INTEGER NOT NULL,           -- microseconds since the Unix epoch
  start_time INTEGER,
  update_time INTEGER NOT NULL,
  end_time INTEGER,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens INTEGER NOT NULL DEFAULT 0,
  cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  info BLOB NOT NULL,                     -- a BatchJob with display_name and labels
  error BLOB                              -- google.rpc.Status, when FAILED
);
CREATE INDEX jobs_by_end_time ON jobs(end_time) WHERE end_time IS NOT NULL;
CREATE TABLE items (
  job_seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  custom_id TEXT NOT NULL,
  request BLOB NOT NULL,                  -- llmgateway.v1.GenerateRequest
  PRIMARY KEY (job_seq, idx)
);
CREATE TABLE results (
  job_seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  succeeded INTEGER NOT NULL,
  result BLOB NOT NULL,                   -- llmgateway.v1.BatchJobResult
  PRIMARY KEY (job_seq, idx)              -- each item's result exactly once
);
)sql";

// Version 2: a job belongs to the caller's key that created it (`owner`, ""
// with auth off), and request ids are unique per owner. SQLite cannot drop
// a column's UNIQUE in place, so the table is rebuilt (its documented way).
constexpr const char* kMigrateV1ToV2 = R"sql(
ALTER TABLE jobs RENAME TO jobs_v1;
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL DEFAULT '',         -- the caller's key id; '' with auth off
  request_id TEXT,                        -- NULL when the caller gave none
  state INTEGER NOT NULL,
  total_count INTEGER NOT NULL,
  succeeded_count INTEGER NOT NULL DEFAULT 0,
  failed_count INTEGER NOT NULL DEFAULT 0,
  max_concurrency INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  start_time INTEGER,
  update_time INTEGER NOT NULL,
  end_time INTEGER,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens INTEGER NOT NULL DEFAULT 0,
  cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  info BLOB NOT NULL,
  error BLOB,
  UNIQUE (owner, request_id)
);
INSERT INTO jobs (seq, id, request_id, state, total_count, succeeded_count, failed_count,
                  max_concurrency, create_time, start_time, update_time, end_time,
                  prompt_tokens, completion_tokens, total_tokens, cached_prompt_tokens,
                  cache_write_tokens, reasoning_tokens, info, error)
  SELECT seq, id, request_id, state, total_count, succeeded_count, failed_count,
         max_concurrency, create_time, start_time, update_time, end_time,
         prompt_tokens, completion_tokens, total_tokens, cached_prompt_tokens,
         cache_write_tokens, reasoning_tokens, info, error FROM jobs_v1;
DROP TABLE jobs_v1;
CREATE INDEX jobs_by_end_time ON jobs(end_time) WHERE end_time IS NOT NULL;
CREATE INDEX jobs_by_owner ON jobs(owner, seq);
)sql";

constexpr const char* kJobColumns =
    "seq, id, state, total_count, succeeded_count, failed_count, max_concurrency, "
    "create_time, start_time, update_time, end_time, prompt_tokens, completion_tokens, "
    "total_tokens, cached_prompt_tokens, cache_write_tokens, reasoning_tokens, info, error";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

void SetTimestamp(SQLite::Column column, google::protobuf::Timestamp* out) {
  const int64_t micros = column.getInt64();
  out->set_seconds(micros / 1'000'000);
  out->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
}

template <typename Message>
bool ParseBlob(SQLite::Column column, Message* out) {
  return out->ParseFromArray(column.getBlob(), column.getBytes());
}

bool IsEnded(State state) {
  return state == BatchJob::STATE_SUCCEEDED || state == BatchJob::STATE_FAILED ||
         state == BatchJob::STATE_CANCELLED;
}

// Page tokens are opaque to callers: the seq of the last job listed.
std::string PageToken(int64_t seq) {
  return absl::WebSafeBase64Escape(absl::StrCat("after:", seq));
}

std::optional<int64_t> ParsePageToken(absl::string_view token) {
  std::string text;
  int64_t seq = 0;
  if (!absl::WebSafeBase64Unescape(token, &text)) return std::nullopt;
  absl::string_view rest = text;
  if (!absl::ConsumePrefix(&rest, "after:") || !absl::SimpleAtoi(rest, &seq) || seq <= 0) {
    return std::nullopt;
  }
  return seq;
}

// Start-up errors name the path, and say plainly when another process holds
// the store.
absl::Status StartupError(absl::string_view path, absl::string_view what,
                          const std::exception& e) {
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  if (sqlite != nullptr && (sqlite->getErrorCode() == SQLITE_BUSY ||
                            sqlite->getErrorCode() == SQLITE_LOCKED)) {
    return absl::UnavailableError(absl::StrCat(
        "batch store ", path,
        ": in use by another process (each gateway needs its own --batch_store)"));
  }
  return absl::UnavailableError(absl::StrCat("batch store ", path, ": ", what, ": ", e.what()));
}

std::string NewJobId() {
  absl::BitGen bits;
  return absl::StrFormat("batch_%016x%08x", absl::Uniform<uint64_t>(bits),
                         absl::Uniform<uint32_t>(bits));
}


BatchJob JobFromRow(SQLite::Statement& row) {
  BatchJob job;
  ParseBlob(row.getColumn(17), &job);  // display_name, labels
  job.set_id(row.getColumn(1).getString());
  job.set_state(static_cast<State>(row.getColumn(2).getInt()));
  job.set_total_count(row.getColumn(3).getInt64());
  job.set_succeeded_count(row.getColumn(4).getInt64());
  job.set_failed_count(row.getColumn(5).getInt64());
  SetTimestamp(row.getColumn(7), job.mutable_create_time());
  if (!row.getColumn(8).isNull()) SetTimestamp(row.getColumn(8), job.mutable_start_time());
  SetTimestamp(row.getColumn(9), job.mutable_update_time());
  if (!row.getColumn(10).isNull()) SetTimestamp(row.getColumn(10), job.mutable_end_time());
  Usage* usage = job.mutable_usage();
  usage->set_prompt_tokens(row.getColumn(11).getInt64());
  usage->set_completion_tokens(row.getColumn(12).getInt64());
  usage->set_total_tokens(row.getColumn(13).getInt64());
  usage->set_cached_prompt_tokens(row.getColumn(14).getInt64());
  usage->set_cache_write_tokens(row.getColumn(15).getInt64());
  usage->set_reasoning_tokens(row.getColumn(16).getInt64());
  if (!row.getColumn(18).isNull()) ParseBlob(row.getColumn(18), job.mutable_error());
  return job;
}

JobRow RowFrom(SQLite::Statement& row) {
  JobRow job;
  job.seq = row.getColumn(0).getInt64();
  job.id = row.getColumn(1).getString();
  job.state = static_cast<State>(row.getColumn(2).getInt());
  job.total_count = row.getColumn(3).getInt64();
  job.succeeded_count = row.getColumn(4).getInt64();
  job.failed_count = row.getColumn(5).getInt64();
  job.max_concurrency = row.getColumn(6).getInt();
  return job;
}

absl::Status NoSuchJob(absl::string_view id) {
  return WithErrorInfo(
      absl::NotFoundError(absl::StrCat("batch job \"", absl::CHexEscape(id), "\" not found")),
      "BATCH_JOB_NOT_FOUND");
}

}  // namespace

JobStore::JobStore(std::string path, std::unique_ptr<SQLite::Database> db)
    : path_(std::move(path)), db_(std::move(db)) {}

JobStore::~JobStore() = default;

absl::Status JobStore::Error(absl::string_view what, const std::exception& e) const {
  return absl::InternalError(absl::StrCat("batch store ", path_, ": ", what, ": ", e.what()));
}

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  std::unique_ptr<JobStore> store;
  try {
    auto db = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    store.reset(new JobStore(path, std::move(db)));
    // One process owns the store; the lock is taken by the first write
    // below and held until close (the kernel drops it if we die).
    store->db_->exec("PRAGMA locking_mode = EXCLUSIVE");
    store->db_->exec("PRAGMA journal_mode = WAL");
    store->db_->exec("PRAGMA synchronous = FULL");
  } catch (const std::exception& e) {
    return StartupError(path, "cannot open", e);
  }
  if (absl::Status migrated = store->Migrate(); !migrated.ok()) return migrated;
  try {
    store->Prepare();
  } catch (const std::exception& e) {
    return store->Error("cannot prepare statements", e);
  }
  return store;
}

absl::Status JobStore::Migrate() {
  try {
    // An immediate transaction takes the write lock at once: an unwritable
    // file or a store in use by another gateway fails start-up here.
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const int version = db_->execAndGet("PRAGMA user_version").getInt();
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "batch store ", path_, ": schema version ", version,
          " is newer than this gateway's (", kSchemaVersion, ")"));
    }
    if (version < 1) db_->exec(kSchemaV1);
    if (version < 2) {
      // Sequence numbers are never reused (page tokens stay valid), swept
      // jobs' included: carry the old table's counter over.
      // (Read before the rebuild: an open statement would lock the table.)
      const int64_t last_seq =
          db_->execAndGet("SELECT IFNULL(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'jobs'")
              .getInt64();
      db_->exec(kMigrateV1ToV2);
      db_->exec(absl::StrCat(
          "DELETE FROM sqlite_sequence WHERE name = 'jobs'; "
          "INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs', MAX(",
          last_seq, ", IFNULL((SELECT MAX(seq) FROM jobs), 0))"));
    }
    db_->exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion));
    transaction.commit();
  } catch (const std::exception& e) {
    return StartupError(path_, "cannot write", e);
  }
  return absl::OkStatus();
}

void JobStore::Prepare() {
  insert_result_ = std::make_unique<SQLite::Statement>(
      *db_, "INSERT OR IGNORE INTO results (job_seq, idx, succeeded, result) VALUES (?, ?, ?, ?)");
  add_counts_ = std::make_unique<SQLite::Statement>(
      *db_,
      "UPDATE jobs SET succeeded_count = succeeded_count + ?2, failed_count = failed_count + ?3, "
      "prompt_tokens = prompt_tokens + ?4, completion_tokens = completion_tokens + ?5, "
      "total_tokens = total_tokens + ?6, cached_prompt_tokens = cached_prompt_tokens + ?7, "
      "cache_write_tokens = cache_write_tokens + ?8, reasoning_tokens = reasoning_tokens + ?9, "
      "update_time = ?10 WHERE seq = ?1");
  pending_items_ = std::make_unique<SQLite::Statement>(
      *db_,
      "SELECT idx, custom_id, request FROM items i WHERE job_seq = ?1 AND idx >= ?2 "
      "AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_seq = ?1 AND r.idx = i.idx) "
      "ORDER BY idx LIMIT ?3");
}

absl::StatusOr<JobStore::Created> JobStore::CreateJob(
    const llmgateway::v1::CreateBatchJobRequest& request, int max_concurrency, absl::Time now,
    absl::string_view owner) {
  try {
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    if (!request.request_id().empty()) {
      SQLite::Statement existing(
          *db_, absl::StrCat("SELECT ", kJobColumns,
                             " FROM jobs WHERE owner = ? AND request_id = ?"));
      existing.bind(1, std::string(owner));
      existing.bind(2, request.request_id());
      if (existing.executeStep()) {
        Created found;
        found.seq = existing.getColumn(0).getInt64();
        found.job = JobFromRow(existing);
        return found;
      }
    }
    BatchJob info;
    info.set_display_name(request.display_name());
    *info.mutable_labels() = request.labels();
    const std::string info_blob = info.SerializeAsString();
    SQLite::Statement insert_job(
        *db_,
        "INSERT INTO jobs (id, request_id, state, total_count, max_concurrency, create_time, "
        "update_time, info, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert_job.bind(1, NewJobId());
    if (request.request_id().empty()) {
      insert_job.bind(2);  // NULL: UNIQUE does not apply
    } else {
      insert_job.bind(2, request.request_id());
    }
    insert_job.bind(3, static_cast<int>(BatchJob::STATE_QUEUED));
    insert_job.bind(4, static_cast<int64_t>(request.items_size()));
    insert_job.bind(5, max_concurrency);
    insert_job.bind(6, Micros(now));
    insert_job.bind(7, Micros(now));
    insert_job.bindNoCopy(8, info_blob.data(), static_cast<int>(info_blob.size()));
    insert_job.bind(9, std::string(owner));
    insert_job.exec();
    const int64_t seq = db_->getLastInsertRowid();

    SQLite::Statement insert_item(
        *db_, "INSERT INTO items (job_seq, idx, custom_id, request) VALUES (?, ?, ?, ?)");
    std::string blob;
    for (int i = 0; i < request.items_size(); ++i) {
      blob.clear();
      request.items(i).request().SerializeToString(&blob);
      insert_item.bind(1, seq);
      insert_item.bind(2, i);
      insert_item.bindNoCopy(3, request.items(i).custom_id());
      insert_item.bindNoCopy(4, blob.data(), static_cast<int>(blob.size()));
      insert_item.exec();
      insert_item.reset();
    }
    transaction.commit();
    Created created;
    created.seq = seq;
    created.created = true;
    SQLite::Statement row(*db_, absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE seq = ?"));
    row.bind(1, seq);
    row.executeStep();
    created.job = JobFromRow(row);
    return created;
  } catch (const std::exception& e) {
    return Error("cannot create a job", e);
  }
}


absl::StatusOr<BatchJob> JobStore::GetJob(absl::string_view id, const Owner& owner) {
  return FindJob<BatchJob>(id, owner, JobFromRow);
}

absl::StatusOr<JobRow> JobStore::GetJobRow(absl::string_view id, const Owner& owner) {
  return FindJob<JobRow>(id, owner, RowFrom);
}

namespace {

// Binds the owner filter `(?N IS NULL OR owner = ?N)`: NULL matches every job.
void BindOwner(SQLite::Statement& statement, int index, const Owner& owner) {
  if (owner.has_value()) {
    statement.bind(index, *owner);
  } else {
    statement.bind(index);
  }
}

}  // namespace

template <typename T, typename Convert>
absl::StatusOr<T> JobStore::FindJob(absl::string_view id, const Owner& owner, Convert convert) {
  try {
    SQLite::Statement row(*db_,
                          absl::StrCat("SELECT ", kJobColumns,
                                       " FROM jobs WHERE id = ?1 AND (?2 IS NULL OR owner = ?2)"));
    row.bind(1, std::string(id));
    BindOwner(row, 2, owner);
    if (!row.executeStep()) return NoSuchJob(id);
    return convert(row);
  } catch (const std::exception& e) {
    return Error("cannot read a job", e);
  }
}

absl::StatusOr<JobStore::Page> JobStore::ListJobs(int page_size, absl::string_view page_token,
                                                  const Owner& owner) {
  int64_t before = std::numeric_limits<int64_t>::max();
  if (!page_token.empty()) {
    std::optional<int64_t> after = ParsePageToken(page_token);
    if (!after.has_value()) {
      return InvalidField("page_token", "not a next_page_token of ListBatchJobs");
    }
    before = *after;
  }
  try {
    // One row more than asked says whether another page follows.
    SQLite::Statement rows(
        *db_, absl::StrCat("SELECT ", kJobColumns,
                           " FROM jobs WHERE seq < ?1 AND (?3 IS NULL OR owner = ?3) "
                           "ORDER BY seq DESC LIMIT ?2"));
    rows.bind(1, before);
    rows.bind(2, page_size + 1);
    BindOwner(rows, 3, owner);
    Page page;
    int64_t last_seq = 0;
    while (rows.executeStep()) {
      if (static_cast<int>(page.jobs.size()) == page_size) {
        page.next_page_token = PageToken(last_seq);
        break;
      }
      last_seq = rows.getColumn(0).getInt64();
      page.jobs.push_back(JobFromRow(rows));
    }
    return page;
  } catch (const std::exception& e) {
    return Error("cannot list jobs", e);
  }
}

absl::StatusOr<std::vector<JobRow>> JobStore::UnfinishedJobs() {
  try {
    SQLite::Statement rows(
        *db_, absl::StrCat("SELECT ", kJobColumns,
                           " FROM jobs WHERE state IN (?, ?, ?) ORDER BY seq"));
    rows.bind(1, static_cast<int>(BatchJob::STATE_QUEUED));
    rows.bind(2, static_cast<int>(BatchJob::STATE_RUNNING));
    rows.bind(3, static_cast<int>(BatchJob::STATE_CANCELLING));
    std::vector<JobRow> jobs;
    while (rows.executeStep()) jobs.push_back(RowFrom(rows));
    return jobs;
  } catch (const std::exception& e) {
    return Error("cannot read jobs", e);
  }
}

absl::StatusOr<std::vector<PendingItem>> JobStore::PendingItems(int64_t job_seq,
                                                                int32_t from_index, int limit) {
  try {
    SQLite::Statement& rows = *pending_items_;
    rows.reset();
    rows.bind(1, job_seq);
    rows.bind(2, from_index);
    rows.bind(3, limit);
    std::vector<PendingItem> items;
    while (rows.executeStep()) {
      PendingItem& item = items.emplace_back();
      item.index = rows.getColumn(0).getInt();
      item.custom_id = rows.getColumn(1).getString();
      if (!ParseBlob(rows.getColumn(2), &item.request)) {
        return absl::DataLossError(absl::StrCat("batch store ", path_, ": item ", item.index,
                                                " of a job is unreadable"));
      }
    }
    rows.reset();
    return items;
  } catch (const std::exception& e) {
    pending_items_->reset();
    return Error("cannot read items", e);
  }
}

absl::Status JobStore::RecordResults(absl::Span<const ItemResult> results, absl::Time now,
                                     std::vector<bool>* recorded) {
  recorded->assign(results.size(), false);
  struct Counts {
    int64_t succeeded = 0, failed = 0;
    Usage usage;
  };
  absl::flat_hash_map<int64_t, Counts> by_job;
  try {
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    std::string blob;
    for (size_t i = 0; i < results.size(); ++i) {
      const BatchJobResult& result = results[i].result;
      const bool succeeded = result.has_response();
      blob.clear();
      result.SerializeToString(&blob);
      SQLite::Statement& insert = *insert_result_;
      insert.reset();
      insert.bind(1, results[i].job_seq);
      insert.bind(2, result.index());
      insert.bind(3, succeeded ? 1 : 0);
      insert.bindNoCopy(4, blob.data(), static_cast<int>(blob.size()));
      if (insert.exec() == 0) continue;  // recorded before (a re-run after a crash)
      (*recorded)[i] = true;
      Counts& counts = by_job[results[i].job_seq];
      (succeeded ? counts.succeeded : counts.failed) += 1;
      if (succeeded) {
        const Usage& u = result.response().usage();
        counts.usage.set_prompt_tokens(counts.usage.prompt_tokens() + u.prompt_tokens());
        counts.usage.set_completion_tokens(counts.usage.completion_tokens() +
                                           u.completion_tokens());
        counts.usage.set_total_tokens(counts.usage.total_tokens() + u.total_tokens());
        counts.usage.set_cached_prompt_tokens(counts.usage.cached_prompt_tokens() +
                                              u.cached_prompt_tokens());
        counts.usage.set_cache_write_tokens(counts.usage.cache_write_tokens() +
                                            u.cache_write_tokens());
        counts.usage.set_reasoning_tokens(counts.usage.reasoning_tokens() +
                                          u.reasoning_tokens());
      }
    }
    insert_result_->reset();
    for (const auto& [seq, counts] : by_job) {
      SQLite::Statement& update = *add_counts_;
      update.reset();
      update.bind(1, seq);
      update.bind(2, counts.succeeded);
      update.bind(3, counts.failed);
      update.bind(4, counts.usage.prompt_tokens());
      update.bind(5, counts.usage.completion_tokens());
      update.bind(6, counts.usage.total_tokens());
      update.bind(7, counts.usage.cached_prompt_tokens());
      update.bind(8, counts.usage.cache_write_tokens());
      update.bind(9, counts.usage.reasoning_tokens());
      update.bind(10, Micros(now));
      update.exec();
    }
    add_counts_->reset();
    transaction.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    insert_result_->reset();
    add_counts_->reset();
    recorded->assign(results.size(), false);
    return Error("cannot record results", e);
  }
}

absl::Status JobStore::SetState(int64_t job_seq, State state, absl::Time now,
                                const google::rpc::Status* error) {
  try {
    SQLite::Statement update(
        *db_,
        "UPDATE jobs SET state = ?2, update_time = ?3, "
        "start_time = CASE WHEN ?4 THEN COALESCE(start_time, ?3) ELSE start_time END, "
        "end_time = CASE WHEN ?5 THEN ?3 ELSE end_time END, "
        "error = COALESCE(?6, error) WHERE seq = ?1");
    update.bind(1, job_seq);
    update.bind(2, static_cast<int>(state));
    update.bind(3, Micros(now));
    update.bind(4, state == BatchJob::STATE_RUNNING ? 1 : 0);
    update.bind(5, IsEnded(state) ? 1 : 0);
    std::string blob;
    if (error != nullptr) {
      blob = error->SerializeAsString();
      update.bindNoCopy(6, blob.data(), static_cast<int>(blob.size()));
    } else {
      update.bind(6);
    }
    update.exec();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return Error("cannot update a job", e);
  }
}

absl::StatusOr<std::vector<BatchJobResult>> JobStore::ReadResults(int64_t job_seq,
                                                                  int32_t start_index, int limit,
                                                                  bool contiguous) {
  try {
    SQLite::Statement rows(
        *db_, "SELECT idx, result FROM results WHERE job_seq = ? AND idx >= ? ORDER BY idx LIMIT ?");
    rows.bind(1, job_seq);
    rows.bind(2, start_index);
    rows.bind(3, limit);
    std::vector<BatchJobResult> results;
    int32_t expected = start_index;
    while (rows.executeStep()) {
      const int32_t index = rows.getColumn(0).getInt();
      if (contiguous && index != expected) break;
      expected = index + 1;
      BatchJobResult& result = results.emplace_back();
      if (!ParseBlob(rows.getColumn(1), &result)) {
        return absl::DataLossError(absl::StrCat("batch store ", path_, ": result ", index,
                                                " of a job is unreadable"));
      }
    }
    return results;
  } catch (const std::exception& e) {
    return Error("cannot read results", e);
  }
}

absl::StatusOr<int> JobStore::SweepEndedBefore(absl::Time cutoff) {
  try {
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const std::string old_jobs = absl::StrCat(
        "(SELECT seq FROM jobs WHERE end_time IS NOT NULL AND end_time < ", Micros(cutoff), ")");
    db_->exec(absl::StrCat("DELETE FROM results WHERE job_seq IN ", old_jobs));
    db_->exec(absl::StrCat("DELETE FROM items WHERE job_seq IN ", old_jobs));
    const int swept = db_->exec(absl::StrCat(
        "DELETE FROM jobs WHERE end_time IS NOT NULL AND end_time < ", Micros(cutoff)));
    transaction.commit();
    return swept;
  } catch (const std::exception& e) {
    return Error("cannot sweep old jobs", e);
  }
}

}  // namespace llmgateway::batch
