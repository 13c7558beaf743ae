#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"
#include "auth/crypto.h"

namespace osprey::api {

// rekognition-api.md §3.9. Changes.GroundTruth is a blob: base64 on the wire, 1..5242880 bytes
// once decoded (GroundTruthBlob).
Result<nlohmann::json> UpdateDatasetEntries(const nlohmann::json& body,
                                            const service::RequestContext& ctx,
                                            service::RekognitionService& service) {
  constexpr size_t kMaxGroundTruthBytes = 5242880;
  RequestFields fields(body);
  service::UpdateDatasetEntriesRequest request;
  request.dataset_arn = fields.String("DatasetArn", true, shapes::DatasetArn()).value_or("");
  if (const nlohmann::json* changes = fields.Object("Changes", true)) {
    RequestFields change_fields(*changes, "changes");
    // Base64 is 4/3 of the bytes; the decoded size is checked below.
    static const StringRule kBlob{.min = 1, .max = (kMaxGroundTruthBytes / 3 + 1) * 4, .allowed = {}};
    std::optional<std::string> encoded = change_fields.String("GroundTruth", true, kBlob);
    if (encoded) {
      Result<std::string> decoded = auth::Base64Decode(*encoded);
      if (!decoded.ok() || decoded->empty() || decoded->size() > kMaxGroundTruthBytes) {
        change_fields.Fail(
            "1 validation error detected: Value at 'changes.groundTruth' failed to satisfy "
            "constraint: Member must be base64 of 1 to 5242880 bytes");
      } else {
        request.ground_truth = std::move(decoded).value();
      }
    }
    fields.Merge(change_fields);
  }
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_RETURN_IF_ERROR(service.UpdateDatasetEntries(ctx, request));
  return nlohmann::json::object();
}

}  // namespace osprey::api
