// MetadataStore: the durable record of projects, tags (and, as they land, datasets, versions and
// jobs). Everything a Describe* call answers comes from here. Every mutating call is one
// transaction that is durable when it returns. Implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace osprey::metadata {

struct ProjectRecord {
  int64_t id = 0;            // store-assigned; increases with creation order
  std::string name;
  std::string arn;
  int64_t creation_ms = 0;
  std::string status;        // "CREATING" | "CREATED" | "DELETING"
};

struct ProjectPage {
  std::vector<ProjectRecord> projects;
  std::optional<int64_t> next_after_id;  // set when more projects follow
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Inserts a project (id is assigned). Returns kAlreadyExists if the name is taken.
  virtual Result<ProjectRecord> InsertProject(const ProjectRecord& project) = 0;
  // Returns kNotFound if no project has this ARN.
  virtual Result<ProjectRecord> GetProjectByArn(const std::string& arn) const = 0;
  // Projects in creation order with id > after_id; `names` (if non-empty) filters by name.
  virtual Result<ProjectPage> ListProjects(int64_t after_id, size_t limit,
                                           const std::vector<std::string>& names) const = 0;
  // Deletes the project, its tags and policies. Returns kNotFound if absent, kInUse while the
  // project still has datasets or model versions.
  virtual Status DeleteProject(int64_t project_id) = 0;

  // Tags of any resource ARN. SetTags adds or overwrites; returns kQuotaExceeded if the resource
  // would end with more than `max_tags` tags (nothing is changed then).
  virtual Status SetTags(const std::string& resource_arn,
                         const std::map<std::string, std::string>& tags, size_t max_tags) = 0;
  virtual Status RemoveTags(const std::string& resource_arn,
                            const std::vector<std::string>& keys) = 0;
  virtual Result<std::map<std::string, std::string>> GetTags(
      const std::string& resource_arn) const = 0;
};

}  // namespace osprey::metadata
