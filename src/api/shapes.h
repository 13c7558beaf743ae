// Constraint rules for the model's shared string shapes (rekognition-custom-labels-model.json).
#pragma once

#include "api/request_fields.h"

namespace osprey::api::shapes {

const StringRule& ProjectName();         // 1..255, [a-zA-Z0-9_.\-]+
const StringRule& VersionName();         // 1..255, [a-zA-Z0-9_.\-]+
const StringRule& ProjectArn();          // 20..2048, project ARN pattern
const StringRule& ProjectVersionArn();   // 20..2048, version ARN pattern
const StringRule& DatasetArn();          // 20..2048, dataset ARN pattern
const StringRule& ResourceArn();         // 20..2048, no pattern
const StringRule& TagKey();              // 1..128
const StringRule& TagValue();            // 0..256
const StringRule& PaginationToken();     // 0..1024 (ExtendedPaginationToken)
const StringRule& S3Bucket();            // 3..255, [0-9A-Za-z\.\-_]*
const StringRule& S3ObjectName();        // 1..1024
const StringRule& S3KeyPrefix();         // 0..1024
const StringRule& PolicyName();          // 1..128, [a-zA-Z0-9_.\-]+
const StringRule& PolicyRevisionId();    // 0..64, [0-9A-Fa-f]+
const StringRule& PolicyDocument();      // 1..2000, [\u0009\u000A\u000D\u0020-\u00FF]+
const StringRule& KmsKeyId();            // 1..2048, ^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$
const StringRule& DatasetLabel();        // 1..255, .{1,}
const StringRule& QueryString();         // 1..2048, .*\S.* (SourceRefContains)
const StringRule& DatasetType();         // enum TRAIN | TEST

}  // namespace osprey::api::shapes
