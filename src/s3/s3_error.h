// S3Error: an S3 REST error (code, HTTP status, message) and its XML body. The code-to-status
// table lives only in s3_error.cc; nothing outside src/s3 knows S3 error codes.
// Plain data, thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "http/http_server.h"

namespace osprey::s3 {

struct S3Error {
  std::string code;     // "NoSuchKey"
  std::string message;  // human-readable
  int http_status = 500;
};

// Builds an error whose HTTP status comes from the table in s3_error.cc (unknown codes: 500).
S3Error MakeError(std::string_view code, std::string message);

// Which S3 code a store kNotFound means in the calling context.
enum class Missing { kBucket, kKey, kUpload };

// Maps a store Status to an S3 error: kNotFound -> NoSuchBucket/NoSuchKey/NoSuchUpload (per
// `missing`; a message naming a bucket always wins), kInvalidArgument -> InvalidArgument (or
// InvalidBucketName / KeyTooLongError when the message says so), kAlreadyExists ->
// BucketAlreadyOwnedByYou, kInUse -> BucketNotEmpty, anything else -> InternalError.
S3Error FromStatus(const Status& status, Missing missing);

// <Error><Code/><Message/><Resource/><RequestId/></Error> with the x-amz-request-id header.
// HEAD responses carry no body (the HTTP layer drops it), only the status.
http::HttpResponse ErrorResponse(const S3Error& error, std::string_view resource,
                                 std::string_view request_id);

}  // namespace osprey::s3
