// Tagging operations (rekognition-api.md §3.18-3.20).
#include "service/arn.h"
#include "service/model_service.h"
#include "service/rekognition_service.h"

namespace osprey::service {

Status RekognitionService::CheckResourceExists(const std::string& arn) const {
  std::optional<ParsedArn> parsed = ParseArn(arn);
  if (!parsed) return Status::NotFound("The resource " + arn + " does not exist.");
  if (parsed->kind == "project") {
    return metadata_.GetProjectByArn(arn).status();
  }
  if (parsed->kind == "dataset") {
    return metadata_.GetDatasetByArn(arn).status();
  }
  if (models_ != nullptr) return models_->CheckVersionExists(arn);
  return Status::NotFound("The resource " + arn + " does not exist.");
}

Status RekognitionService::TagResource(const RequestContext& /*ctx*/,
                                       const TagResourceRequest& request) {
  OSPREY_RETURN_IF_ERROR(CheckResourceExists(request.resource_arn));
  return metadata_.SetTags(request.resource_arn, request.tags, options_.max_tags_per_resource);
}

Status RekognitionService::UntagResource(const RequestContext& /*ctx*/,
                                         const UntagResourceRequest& request) {
  OSPREY_RETURN_IF_ERROR(CheckResourceExists(request.resource_arn));
  return metadata_.RemoveTags(request.resource_arn, request.tag_keys);
}

Result<ListTagsForResourceResponse> RekognitionService::ListTagsForResource(
    const RequestContext& /*ctx*/, const ListTagsForResourceRequest& request) {
  OSPREY_RETURN_IF_ERROR(CheckResourceExists(request.resource_arn));
  OSPREY_ASSIGN_OR_RETURN(auto tags, metadata_.GetTags(request.resource_arn));
  return ListTagsForResourceResponse{std::move(tags)};
}

}  // namespace osprey::service
