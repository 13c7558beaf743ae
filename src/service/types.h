// Plain request/response structs of the Rekognition Custom Labels operations, free of any wire
// format (the AWS JSON names live only in api/). Field comments give the AWS member name.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace osprey::service {

// Who is calling and where: taken from the request's SigV4 scope by the API layer.
struct RequestContext {
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string request_id;
};

struct DatasetMetadata {       // DatasetMetadata
  int64_t creation_ms = 0;
  std::string dataset_type;    // "TRAIN" | "TEST"
  std::string dataset_arn;
  std::string status;
  std::string status_message;
  std::string status_message_code;
};

struct ProjectDescription {    // ProjectDescription
  std::string project_arn;
  int64_t creation_ms = 0;
  std::string status;
  std::vector<DatasetMetadata> datasets;
};

struct CreateProjectRequest {
  std::string project_name;                 // ProjectName
  std::map<std::string, std::string> tags;  // Tags (newer clients)
};
struct CreateProjectResponse {
  std::string project_arn;
};

struct DescribeProjectsRequest {
  std::string next_token;                   // "" = first page
  int max_results = 100;                    // 1..100
  std::vector<std::string> project_names;   // empty = all
};
struct DescribeProjectsResponse {
  std::vector<ProjectDescription> projects;
  std::string next_token;                   // "" = last page
};

struct DeleteProjectRequest {
  std::string project_arn;
};
struct DeleteProjectResponse {
  std::string status;                       // "DELETING"
};

struct TagResourceRequest {
  std::string resource_arn;
  std::map<std::string, std::string> tags;
};
struct UntagResourceRequest {
  std::string resource_arn;
  std::vector<std::string> tag_keys;
};
struct ListTagsForResourceRequest {
  std::string resource_arn;
};
struct ListTagsForResourceResponse {
  std::map<std::string, std::string> tags;
};

}  // namespace osprey::service
