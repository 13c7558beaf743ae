// Shared by the model-version operation files: the ModelService behind RekognitionService.
#pragma once

#include "common/result.h"
#include "service/model_service.h"
#include "service/rekognition_service.h"

namespace osprey::api {

inline Result<service::ModelService*> Models(service::RekognitionService& service) {
  if (service.models() == nullptr) return Status::Internal("model service is not configured");
  return service.models();
}

}  // namespace osprey::api
