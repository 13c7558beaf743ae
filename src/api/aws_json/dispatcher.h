// The route table from X-Amz-Target operation names to operation functions.
#pragma once

#include <string_view>

#include "api/aws_json/operations/operations.h"

namespace osprey::api {

// Returns nullptr for an operation we do not serve (UnknownOperationException).
OperationFn FindOperation(std::string_view operation_name);

}  // namespace osprey::api
