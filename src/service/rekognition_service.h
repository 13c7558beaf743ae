// RekognitionService: the Rekognition Custom Labels operations on plain structs. It owns the
// rules (uniqueness, state machines, limits) and talks to the stores through their interfaces.
// Thread-safe: operations may run concurrently; the stores serialise what must be serialised.
// Every method returns kInvalidArgument / kNotFound / kInUse / ... exactly as documented in
// rekognition-api.md §7; the API layer turns the code into the AWS error.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "metadata/metadata_store.h"
#include "service/types.h"
#include "storage/object_store.h"

namespace osprey::service {

struct ServiceOptions {
  std::string account_id = "000000000000";  // the 12-digit account in every ARN
  size_t max_tags_per_resource = 200;       // AWS's limit
};

class RekognitionService {
 public:
  // The stores and the clock must outlive the service.
  RekognitionService(metadata::MetadataStore& metadata, storage::ObjectStore& objects,
                     const Clock& clock, ServiceOptions options);

  // Returns kAlreadyExists (ResourceInUseException on the wire) if the name is taken.
  Result<CreateProjectResponse> CreateProject(const RequestContext& ctx,
                                              const CreateProjectRequest& request);
  // Returns kInvalidPaginationToken for a token we did not issue.
  Result<DescribeProjectsResponse> DescribeProjects(const RequestContext& ctx,
                                                    const DescribeProjectsRequest& request);
  // Returns kNotFound for an unknown project, kInUse while it has datasets or versions.
  Result<DeleteProjectResponse> DeleteProject(const RequestContext& ctx,
                                              const DeleteProjectRequest& request);

  // Tags on projects, datasets and model versions. kNotFound if the resource does not exist,
  // kQuotaExceeded past 200 tags.
  Status TagResource(const RequestContext& ctx, const TagResourceRequest& request);
  Status UntagResource(const RequestContext& ctx, const UntagResourceRequest& request);
  Result<ListTagsForResourceResponse> ListTagsForResource(
      const RequestContext& ctx, const ListTagsForResourceRequest& request);

  metadata::MetadataStore& metadata() { return metadata_; }
  storage::ObjectStore& objects() { return objects_; }
  const Clock& clock() const { return clock_; }
  const ServiceOptions& options() const { return options_; }

 private:
  // Returns kNotFound unless `arn` names an existing project, version or dataset.
  Status CheckResourceExists(const std::string& arn) const;

  metadata::MetadataStore& metadata_;
  storage::ObjectStore& objects_;
  const Clock& clock_;
  ServiceOptions options_;
};

}  // namespace osprey::service
