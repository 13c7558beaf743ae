// ApiHandler end to end without sockets: signed requests in, AWS JSON out.
#include "api/api_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/aws_errors.h"
#include "auth/crypto.h"
#include "metadata/sqlite_metadata_store.h"
#include "storage/local_object_store.h"

namespace osprey::api {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    metadata_ = std::move(metadata::SqliteMetadataStore::Open((dir_ / "db").string())).value();
    objects_ = std::move(storage::LocalObjectStore::Open(dir_ / "buckets")).value();
    service_ = std::make_unique<service::RekognitionService>(*metadata_, *objects_, clock_,
                                                             service::ServiceOptions{});
    handler_ = std::make_unique<ApiHandler>(*service_, credentials_, clock_, ApiOptions{});
  }
  void TearDown() override { fs::remove_all(dir_); }

  http::HttpRequest Signed(const std::string& op, const std::string& body,
                           const std::string& secret = "secret", const std::string& key = "AKID",
                           const Clock* signing_clock = nullptr) {
    auth::SignableRequest s{"POST", "/",
                            {{"Host", "localhost:8085"},
                             {"Content-Type", "application/x-amz-json-1.1"},
                             {"X-Amz-Target", "RekognitionService." + op}},
                            auth::Sha256Hex(body)};
    auth::SignRequest(s, key, secret, "eu-west-1", "rekognition",
                      signing_clock ? *signing_clock : clock_);
    http::HttpRequest r;
    r.method = "POST";
    r.target = r.path = "/";
    for (auto& [name, value] : s.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(lower, value);
    }
    r.body = body;
    return r;
  }
  json Call(const std::string& op, const std::string& body, int* status = nullptr) {
    http::HttpResponse response = handler_->Handle(Signed(op, body));
    if (status) *status = response.status;
    return json::parse(response.body);
  }
  static std::string Type(const http::HttpResponse& r) {
    return json::parse(r.body).value("__type", "");
  }

  fs::path dir_;
  FakeClock clock_{1764855000000};
  auth::StaticCredentialStore credentials_{{{"AKID", "secret"}}};
  std::unique_ptr<metadata::SqliteMetadataStore> metadata_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
  std::unique_ptr<service::RekognitionService> service_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ApiHandlerTest, CreateThenDescribeUsesScopeRegionAndEpochSeconds) {
  int status = 0;
  json created = Call("CreateProject", R"({"ProjectName":"p1"})", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(created["ProjectArn"],
            "arn:aws:rekognition:eu-west-1:000000000000:project/p1/1764855000000");
  json described = Call("DescribeProjects", "{}");
  ASSERT_EQ(described["ProjectDescriptions"].size(), 1u);
  EXPECT_DOUBLE_EQ(described["ProjectDescriptions"][0]["CreationTimestamp"].get<double>(),
                   1764855000.0);
  EXPECT_FALSE(described.contains("NextToken"));
}

TEST_F(ApiHandlerTest, ValidationErrorsAreInvalidParameter) {
  int status = 0;
  for (const char* body : {R"({"ProjectName":"bad name!"})", R"({})", R"({"ProjectName":7})",
                           R"({"ProjectName":""})"}) {
    json error = Call("CreateProject", body, &status);
    EXPECT_EQ(status, 400) << body;
    EXPECT_EQ(error["__type"], "InvalidParameterException") << body;
    EXPECT_FALSE(error["Message"].get<std::string>().empty());
  }
  std::string long_name(256, 'a');
  EXPECT_EQ(Call("CreateProject", R"({"ProjectName":")" + long_name + "\"}")["__type"],
            "InvalidParameterException");
  EXPECT_EQ(Call("DescribeProjects", R"({"MaxResults":500})")["__type"], "InvalidParameterException");
  EXPECT_EQ(Call("DescribeProjects", R"({"NextToken":"abc"})")["__type"],
            "InvalidPaginationTokenException");
  EXPECT_EQ(Call("DeleteProject", R"({"ProjectArn":"arn:aws:rekognition:us-east-1:000000000000:project/x"})")["__type"],
            "InvalidParameterException");
  EXPECT_EQ(Call("TagResource", R"({"ResourceArn":"arn:aws:rekognition:us-east-1:000000000000:project/x/1","Tags":{"aws:x":"y"}})")["__type"],
            "InvalidParameterException");
}

TEST_F(ApiHandlerTest, PolicyDocumentMustBeAnIamPolicy) {
  for (const char* document : {"not json", "[]", R"({\"Version\":\"2012-10-17\"})"}) {
    int status = 0;
    json error = Call("PutProjectPolicy",
                      std::string(R"({"ProjectArn":"arn:aws:rekognition:us-east-1:000000000000:project/p/1",)"
                                  R"("PolicyName":"share","PolicyDocument":")") + document + "\"}",
                      &status);
    EXPECT_EQ(status, 400) << document;
    EXPECT_EQ(error["__type"], "MalformedPolicyDocumentException") << document;
  }
}

TEST_F(ApiHandlerTest, DuplicateNameIsResourceInUse) {
  Call("CreateProject", R"({"ProjectName":"dup"})");
  EXPECT_EQ(Call("CreateProject", R"({"ProjectName":"dup"})")["__type"], "ResourceInUseException");
}

TEST_F(ApiHandlerTest, ProtocolErrors) {
  EXPECT_EQ(Type(handler_->Handle(Signed("NoSuchOp", "{}"))), "UnknownOperationException");
  EXPECT_EQ(Type(handler_->Handle(Signed("CreateProject", "{not json"))), "SerializationException");
  EXPECT_EQ(Type(handler_->Handle(Signed("CreateProject", "[1]"))), "SerializationException");
  EXPECT_EQ(Type(handler_->Handle(Signed("CreateProject", std::string(100000, '[')))),
            "SerializationException");
  EXPECT_EQ(Type(handler_->Handle(Signed("CreateProject", "{\"ProjectName\":\"\xff\"}"))),
            "SerializationException");
  http::HttpResponse ok = handler_->Handle(Signed("DescribeProjects", "{}"));
  const std::string* request_id = nullptr;
  for (auto& [n, v] : ok.headers) if (n == "x-amzn-RequestId") request_id = &v;
  ASSERT_NE(request_id, nullptr);
  EXPECT_EQ(request_id->size(), 36u);
  EXPECT_EQ(ok.content_type, "application/x-amz-json-1.1");
}

TEST_F(ApiHandlerTest, AuthenticationFailures) {
  EXPECT_EQ(Type(handler_->Handle(Signed("DescribeProjects", "{}", "wrong"))),
            "InvalidSignatureException");
  EXPECT_EQ(Type(handler_->Handle(Signed("DescribeProjects", "{}", "secret", "NOBODY"))),
            "UnrecognizedClientException");
  FakeClock past(clock_.NowMillis() - 6 * 60 * 1000);
  http::HttpResponse skewed = handler_->Handle(Signed("DescribeProjects", "{}", "secret", "AKID", &past));
  EXPECT_EQ(Type(skewed), "InvalidSignatureException");
  EXPECT_NE(json::parse(skewed.body)["Message"].get<std::string>().find("Signature expired"),
            std::string::npos);
  http::HttpRequest unsigned_request = Signed("DescribeProjects", "{}");
  std::erase_if(unsigned_request.headers, [](auto& h) { return h.first == "authorization"; });
  EXPECT_EQ(Type(handler_->Handle(unsigned_request)), "MissingAuthenticationTokenException");
  http::HttpRequest tampered = Signed("CreateProject", R"({"ProjectName":"a"})");
  tampered.body = R"({"ProjectName":"b"})";
  EXPECT_EQ(Type(handler_->Handle(tampered)), "InvalidSignatureException");
  EXPECT_TRUE(metadata_->ListProjects(0, 10, {})->projects.empty());
}

TEST(AwsErrorsTest, EveryStatusCodeMapsToAModelledError) {
  for (int code = 1; code <= static_cast<int>(StatusCode::kInternal); ++code) {
    AwsError error = AwsErrorFor(static_cast<StatusCode>(code));
    EXPECT_FALSE(error.type.empty());
    bool fault = error.type == "InternalServerError" || error.type == "ThrottlingException";
    EXPECT_EQ(error.http_status, fault ? 500 : 400) << error.type;
  }
  EXPECT_EQ(AwsErrorFor(StatusCode::kNotFound).type, "ResourceNotFoundException");
  EXPECT_EQ(AwsErrorFor(StatusCode::kInUse).type, "ResourceInUseException");
  EXPECT_EQ(AwsErrorFor(StatusCode::kInvalidArgument).type, "InvalidParameterException");
  json body = json::parse(AwsErrorBody(kInvalidSignature, "m", "rid"));
  EXPECT_EQ(body["__type"], "InvalidSignatureException");
  EXPECT_EQ(body["Message"], "m");
}

TEST(JsonDepthTest, CountsOnlyStructuralBrackets) {
  EXPECT_FALSE(JsonTooDeep(R"({"a":"[[[[[[[[[[[[["})", 3));
  EXPECT_TRUE(JsonTooDeep("[[[[", 3));
  EXPECT_FALSE(JsonTooDeep("[[[]]]", 3));
}

}  // namespace
}  // namespace osprey::api
