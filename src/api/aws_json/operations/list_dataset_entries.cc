#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.7. Filters combine with AND; ContainsLabels matches any of its labels.
Result<nlohmann::json> ListDatasetEntries(const nlohmann::json& body,
                                          const service::RequestContext& ctx,
                                          service::RekognitionService& service) {
  RequestFields fields(body);
  service::ListDatasetEntriesRequest request;
  request.dataset_arn = fields.String("DatasetArn", true, shapes::DatasetArn()).value_or("");
  request.contains_labels = fields.StringList("ContainsLabels", false, 1, 10, shapes::DatasetLabel())
                                .value_or(std::vector<std::string>{});
  request.labeled = fields.Bool("Labeled", false);
  request.source_ref_contains =
      fields.String("SourceRefContains", false, shapes::QueryString()).value_or("");
  request.has_errors = fields.Bool("HasErrors", false);
  request.next_token = fields.String("NextToken", false, shapes::PaginationToken()).value_or("");
  request.max_results = static_cast<int>(fields.Integer("MaxResults", false, 1, 100).value_or(100));
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ListDatasetEntriesResponse response,
                          service.ListDatasetEntries(ctx, request));
  nlohmann::json out = {{"DatasetEntries", response.entries}};
  if (!response.next_token.empty()) out["NextToken"] = response.next_token;
  return out;
}

}  // namespace osprey::api
