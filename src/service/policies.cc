// Project policies and CopyProjectVersion (rekognition-api.md §3.16, §3.21-3.23).
#include <random>

#include "service/arn.h"
#include "service/model_service.h"
#include "service/page_token.h"

namespace osprey::service {
namespace {

std::string NewRevisionId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) out += kHex[rng() & 0xF];
  return out;
}

}  // namespace

Result<std::string> ModelService::PutProjectPolicy(const PutProjectPolicyRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project,
                          metadata_.GetProjectByArn(request.project_arn));
  int64_t now = clock_.NowMillis();
  metadata::PolicyRecord policy{project.id, request.policy_name, NewRevisionId(),
                                request.document, now, now};
  if (!request.revision_id.empty()) {
    OSPREY_ASSIGN_OR_RETURN(auto existing, versions_.ListPolicies(project.id));
    for (const auto& p : existing) {
      if (p.name == request.policy_name) policy.creation_ms = p.creation_ms;
    }
  }
  OSPREY_RETURN_IF_ERROR(versions_.PutPolicy(policy, request.revision_id));
  return policy.revision_id;
}

Result<ListProjectPoliciesResponse> ModelService::ListProjectPolicies(
    const std::string& project_arn, const std::string& next_token, int max_results) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project, metadata_.GetProjectByArn(project_arn));
  int64_t skip = 0;
  if (!next_token.empty()) {
    std::optional<int64_t> decoded = DecodePageToken("policies", next_token);
    if (!decoded) {
      return Status(StatusCode::kInvalidPaginationToken, "The pagination token is invalid.");
    }
    skip = *decoded;
  }
  OSPREY_ASSIGN_OR_RETURN(auto policies, versions_.ListPolicies(project.id));
  ListProjectPoliciesResponse response;
  for (size_t i = static_cast<size_t>(skip); i < policies.size(); ++i) {
    if (response.policies.size() == static_cast<size_t>(max_results)) {
      response.next_token = EncodePageToken("policies", static_cast<int64_t>(i));
      break;
    }
    response.policies.push_back({project.arn, policies[i]});
  }
  return response;
}

Status ModelService::DeleteProjectPolicy(const std::string& project_arn, const std::string& name,
                                         const std::string& revision_id) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project, metadata_.GetProjectByArn(project_arn));
  return versions_.DeletePolicy(project.id, name, revision_id);
}

Result<std::string> ModelService::CopyProjectVersion(const RequestContext& /*ctx*/,
                                                     const CopyProjectVersionRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord source_project,
                          metadata_.GetProjectByArn(request.source_project_arn));
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord destination,
                          metadata_.GetProjectByArn(request.destination_project_arn));
  OSPREY_ASSIGN_OR_RETURN(metadata::VersionRecord source,
                          versions_.GetVersionByArn(request.source_version_arn));
  if (source.project_id != source_project.id) {
    return Status::InvalidArgument("The source model version is not in the source project.");
  }
  if (source.artifact_dir.empty()) {
    return Status::InUse("The source model version is " + source.status +
                         "; only trained models can be copied.");
  }
  if (!objects_.BucketExists(request.output_bucket)) {
    return Status::InvalidArgument("The output bucket " + request.output_bucket +
                                   " does not exist.");
  }
  std::optional<ParsedArn> parsed = ParseArn(destination.arn);
  if (!parsed) return Status::Internal("stored project ARN does not parse: " + destination.arn);
  metadata::VersionRecord copy = source;
  copy.id = 0;
  copy.project_id = destination.id;
  copy.project_arn = destination.arn;
  copy.name = request.version_name;
  copy.creation_ms = clock_.NowMillis();
  copy.arn = "arn:aws:rekognition:" + parsed->region + ":" + parsed->account + ":project/" +
             parsed->project_name + "/version/" + copy.name + "/" +
             std::to_string(copy.creation_ms);
  copy.status = "COPYING_IN_PROGRESS";
  copy.status_message = "The model is being copied.";
  copy.source_version_arn = source.arn;
  copy.output_bucket = request.output_bucket;
  copy.output_prefix = request.output_prefix;
  copy.kms_key_id = request.kms_key_id;
  copy.min_inference_units.reset();
  copy.max_inference_units.reset();
  copy.artifact_dir = "models/" + parsed->project_name + "/" + copy.name + "-" +
                      std::to_string(copy.creation_ms);
  Result<metadata::VersionRecord> inserted = versions_.InsertVersion(copy);
  if (inserted.status().code() == StatusCode::kAlreadyExists) {
    return Status::InUse(inserted.status().message());
  }
  OSPREY_RETURN_IF_ERROR(inserted.status());
  if (!request.tags.empty()) {
    OSPREY_RETURN_IF_ERROR(
        metadata_.SetTags(inserted->arn, request.tags, options_.max_tags_per_resource));
  }
  metadata::VersionRecord queued = *inserted;
  std::filesystem::path root = options_.models_dir.parent_path();
  std::filesystem::path from = root / source.artifact_dir;
  lifecycle_pool_.Submit([this, queued, from, root] {
    std::error_code ec;
    std::filesystem::create_directories((root / queued.artifact_dir).parent_path(), ec);
    std::filesystem::copy(from, root / queued.artifact_dir,
                          std::filesystem::copy_options::recursive, ec);
    (void)versions_.TransitionVersion(
        queued.id, {"COPYING_IN_PROGRESS"}, ec ? "COPYING_FAILED" : "COPYING_COMPLETED",
        ec ? "The model files could not be copied: " + ec.message()
           : "The model is ready to run.");
  });
  return queued.arn;
}

}  // namespace osprey::service
