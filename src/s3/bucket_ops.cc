// Bucket-level operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket,
// GetBucketLocation.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
#include "s3/operations.h"
#include "s3/xml.h"

namespace osprey::s3 {
namespace {
constexpr char kOwnerId[] = "osprey";
}  // namespace

http::HttpResponse ListBuckets(S3Call& call) {
  Result<std::vector<storage::BucketInfo>> buckets = call.store.ListBuckets();
  if (!buckets.ok()) return call.StoreError(buckets.status(), Missing::kBucket);
  XmlWriter xml("ListAllMyBucketsResult");
  xml.Open("Owner");
  xml.Element("ID", kOwnerId);
  xml.Element("DisplayName", kOwnerId);
  xml.Close("Owner");
  xml.Open("Buckets");
  for (const storage::BucketInfo& bucket : *buckets) {
    xml.Open("Bucket");
    xml.Element("Name", bucket.name);
    xml.Element("CreationDate", IsoTime(bucket.creation_ms));
    xml.Close("Bucket");
  }
  xml.Close("Buckets");
  return call.Xml(xml.Finish());
}

http::HttpResponse CreateBucket(S3Call& call) {
  // The body is an optional CreateBucketConfiguration (LocationConstraint); any region is
  // accepted, so it is verified and otherwise ignored.
  if (Status valid = storage::ValidateBucketName(call.target.bucket); !valid.ok()) {
    return call.StoreError(valid, Missing::kBucket);
  }
  S3Error error;
  if (!call.ReadSmallBody(&error).ok()) return call.Error(error);
  Status status = call.store.CreateBucket(call.target.bucket);
  if (!status.ok()) return call.StoreError(status, Missing::kBucket);
  http::HttpResponse response = call.Empty(200);
  response.SetHeader("Location", "/" + call.target.bucket);
  return response;
}

http::HttpResponse DeleteBucket(S3Call& call) {
  Status status = call.store.DeleteBucket(call.target.bucket);
  if (!status.ok()) return call.StoreError(status, Missing::kBucket);
  return call.Empty(204);
}

http::HttpResponse HeadBucket(S3Call& call) {
  if (!storage::ValidateBucketName(call.target.bucket).ok() ||
      !call.store.BucketExists(call.target.bucket)) {
    return call.Error("NoSuchBucket", "The specified bucket does not exist");
  }
  http::HttpResponse response = call.Empty(200);
  response.SetHeader("x-amz-bucket-region", call.auth.region);
  return response;
}

http::HttpResponse GetBucketLocation(S3Call& call) {
  if (!call.store.BucketExists(call.target.bucket)) {
    return call.Error("NoSuchBucket", "The specified bucket does not exist");
  }
  // An empty LocationConstraint means us-east-1; we answer with the caller's own region so that
  // SDKs keep signing for it.
  XmlWriter xml("LocationConstraint");
  std::string body = xml.Finish();
  if (call.auth.region != "us-east-1") {
    body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
        XmlEscape(call.auth.region) + "</LocationConstraint>";
  }
  return call.Xml(body);
}

}  // namespace osprey::s3
