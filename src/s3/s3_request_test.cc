#include "s3/s3_request.h"

#include <gtest/gtest.h>

#include "s3/xml.h"

namespace osprey::s3 {
namespace {

http::HttpRequest Request(std::string target, std::string host = "127.0.0.1:8085") {
  http::HttpRequest request;
  request.method = "GET";
  request.target = target;
  size_t q = target.find('?');
  request.path = target.substr(0, q);
  request.query = q == std::string::npos ? "" : target.substr(q + 1);
  request.headers.emplace_back("host", host);
  return request;
}

TEST(S3RequestTest, PathAndVirtualHostStyle) {
  auto path_style = ParseTarget(Request("/my-bucket/a%20b/c+d?list-type=2&prefix=x%2Fy"));
  ASSERT_TRUE(path_style.has_value());
  EXPECT_EQ(path_style->bucket, "my-bucket");
  EXPECT_EQ(path_style->key, "a b/c+d");
  EXPECT_EQ(path_style->Param("prefix"), "x/y");
  EXPECT_TRUE(path_style->Has("list-type"));
  auto service = ParseTarget(Request("/"));
  EXPECT_EQ(service->bucket, "");
  auto bucket_only = ParseTarget(Request("/my-bucket/"));
  EXPECT_EQ(bucket_only->bucket, "my-bucket");
  EXPECT_EQ(bucket_only->key, "");
  auto virtual_host = ParseTarget(Request("/k/x.jpg", "my-bucket.localhost:8085"));
  EXPECT_EQ(virtual_host->bucket, "my-bucket");
  EXPECT_EQ(virtual_host->key, "k/x.jpg");
  EXPECT_FALSE(ParseTarget(Request("/b/%zz")).has_value());
  EXPECT_FALSE(ParseTarget(Request("/b/k%2")).has_value());
  EXPECT_EQ(ParseTarget(Request("/b/%252e%252e"))->key, "%2e%2e");  // decoded once only
}

TEST(S3RequestTest, Ranges) {
  ByteRange r;
  EXPECT_EQ(ParseRange("bytes=0-9", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.start, 0);
  EXPECT_EQ(r.length, 10);
  EXPECT_EQ(ParseRange("bytes=90-200", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.length, 10);
  EXPECT_EQ(ParseRange("bytes=-30", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.start, 70);
  EXPECT_EQ(ParseRange("bytes=-300", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.start, 0);
  EXPECT_EQ(ParseRange("bytes=50-", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.length, 50);
  EXPECT_EQ(ParseRange("bytes=100-", 100, &r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-0", 0, &r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100, &r), RangeKind::kUnsatisfiable);
  for (const char* ignored :
       {"bytes=5-1", "bytes=0-1,4-5", "items=0-1", "bytes=a-b", "bytes=99999999999999999999-"}) {
    EXPECT_EQ(ParseRange(ignored, 100, &r), RangeKind::kNone) << ignored;
  }
}

TEST(S3RequestTest, UrlEncodedKeys) {
  EXPECT_EQ(UrlEncodeKey("a b/c+d%é"), "a%20b/c%2Bd%25%C3%A9");
}

TEST(XmlTest, ParsesCompleteMultipartUpload) {
  auto doc = ParseXml(
      "<?xml version=\"1.0\"?>\n<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
      "2006-03-01/\"><!-- c --><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag>"
      "</Part><Part><PartNumber>2</PartNumber><ETag>&#34;d&#x65;f&#34;</ETag></Part>"
      "</CompleteMultipartUpload>");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "CompleteMultipartUpload");
  ASSERT_EQ(doc->children.size(), 2u);
  EXPECT_EQ(doc->children[0].Child("ETag")->text, "\"abc\"");
  EXPECT_EQ(doc->children[1].Child("ETag")->text, "\"def\"");
}

TEST(XmlTest, RefusesHostileDocuments) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (const std::string& bad :
       {std::string("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"),
        std::string("<x>&e;</x>"), std::string("<x><y></x></y>"), std::string("<x>"),
        std::string("<x/><y/>"), std::string(""), std::string("<x><![CDATA[a]]></x>"), deep,
        std::string("<x>&#0;</x>"), std::string("<x a=b/>")}) {
    EXPECT_FALSE(ParseXml(bad).ok()) << bad;
  }
  std::string many = "<x>";
  for (int i = 0; i < 30000; ++i) many += "<y/>";
  EXPECT_FALSE(ParseXml(many + "</x>").ok());
}

TEST(XmlTest, WriterEscapes) {
  XmlWriter xml("R");
  xml.Element("Key", "a<b>&\"c'");
  EXPECT_NE(xml.Finish().find("<Key>a&lt;b&gt;&amp;&quot;c&apos;</Key>"), std::string::npos);
}

}  // namespace
}  // namespace osprey::s3
