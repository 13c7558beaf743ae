#include "s3/s3_error.h"

#include <utility>

#include "s3/xml.h"

namespace osprey::s3 {
namespace {

// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
constexpr std::pair<std::string_view, int> kStatusByCode[] = {
    {"AccessDenied", 403},
    {"AuthorizationHeaderMalformed", 400},
    {"AuthorizationQueryParametersError", 400},
    {"BadDigest", 400},
    {"BucketAlreadyOwnedByYou", 409},
    {"BucketNotEmpty", 409},
    {"EntityTooLarge", 400},
    {"EntityTooSmall", 400},
    {"IncompleteBody", 400},
    {"InternalError", 500},
    {"InvalidAccessKeyId", 403},
    {"InvalidArgument", 400},
    {"InvalidBucketName", 400},
    {"InvalidDigest", 400},
    {"InvalidPart", 400},
    {"InvalidPartOrder", 400},
    {"InvalidRange", 416},
    {"InvalidRequest", 400},
    {"KeyTooLongError", 400},
    {"MalformedTrailerError", 400},
    {"MalformedXML", 400},
    {"MethodNotAllowed", 405},
    {"MissingContentLength", 411},
    {"MissingSecurityHeader", 400},
    {"NoSuchBucket", 404},
    {"NoSuchKey", 404},
    {"NoSuchUpload", 404},
    {"NotImplemented", 501},
    {"PreconditionFailed", 412},
    {"RequestTimeTooSkewed", 403},
    {"SignatureDoesNotMatch", 403},
    {"SlowDown", 503},
    {"XAmzContentSHA256Mismatch", 400},
    {"InvalidStorageClass", 400},
    {"ServiceUnavailable", 503},
    {"ExpiredToken", 400},
    {"InvalidURI", 400},
};

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

S3Error MakeError(std::string_view code, std::string message) {
  S3Error error{std::string(code), std::move(message), 500};
  for (const auto& [name, status] : kStatusByCode) {
    if (name == code) error.http_status = status;
  }
  return error;
}

S3Error FromStatus(const Status& status, Missing missing) {
  const std::string& message = status.message();
  switch (status.code()) {
    case StatusCode::kNotFound:
      if (Contains(message, "bucket does not exist") || missing == Missing::kBucket) {
        return MakeError("NoSuchBucket", "The specified bucket does not exist");
      }
      if (missing == Missing::kUpload) {
        return MakeError("NoSuchUpload",
                         "The specified multipart upload does not exist. The upload ID may be "
                         "invalid, or the upload may have been aborted or completed.");
      }
      return MakeError("NoSuchKey", "The specified key does not exist.");
    case StatusCode::kInvalidArgument:
      if (Contains(message, "bucket is not valid")) return MakeError("InvalidBucketName", message);
      if (Contains(message, "too long")) return MakeError("KeyTooLongError", message);
      return MakeError("InvalidArgument", message);
    case StatusCode::kAlreadyExists:
      return MakeError("BucketAlreadyOwnedByYou",
                       "Your previous request to create the named bucket succeeded and you "
                       "already own it.");
    case StatusCode::kInUse:
      return MakeError("BucketNotEmpty", "The bucket you tried to delete is not empty");
    default:
      return MakeError("InternalError", "We encountered an internal error: " + message);
  }
}

http::HttpResponse ErrorResponse(const S3Error& error, std::string_view resource,
                                 std::string_view request_id) {
  http::HttpResponse response;
  response.status = error.http_status;
  response.content_type = "application/xml";
  response.SetHeader("x-amz-request-id", std::string(request_id));
  XmlWriter xml("Error", /*with_namespace=*/false);
  xml.Element("Code", error.code);
  xml.Element("Message", error.message);
  xml.Element("Resource", resource);
  xml.Element("RequestId", request_id);
  response.body = xml.Finish();
  return response;
}

}  // namespace osprey::s3
