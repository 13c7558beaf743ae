// One function per Rekognition operation: JSON request body in, JSON response body out.
// Each validates its members against the model (api/shapes.h), calls the service, and
// serialises the result. Errors come back as Status; the dispatcher maps them to AWS errors.
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "service/rekognition_service.h"

namespace osprey::api {

using OperationFn = Result<nlohmann::json> (*)(const nlohmann::json& body,
                                                const service::RequestContext& ctx,
                                                service::RekognitionService& service);

Result<nlohmann::json> CreateProject(const nlohmann::json&, const service::RequestContext&,
                                     service::RekognitionService&);
Result<nlohmann::json> DescribeProjects(const nlohmann::json&, const service::RequestContext&,
                                        service::RekognitionService&);
Result<nlohmann::json> DeleteProject(const nlohmann::json&, const service::RequestContext&,
                                     service::RekognitionService&);
Result<nlohmann::json> TagResource(const nlohmann::json&, const service::RequestContext&,
                                   service::RekognitionService&);
Result<nlohmann::json> UntagResource(const nlohmann::json&, const service::RequestContext&,
                                     service::RekognitionService&);
Result<nlohmann::json> ListTagsForResource(const nlohmann::json&, const service::RequestContext&,
                                           service::RekognitionService&);

// Model versions (rekognition-api.md §3.11-3.17).
Result<nlohmann::json> CreateProjectVersion(const nlohmann::json&, const service::RequestContext&,
                                            service::RekognitionService&);
Result<nlohmann::json> DescribeProjectVersions(const nlohmann::json&, const service::RequestContext&,
                                               service::RekognitionService&);
Result<nlohmann::json> StartProjectVersion(const nlohmann::json&, const service::RequestContext&,
                                           service::RekognitionService&);
Result<nlohmann::json> StopProjectVersion(const nlohmann::json&, const service::RequestContext&,
                                          service::RekognitionService&);
Result<nlohmann::json> DeleteProjectVersion(const nlohmann::json&, const service::RequestContext&,
                                            service::RekognitionService&);
Result<nlohmann::json> DetectCustomLabels(const nlohmann::json&, const service::RequestContext&,
                                          service::RekognitionService&);

// Datasets (rekognition-api.md §3.4-3.10).
Result<nlohmann::json> CreateDataset(const nlohmann::json&, const service::RequestContext&,
                                     service::RekognitionService&);
Result<nlohmann::json> DescribeDataset(const nlohmann::json&, const service::RequestContext&,
                                       service::RekognitionService&);
Result<nlohmann::json> DeleteDataset(const nlohmann::json&, const service::RequestContext&,
                                     service::RekognitionService&);
Result<nlohmann::json> ListDatasetEntries(const nlohmann::json&, const service::RequestContext&,
                                          service::RekognitionService&);
Result<nlohmann::json> ListDatasetLabels(const nlohmann::json&, const service::RequestContext&,
                                         service::RekognitionService&);
Result<nlohmann::json> UpdateDatasetEntries(const nlohmann::json&, const service::RequestContext&,
                                            service::RekognitionService&);
Result<nlohmann::json> DistributeDatasetEntries(const nlohmann::json&,
                                                const service::RequestContext&,
                                                service::RekognitionService&);

Result<nlohmann::json> CopyProjectVersion(const nlohmann::json&, const service::RequestContext&,
                                          service::RekognitionService&);
Result<nlohmann::json> PutProjectPolicy(const nlohmann::json&, const service::RequestContext&,
                                        service::RekognitionService&);
Result<nlohmann::json> ListProjectPolicies(const nlohmann::json&, const service::RequestContext&,
                                           service::RekognitionService&);
Result<nlohmann::json> DeleteProjectPolicy(const nlohmann::json&, const service::RequestContext&,
                                           service::RekognitionService&);

}  // namespace osprey::api
