#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.10: Datasets is exactly two {"Arn": ...} structures.
Result<nlohmann::json> DistributeDatasetEntries(const nlohmann::json& body,
                                                const service::RequestContext& ctx,
                                                service::RekognitionService& service) {
  RequestFields fields(body);
  service::DistributeDatasetEntriesRequest request;
  auto datasets = body.find("Datasets");
  if (datasets == body.end() || datasets->is_null()) {
    fields.Fail("1 validation error detected: Value null at 'datasets' failed to satisfy "
                "constraint: Member must not be null");
  } else if (!datasets->is_array() || datasets->size() != 2) {
    fields.Fail("1 validation error detected: Value at 'datasets' failed to satisfy constraint: "
                "Member must have length less than or equal to 2 and greater than or equal to 2");
  } else {
    for (size_t item_idx = 0; item_idx < datasets->size(); ++item_idx) {
      const nlohmann::json& item = (*datasets)[item_idx];
      if (!item.is_object()) {
        fields.Fail("Member 'datasets." + std::to_string(item_idx + 1) +
                    "' must be a structure.");
        break;
      }
      RequestFields item_fields(item, "datasets." + std::to_string(item_idx + 1));
      request.dataset_arns.push_back(
          item_fields.String("Arn", true, shapes::DatasetArn()).value_or(""));
      fields.Merge(item_fields);
    }
  }
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_RETURN_IF_ERROR(service.DistributeDatasetEntries(ctx, request));
  return nlohmann::json::object();
}

}  // namespace osprey::api
