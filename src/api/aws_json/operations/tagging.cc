// TagResource, UntagResource, ListTagsForResource (rekognition-api.md §3.18-3.20): three tiny
// operations over one resource-ARN rule, kept together.
#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

Result<nlohmann::json> TagResource(const nlohmann::json& body, const service::RequestContext& ctx,
                                   service::RekognitionService& service) {
  RequestFields fields(body);
  service::TagResourceRequest request;
  request.resource_arn = fields.String("ResourceArn", true, shapes::ResourceArn()).value_or("");
  request.tags = fields.StringMap("Tags", true, 0, 200, shapes::TagKey(), shapes::TagValue())
                     .value_or(std::map<std::string, std::string>{});
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_RETURN_IF_ERROR(service.TagResource(ctx, request));
  return nlohmann::json::object();
}

Result<nlohmann::json> UntagResource(const nlohmann::json& body, const service::RequestContext& ctx,
                                     service::RekognitionService& service) {
  RequestFields fields(body);
  service::UntagResourceRequest request;
  request.resource_arn = fields.String("ResourceArn", true, shapes::ResourceArn()).value_or("");
  request.tag_keys = fields.StringList("TagKeys", true, 0, 200, shapes::TagKey())
                         .value_or(std::vector<std::string>{});
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_RETURN_IF_ERROR(service.UntagResource(ctx, request));
  return nlohmann::json::object();
}

Result<nlohmann::json> ListTagsForResource(const nlohmann::json& body,
                                           const service::RequestContext& ctx,
                                           service::RekognitionService& service) {
  RequestFields fields(body);
  service::ListTagsForResourceRequest request;
  request.resource_arn = fields.String("ResourceArn", true, shapes::ResourceArn()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ListTagsForResourceResponse response,
                          service.ListTagsForResource(ctx, request));
  return nlohmann::json{{"Tags", response.tags}};
}

}  // namespace osprey::api
