// Deterministic fuzz-style test of the manifest line parser: a seeded mutator (bit flips, byte
// inserts/deletes, splices of JSON fragments) over the corpus in testdata/fuzz_corpus, plus a
// replay of every corpus file as a regular test. Properties: never crashes, never throws; a kept
// line serialises to a JSON object that parses back and re-parses to the same verdict.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "dataset/manifest_line.h"

namespace osprey::dataset {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> LoadCorpus() {
  std::vector<std::string> corpus;
  std::vector<fs::path> files;
  for (const auto& file : fs::directory_iterator(OSPREY_FUZZ_CORPUS_DIR)) files.push_back(file);
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    corpus.push_back(bytes.str());
  }
  return corpus;
}

// The property every input must satisfy.
void CheckOne(const std::string& input) {
  ManifestLimits limits;
  ParsedLine parsed = ParseManifestLine(input, limits);
  if (parsed.drop_code) return;
  AddLineError(parsed, "ERROR_INVALID_IMAGE");
  FinishLine(parsed);
  nlohmann::json doc = nlohmann::json::parse(parsed.entry.line, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << parsed.entry.line;
  ASSERT_TRUE(doc.contains("cl-metadata"));
  ASSERT_EQ(doc["cl-metadata"]["is_labeled"].get<bool>(), parsed.entry.is_labeled);
  // The stored entry form re-imports to the same labels (cl-* fields are recomputed).
  ParsedLine again = ParseManifestLine(parsed.entry.line, limits);
  ASSERT_FALSE(again.drop_code) << parsed.entry.line;
  ASSERT_EQ(again.entry.labels.size(), parsed.entry.labels.size()) << parsed.entry.line;
  ASSERT_EQ(again.entry.boxes.size(), parsed.entry.boxes.size());
}

std::string Mutate(const std::string& seed, std::mt19937_64& rng,
                   const std::vector<std::string>& corpus) {
  static const char* kFragments[] = {"{", "}", "[", "]", "\"", ":", ",", "-metadata", "null",
                                     "1e999", "-1", "\"s3://b/k\"", "\"class-map\"", "\\u0000",
                                     "\xff", "\r", "{\"a\":", "99999999999999999999"};
  std::string out = seed;
  int rounds = 1 + static_cast<int>(rng() % 8);
  for (int round_idx = 0; round_idx < rounds; ++round_idx) {
    size_t pos = out.empty() ? 0 : rng() % (out.size() + 1);
    switch (rng() % 5) {
      case 0:
        if (!out.empty() && pos < out.size()) out[pos] = static_cast<char>(out[pos] ^ (1 << (rng() % 8)));
        break;
      case 1:
        out.insert(pos, 1, static_cast<char>(rng() % 256));
        break;
      case 2:
        if (pos < out.size()) out.erase(pos, 1 + rng() % 8);
        break;
      case 3:
        out.insert(pos, kFragments[rng() % (sizeof(kFragments) / sizeof(kFragments[0]))]);
        break;
      default: {
        const std::string& other = corpus[rng() % corpus.size()];
        size_t from = other.empty() ? 0 : rng() % other.size();
        out.insert(pos, other.substr(from, rng() % 64));
      }
    }
  }
  return out;
}

TEST(FuzzCorpus, ReplayEveryFile) {
  std::vector<std::string> corpus = LoadCorpus();
  ASSERT_GE(corpus.size(), 10u);
  for (const auto& input : corpus) {
    CheckOne(input);
    if (HasFatalFailure()) return;
  }
}

TEST(ManifestLineFuzz, SeededMutationsNeverCrash) {
  std::vector<std::string> corpus = LoadCorpus();
  ASSERT_FALSE(corpus.empty());
  std::mt19937_64 rng(20261204);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string input = Mutate(corpus[rng() % corpus.size()], rng, corpus);
    CheckOne(input);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "iteration " << iteration << " input: " << input;
      return;
    }
  }
}

}  // namespace
}  // namespace osprey::dataset
