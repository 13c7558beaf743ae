// Project operations (rekognition-api.md §3.1-3.3).
#include <map>

#include "service/arn.h"
#include "service/page_token.h"
#include "service/rekognition_service.h"

namespace osprey::service {

RekognitionService::RekognitionService(metadata::MetadataStore& metadata,
                                       storage::ObjectStore& objects, const Clock& clock,
                                       ServiceOptions options)
    : metadata_(metadata), objects_(objects), clock_(clock), options_(std::move(options)) {}

Result<CreateProjectResponse> RekognitionService::CreateProject(
    const RequestContext& ctx, const CreateProjectRequest& request) {
  metadata::ProjectRecord record;
  record.name = request.project_name;
  record.creation_ms = clock_.NowMillis();
  record.arn = ProjectArn(ctx.region, options_.account_id, record.name, record.creation_ms);
  // Projects are created synchronously, so the CREATING state is never observable.
  record.status = "CREATED";
  Result<metadata::ProjectRecord> inserted = metadata_.InsertProject(record);
  if (inserted.status().code() == StatusCode::kAlreadyExists) {
    // AWS answers a duplicate name with ResourceInUseException.
    return Status::InUse("A project named " + record.name + " already exists.");
  }
  OSPREY_RETURN_IF_ERROR(inserted.status());
  if (!request.tags.empty()) {
    OSPREY_RETURN_IF_ERROR(
        metadata_.SetTags(record.arn, request.tags, options_.max_tags_per_resource));
  }
  return CreateProjectResponse{record.arn};
}

Result<DescribeProjectsResponse> RekognitionService::DescribeProjects(
    const RequestContext& /*ctx*/, const DescribeProjectsRequest& request) {
  int64_t after_id = 0;
  if (!request.next_token.empty()) {
    std::optional<int64_t> decoded = DecodePageToken("projects", request.next_token);
    if (!decoded) {
      return Status(StatusCode::kInvalidPaginationToken, "The pagination token is invalid.");
    }
    after_id = *decoded;
  }
  OSPREY_ASSIGN_OR_RETURN(
      metadata::ProjectPage page,
      metadata_.ListProjects(after_id, static_cast<size_t>(request.max_results),
                             request.project_names));
  // One query for the whole page's datasets, not one per project.
  std::vector<int64_t> ids;
  for (const auto& project : page.projects) ids.push_back(project.id);
  OSPREY_ASSIGN_OR_RETURN(std::vector<metadata::DatasetRecord> datasets,
                          metadata_.ListDatasetsOfProjects(ids));
  std::map<int64_t, std::vector<DatasetMetadata>> by_project;
  for (const auto& dataset : datasets) {
    by_project[dataset.project_id].push_back({dataset.creation_ms, dataset.dataset_type,
                                              dataset.arn, dataset.status, dataset.status_message,
                                              dataset.status_message_code});
  }
  DescribeProjectsResponse response;
  for (const auto& project : page.projects) {
    ProjectDescription description;
    description.project_arn = project.arn;
    description.creation_ms = project.creation_ms;
    description.status = project.status;
    description.datasets = std::move(by_project[project.id]);
    response.projects.push_back(std::move(description));
  }
  if (page.next_after_id) response.next_token = EncodePageToken("projects", *page.next_after_id);
  return response;
}

Result<DeleteProjectResponse> RekognitionService::DeleteProject(
    const RequestContext& /*ctx*/, const DeleteProjectRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project,
                          metadata_.GetProjectByArn(request.project_arn));
  // Deletion is immediate here; AWS reports DELETING and the project then drops out of
  // DescribeProjects, which is what clients wait for (§3.3).
  OSPREY_RETURN_IF_ERROR(metadata_.DeleteProject(project.id));
  return DeleteProjectResponse{"DELETING"};
}

}  // namespace osprey::service
