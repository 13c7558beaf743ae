// PutProjectPolicy, ListProjectPolicies, DeleteProjectPolicy (rekognition-api.md §3.21-3.23):
// three small operations over one record, kept together.
#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/aws_json/serializers.h"
#include "api/shapes.h"

namespace osprey::api {

Result<nlohmann::json> PutProjectPolicy(const nlohmann::json& body,
                                        const service::RequestContext& /*ctx*/,
                                        service::RekognitionService& service) {
  RequestFields fields(body);
  service::PutProjectPolicyRequest request;
  request.project_arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  request.policy_name = fields.String("PolicyName", true, shapes::PolicyName()).value_or("");
  request.revision_id =
      fields.String("PolicyRevisionId", false, shapes::PolicyRevisionId()).value_or("");
  request.document = fields.String("PolicyDocument", true, shapes::PolicyDocument()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  // The document is IAM policy JSON; only its shape is checked (one account: never enforced).
  nlohmann::json document = nlohmann::json::parse(request.document, nullptr, false);
  if (document.is_discarded() || !document.is_object() || !document.contains("Statement")) {
    return Status(StatusCode::kMalformedPolicy,
                  "The policy document is not a JSON IAM policy with a Statement.");
  }
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(std::string revision, models->PutProjectPolicy(request));
  return nlohmann::json{{"PolicyRevisionId", revision}};
}

Result<nlohmann::json> ListProjectPolicies(const nlohmann::json& body,
                                           const service::RequestContext& /*ctx*/,
                                           service::RekognitionService& service) {
  RequestFields fields(body);
  std::string arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  std::string token = fields.String("NextToken", false, shapes::PaginationToken()).value_or("");
  int max_results = static_cast<int>(fields.Integer("MaxResults", false, 1, 5).value_or(5));
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(service::ListProjectPoliciesResponse response,
                          models->ListProjectPolicies(arn, token, max_results));
  nlohmann::json policies = nlohmann::json::array();
  for (const auto& policy : response.policies) {
    policies.push_back({{"ProjectArn", policy.project_arn},
                        {"PolicyName", policy.record.name},
                        {"PolicyRevisionId", policy.record.revision_id},
                        {"PolicyDocument", policy.record.document},
                        {"CreationTimestamp", EpochSeconds(policy.record.creation_ms)},
                        {"LastUpdatedTimestamp", EpochSeconds(policy.record.updated_ms)}});
  }
  nlohmann::json out = {{"ProjectPolicies", policies}};
  if (!response.next_token.empty()) out["NextToken"] = response.next_token;
  return out;
}

Result<nlohmann::json> DeleteProjectPolicy(const nlohmann::json& body,
                                           const service::RequestContext& /*ctx*/,
                                           service::RekognitionService& service) {
  RequestFields fields(body);
  std::string arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  std::string name = fields.String("PolicyName", true, shapes::PolicyName()).value_or("");
  std::string revision =
      fields.String("PolicyRevisionId", false, shapes::PolicyRevisionId()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_RETURN_IF_ERROR(models->DeleteProjectPolicy(arn, name, revision));
  return nlohmann::json::object();
}

}  // namespace osprey::api
