#include "api/aws_json/dispatcher.h"

#include <utility>

namespace osprey::api {

OperationFn FindOperation(std::string_view operation_name) {
  static constexpr std::pair<std::string_view, OperationFn> kRoutes[] = {
      {"CreateProject", &CreateProject},
      {"DescribeProjects", &DescribeProjects},
      {"DeleteProject", &DeleteProject},
      {"TagResource", &TagResource},
      {"UntagResource", &UntagResource},
      {"ListTagsForResource", &ListTagsForResource},
      {"CreateProjectVersion", &CreateProjectVersion},
      {"DescribeProjectVersions", &DescribeProjectVersions},
      {"StartProjectVersion", &StartProjectVersion},
      {"StopProjectVersion", &StopProjectVersion},
      {"DeleteProjectVersion", &DeleteProjectVersion},
      {"DetectCustomLabels", &DetectCustomLabels},
      {"CopyProjectVersion", &CopyProjectVersion},
      {"PutProjectPolicy", &PutProjectPolicy},
      {"ListProjectPolicies", &ListProjectPolicies},
      {"DeleteProjectPolicy", &DeleteProjectPolicy},
      {"CreateDataset", &CreateDataset},
      {"DescribeDataset", &DescribeDataset},
      {"DeleteDataset", &DeleteDataset},
      {"ListDatasetEntries", &ListDatasetEntries},
      {"ListDatasetLabels", &ListDatasetLabels},
      {"UpdateDatasetEntries", &UpdateDatasetEntries},
      {"DistributeDatasetEntries", &DistributeDatasetEntries},
  };
  for (const auto& [name, fn] : kRoutes) {
    if (name == operation_name) return fn;
  }
  return nullptr;
}

}  // namespace osprey::api
