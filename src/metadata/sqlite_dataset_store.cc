// SqliteMetadataStore: datasets, dataset entries and import staging (schema: migration 2).
#include <charconv>

#include "metadata/sqlite_metadata_store.h"

namespace osprey::metadata {
namespace {

constexpr char kDatasetColumns[] =
    "id, project_id, arn, dataset_type, creation_ms, updated_ms, status, status_message, "
    "status_message_code, image_bucket";

DatasetRecord ReadDataset(const Statement& stmt) {
  DatasetRecord d;
  d.id = stmt.Int(0);
  d.project_id = stmt.Int(1);
  d.arn = stmt.Text(2);
  d.dataset_type = stmt.Text(3);
  d.creation_ms = stmt.Int(4);
  d.updated_ms = stmt.Int(5);
  d.status = stmt.Text(6);
  d.status_message = stmt.Text(7);
  d.status_message_code = stmt.Text(8);
  d.image_bucket = stmt.Text(9);
  return d;
}

bool InProgress(const std::string& status) {
  return status.size() > 12 && status.compare(status.size() - 12, 12, "_IN_PROGRESS") == 0;
}

// Removes the dataset row (entries and labels cascade) and its tags.
// REQUIRES: the store's lock and an open transaction.
Status RemoveDatasetLocked(sqlite3* db, const DatasetRecord& dataset) {
  Statement remove(db, "DELETE FROM datasets WHERE id = ?");
  remove.Bind(1, dataset.id);
  OSPREY_RETURN_IF_ERROR(remove.Run());
  Statement tags(db, "DELETE FROM tags WHERE resource_arn = ?");
  tags.Bind(1, dataset.arn);
  return tags.Run();
}

// Staged labels travel in one column as "<bytes>:<name><0|1>" repeated: label names are
// arbitrary JSON strings, so no separator character is safe.
std::string EncodeLabels(const std::vector<EntryLabel>& labels) {
  std::string out;
  for (const auto& label : labels) {
    out += std::to_string(label.name.size()) + ":" + label.name + (label.has_box ? "1" : "0");
  }
  return out;
}

std::vector<EntryLabel> DecodeLabels(std::string_view text) {
  std::vector<EntryLabel> labels;
  while (!text.empty()) {
    size_t size = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
    size_t colon = static_cast<size_t>(p - text.data());
    if (ec != std::errc() || colon >= text.size() || text[colon] != ':' ||
        text.size() - colon - 1 < size + 1) {
      break;  // written by EncodeLabels only; a torn value cannot occur inside a transaction
    }
    labels.push_back({std::string(text.substr(colon + 1, size)), text[colon + 1 + size] == '1'});
    text.remove_prefix(colon + 2 + size);
  }
  return labels;
}

}  // namespace

Result<DatasetRecord> SqliteMetadataStore::GetDatasetByIdLocked(int64_t dataset_id) const {
  Statement stmt(db_->handle(),
                 std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE id = ?");
  stmt.Bind(1, dataset_id);
  if (stmt.Step()) return ReadDataset(stmt);
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return Status::NotFound("The dataset does not exist.");
}

Status SqliteMetadataStore::InsertEntryLabelsLocked(int64_t entry_id,
                                                    const std::vector<EntryLabel>& labels) {
  Statement clear(db_->handle(), "DELETE FROM dataset_entry_labels WHERE entry_id = ?");
  clear.Bind(1, entry_id);
  OSPREY_RETURN_IF_ERROR(clear.Run());
  Statement insert(db_->handle(),
                   "INSERT OR REPLACE INTO dataset_entry_labels (entry_id, label, has_box) "
                   "VALUES (?, ?, ?)");
  for (const auto& label : labels) {
    insert.Reset();
    insert.Bind(1, entry_id).Bind(2, label.name).Bind(3, int64_t{label.has_box ? 1 : 0});
    OSPREY_RETURN_IF_ERROR(insert.Run());
  }
  return Status::Ok();
}

Result<DatasetRecord> SqliteMetadataStore::InsertDataset(const DatasetRecord& dataset) {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "INSERT INTO datasets (project_id, arn, dataset_type, creation_ms, updated_ms, "
                 "status, status_message, status_message_code, image_bucket) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  stmt.Bind(1, dataset.project_id).Bind(2, dataset.arn).Bind(3, dataset.dataset_type);
  stmt.Bind(4, dataset.creation_ms).Bind(5, dataset.updated_ms).Bind(6, dataset.status);
  stmt.Bind(7, dataset.status_message).Bind(8, dataset.status_message_code);
  stmt.Bind(9, dataset.image_bucket);
  Status s = stmt.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("The project already has a " + dataset.dataset_type +
                                 " dataset.");
  }
  // The foreign key to projects fails when the project was deleted meanwhile.
  if (s.code() == StatusCode::kInUse) return Status::NotFound("The project does not exist.");
  OSPREY_RETURN_IF_ERROR(s);
  DatasetRecord out = dataset;
  out.id = db_->LastInsertId();
  return out;
}

Result<DatasetRecord> SqliteMetadataStore::GetDatasetByArn(const std::string& arn) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE arn = ?");
  stmt.Bind(1, arn);
  if (stmt.Step()) return ReadDataset(stmt);
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return Status::NotFound("The dataset " + arn + " does not exist.");
}

Result<std::vector<DatasetRecord>> SqliteMetadataStore::ListProjectDatasets(
    int64_t project_id) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), std::string("SELECT ") + kDatasetColumns +
                                    " FROM datasets WHERE project_id = ? ORDER BY dataset_type "
                                    "DESC");  // "TRAIN" > "TEST"
  stmt.Bind(1, project_id);
  std::vector<DatasetRecord> out;
  while (stmt.Step()) out.push_back(ReadDataset(stmt));
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return out;
}

Result<std::vector<DatasetRecord>> SqliteMetadataStore::ListDatasetsOfProjects(
    const std::vector<int64_t>& project_ids) const {
  std::vector<DatasetRecord> out;
  if (project_ids.empty()) return out;
  std::string sql = std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE project_id IN (";
  for (size_t i = 0; i < project_ids.size(); ++i) sql += i == 0 ? "?" : ", ?";
  sql += ") ORDER BY project_id, dataset_type DESC";  // "TRAIN" > "TEST"
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), sql);
  for (size_t i = 0; i < project_ids.size(); ++i) stmt.Bind(static_cast<int>(i + 1), project_ids[i]);
  while (stmt.Step()) out.push_back(ReadDataset(stmt));
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return out;
}

Status SqliteMetadataStore::BeginDatasetOperation(int64_t dataset_id, const std::string& status,
                                                  int64_t now_ms) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  OSPREY_ASSIGN_OR_RETURN(DatasetRecord current, GetDatasetByIdLocked(dataset_id));
  if (InProgress(current.status)) {
    return Status::InUse("The dataset is busy (" + current.status + ").");
  }
  Statement stmt(db_->handle(),
                 "UPDATE datasets SET status = ?, status_message = '', status_message_code = '', "
                 "updated_ms = ? WHERE id = ?");
  stmt.Bind(1, status).Bind(2, now_ms).Bind(3, dataset_id);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  return txn.Commit();
}

Status SqliteMetadataStore::SetDatasetStatus(int64_t dataset_id, const std::string& status,
                                             const std::string& message, const std::string& code,
                                             int64_t now_ms) {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "UPDATE datasets SET status = ?, status_message = ?, status_message_code = ?, "
                 "updated_ms = ? WHERE id = ?");
  stmt.Bind(1, status).Bind(2, message).Bind(3, code).Bind(4, now_ms).Bind(5, dataset_id);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return Status::NotFound("The dataset does not exist.");
  return Status::Ok();
}

Status SqliteMetadataStore::DeleteDataset(int64_t dataset_id) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  OSPREY_ASSIGN_OR_RETURN(DatasetRecord current, GetDatasetByIdLocked(dataset_id));
  // DELETE_IN_PROGRESS is DeleteDataset's own state: this call is how it ends.
  if (InProgress(current.status) && current.status != "DELETE_IN_PROGRESS") {
    return Status::InUse("The dataset cannot be deleted while it is " + current.status + ".");
  }
  OSPREY_RETURN_IF_ERROR(RemoveDatasetLocked(db_->handle(), current));
  return txn.Commit();
}

Result<DatasetStatsRecord> SqliteMetadataStore::GetDatasetStats(int64_t dataset_id) const {
  std::lock_guard lock(mu_);
  DatasetStatsRecord stats;
  Statement counts(db_->handle(),
                   "SELECT COUNT(*), COALESCE(SUM(is_labeled), 0), COALESCE(SUM(has_errors), 0) "
                   "FROM dataset_entries WHERE dataset_id = ?");
  counts.Bind(1, dataset_id);
  if (counts.Step()) {
    stats.total_entries = counts.Int(0);
    stats.labeled_entries = counts.Int(1);
    stats.error_entries = counts.Int(2);
  }
  OSPREY_RETURN_IF_ERROR(counts.status());
  Statement labels(db_->handle(),
                   "SELECT COUNT(DISTINCT l.label) FROM dataset_entry_labels l "
                   "JOIN dataset_entries e ON e.id = l.entry_id WHERE e.dataset_id = ?");
  labels.Bind(1, dataset_id);
  if (labels.Step()) stats.total_labels = labels.Int(0);
  OSPREY_RETURN_IF_ERROR(labels.status());
  return stats;
}

Result<size_t> SqliteMetadataStore::StageEntries(const std::string& job_key,
                                                 const std::vector<EntryRecord>& entries) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  Statement stmt(db_->handle(),
                 "INSERT OR IGNORE INTO staged_entries (job_key, source_ref, seq, line, "
                 "is_labeled, has_errors, labels) VALUES (?, ?, ?, ?, ?, ?, ?)");
  size_t duplicates = 0;
  for (const auto& entry : entries) {
    stmt.Reset();
    stmt.Bind(1, job_key).Bind(2, entry.source_ref).Bind(3, entry.id).Bind(4, entry.line);
    stmt.Bind(5, int64_t{entry.is_labeled ? 1 : 0}).Bind(6, int64_t{entry.has_errors ? 1 : 0});
    stmt.Bind(7, EncodeLabels(entry.labels));
    OSPREY_RETURN_IF_ERROR(stmt.Run());
    if (db_->Changes() == 0) ++duplicates;
  }
  OSPREY_RETURN_IF_ERROR(txn.Commit());
  return duplicates;
}

Status SqliteMetadataStore::CommitStagedEntries(const std::string& job_key, int64_t dataset_id,
                                                const std::string& image_bucket) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  OSPREY_RETURN_IF_ERROR(GetDatasetByIdLocked(dataset_id).status());
  Statement staged(db_->handle(),
                   "SELECT source_ref, line, is_labeled, has_errors, labels FROM staged_entries "
                   "WHERE job_key = ? ORDER BY seq");
  staged.Bind(1, job_key);
  // A matching source_ref replaces the entry in place (it keeps its id and list position).
  Statement upsert(db_->handle(),
                   "INSERT INTO dataset_entries (dataset_id, source_ref, line, is_labeled, "
                   "has_errors) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dataset_id, source_ref) DO "
                   "UPDATE SET line = excluded.line, is_labeled = excluded.is_labeled, "
                   "has_errors = excluded.has_errors RETURNING id");
  while (staged.Step()) {
    upsert.Reset();
    upsert.Bind(1, dataset_id).Bind(2, staged.Text(0)).Bind(3, staged.Text(1));
    upsert.Bind(4, staged.Int(2)).Bind(5, staged.Int(3));
    if (!upsert.Step()) {
      OSPREY_RETURN_IF_ERROR(upsert.status());
      return Status::Internal("upsert returned no id");
    }
    int64_t entry_id = upsert.Int(0);
    OSPREY_RETURN_IF_ERROR(upsert.Run());
    OSPREY_RETURN_IF_ERROR(InsertEntryLabelsLocked(entry_id, DecodeLabels(staged.Text(4))));
  }
  OSPREY_RETURN_IF_ERROR(staged.status());
  Statement bucket(db_->handle(),
                   "UPDATE datasets SET image_bucket = ? WHERE id = ? AND image_bucket = ''");
  bucket.Bind(1, image_bucket).Bind(2, dataset_id);
  OSPREY_RETURN_IF_ERROR(bucket.Run());
  Statement discard(db_->handle(), "DELETE FROM staged_entries WHERE job_key = ?");
  discard.Bind(1, job_key);
  OSPREY_RETURN_IF_ERROR(discard.Run());
  return txn.Commit();
}

Status SqliteMetadataStore::DiscardStagedEntries(const std::string& job_key) {
  std::lock_guard lock(mu_);
  if (job_key.empty()) return db_->Exec("DELETE FROM staged_entries");
  Statement stmt(db_->handle(), "DELETE FROM staged_entries WHERE job_key = ?");
  stmt.Bind(1, job_key);
  return stmt.Run();
}

Result<EntryPage> SqliteMetadataStore::ListEntries(int64_t dataset_id, const EntryFilter& filter,
                                                   int64_t after_id, size_t limit) const {
  std::lock_guard lock(mu_);
  std::string sql =
      "SELECT id, source_ref, line, is_labeled, has_errors FROM dataset_entries "
      "WHERE dataset_id = ? AND id > ?";
  if (filter.labeled) sql += " AND is_labeled = ?";
  if (filter.has_errors) sql += " AND has_errors = ?";
  if (!filter.source_ref_contains.empty()) sql += " AND instr(source_ref, ?) > 0";
  if (!filter.contains_labels.empty()) {
    sql += " AND EXISTS (SELECT 1 FROM dataset_entry_labels l WHERE l.entry_id = "
           "dataset_entries.id AND l.label IN (";
    for (size_t i = 0; i < filter.contains_labels.size(); ++i) sql += i == 0 ? "?" : ", ?";
    sql += "))";
  }
  sql += " ORDER BY id LIMIT ?";
  Statement stmt(db_->handle(), sql);
  int index = 1;
  stmt.Bind(index++, dataset_id);
  stmt.Bind(index++, after_id);
  if (filter.labeled) stmt.Bind(index++, int64_t{*filter.labeled ? 1 : 0});
  if (filter.has_errors) stmt.Bind(index++, int64_t{*filter.has_errors ? 1 : 0});
  if (!filter.source_ref_contains.empty()) stmt.Bind(index++, filter.source_ref_contains);
  for (const auto& label : filter.contains_labels) stmt.Bind(index++, label);
  stmt.Bind(index, static_cast<int64_t>(limit + 1));
  EntryPage page;
  while (stmt.Step()) {
    page.entries.push_back(
        {stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Int(3) != 0, stmt.Int(4) != 0, {}});
  }
  OSPREY_RETURN_IF_ERROR(stmt.status());
  if (page.entries.size() > limit) {
    page.entries.pop_back();
    page.next_after_id = page.entries.back().id;
  }
  return page;
}

Result<std::vector<LabelStatsRecord>> SqliteMetadataStore::ListLabelStats(
    int64_t dataset_id) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "SELECT l.label, COUNT(*), SUM(l.has_box) FROM dataset_entry_labels l "
                 "JOIN dataset_entries e ON e.id = l.entry_id WHERE e.dataset_id = ? "
                 "GROUP BY l.label ORDER BY l.label");
  stmt.Bind(1, dataset_id);
  std::vector<LabelStatsRecord> out;
  while (stmt.Step()) out.push_back({stmt.Text(0), stmt.Int(1), stmt.Int(2)});
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return out;
}

Status SqliteMetadataStore::ForEachEntry(
    int64_t dataset_id, const std::function<bool(const EntryRecord&)>& visit) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "SELECT e.id, e.source_ref, e.line, e.is_labeled, e.has_errors, l.label, "
                 "l.has_box FROM dataset_entries e LEFT JOIN dataset_entry_labels l ON "
                 "l.entry_id = e.id WHERE e.dataset_id = ? ORDER BY e.id, l.label");
  stmt.Bind(1, dataset_id);
  std::optional<EntryRecord> current;
  while (stmt.Step()) {
    int64_t id = stmt.Int(0);
    if (!current || current->id != id) {
      if (current && !visit(*current)) return Status::Ok();
      current = EntryRecord{id, stmt.Text(1), stmt.Text(2), stmt.Int(3) != 0, stmt.Int(4) != 0,
                            {}};
    }
    if (!stmt.IsNull(5)) current->labels.push_back({stmt.Text(5), stmt.Int(6) != 0});
  }
  OSPREY_RETURN_IF_ERROR(stmt.status());
  if (current) visit(*current);
  return Status::Ok();
}

Status SqliteMetadataStore::CopyEntries(int64_t from_dataset_id, int64_t to_dataset_id) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  OSPREY_ASSIGN_OR_RETURN(DatasetRecord from, GetDatasetByIdLocked(from_dataset_id));
  OSPREY_RETURN_IF_ERROR(GetDatasetByIdLocked(to_dataset_id).status());
  // "WHERE true" keeps SQLite's parser from reading ON CONFLICT as a join constraint.
  Statement entries(db_->handle(),
                    "INSERT INTO dataset_entries (dataset_id, source_ref, line, is_labeled, "
                    "has_errors) SELECT ?, source_ref, line, is_labeled, has_errors FROM "
                    "dataset_entries WHERE dataset_id = ? AND true ORDER BY id "
                    "ON CONFLICT (dataset_id, source_ref) DO UPDATE SET line = excluded.line, "
                    "is_labeled = excluded.is_labeled, has_errors = excluded.has_errors");
  entries.Bind(1, to_dataset_id).Bind(2, from_dataset_id);
  OSPREY_RETURN_IF_ERROR(entries.Run());
  Statement labels(db_->handle(),
                   "INSERT OR REPLACE INTO dataset_entry_labels (entry_id, label, has_box) "
                   "SELECT n.id, l.label, l.has_box FROM dataset_entry_labels l "
                   "JOIN dataset_entries o ON o.id = l.entry_id "
                   "JOIN dataset_entries n ON n.dataset_id = ? AND n.source_ref = o.source_ref "
                   "WHERE o.dataset_id = ?");
  labels.Bind(1, to_dataset_id).Bind(2, from_dataset_id);
  OSPREY_RETURN_IF_ERROR(labels.Run());
  Statement bucket(db_->handle(),
                   "UPDATE datasets SET image_bucket = ? WHERE id = ? AND image_bucket = ''");
  bucket.Bind(1, from.image_bucket).Bind(2, to_dataset_id);
  OSPREY_RETURN_IF_ERROR(bucket.Run());
  return txn.Commit();
}

Status SqliteMetadataStore::MoveEntries(int64_t from_dataset_id, int64_t to_dataset_id,
                                        const std::vector<int64_t>& entry_ids) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  OSPREY_ASSIGN_OR_RETURN(DatasetRecord from, GetDatasetByIdLocked(from_dataset_id));
  OSPREY_RETURN_IF_ERROR(GetDatasetByIdLocked(to_dataset_id).status());
  Statement move(db_->handle(),
                 "UPDATE dataset_entries SET dataset_id = ? WHERE id = ? AND dataset_id = ?");
  for (int64_t entry_id : entry_ids) {
    move.Reset();
    move.Bind(1, to_dataset_id).Bind(2, entry_id).Bind(3, from_dataset_id);
    OSPREY_RETURN_IF_ERROR(move.Run());
    if (db_->Changes() == 0) return Status::NotFound("The entry to move does not exist.");
  }
  Statement bucket(db_->handle(),
                   "UPDATE datasets SET image_bucket = ? WHERE id = ? AND image_bucket = ''");
  bucket.Bind(1, from.image_bucket).Bind(2, to_dataset_id);
  OSPREY_RETURN_IF_ERROR(bucket.Run());
  return txn.Commit();
}

Result<std::vector<DatasetRecord>> SqliteMetadataStore::FailInProgressDatasets(
    const std::string& message, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  std::vector<DatasetRecord> stuck;
  {
    Statement stmt(db_->handle(), std::string("SELECT ") + kDatasetColumns +
                                      " FROM datasets WHERE status LIKE '%\\_IN\\_PROGRESS' "
                                      "ESCAPE '\\' ORDER BY id");
    while (stmt.Step()) stuck.push_back(ReadDataset(stmt));
    OSPREY_RETURN_IF_ERROR(stmt.status());
  }
  std::vector<DatasetRecord> failed;
  for (const auto& dataset : stuck) {
    if (dataset.status == "DELETE_IN_PROGRESS") {
      // The deletion was accepted before the stop: finish it (tags included).
      OSPREY_RETURN_IF_ERROR(RemoveDatasetLocked(db_->handle(), dataset));
      continue;
    }
    std::string status = dataset.status.substr(0, dataset.status.size() - 12) + "_FAILED";
    Statement update(db_->handle(),
                     "UPDATE datasets SET status = ?, status_message = ?, "
                     "status_message_code = 'SERVICE_ERROR', updated_ms = ? WHERE id = ?");
    update.Bind(1, status).Bind(2, message).Bind(3, now_ms).Bind(4, dataset.id);
    OSPREY_RETURN_IF_ERROR(update.Run());
    failed.push_back(dataset);
  }
  OSPREY_RETURN_IF_ERROR(db_->Exec("DELETE FROM staged_entries"));
  OSPREY_RETURN_IF_ERROR(txn.Commit());
  return failed;
}

}  // namespace osprey::metadata
