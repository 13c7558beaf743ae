// manifest_ingest: validates a generated Ground Truth manifest (default 100,000 lines) whose
// images are present in a LocalObjectStore, then imports it into a dataset through the real
// service path (staging in SQLite, commit). Prints lines/s for each phase and the peak RSS.
//
//   build/bench/manifest_ingest [--lines N] [--dir /tmp/osprey-bench-ingest] [--keep]
//
// The images are 33-byte PNG headers (all the validator reads) written straight into the store's
// on-disk layout (storage/local_object_store.h), because 100,000 fsync'ed PutObject calls would
// measure the disk, not the validator. Mixes classification (2/3) and detection (1/3) lines.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dataset/manifest_import.h"
#include "metadata/sqlite_metadata_store.h"
#include "service/rekognition_service.h"
#include "storage/local_object_store.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string PngHeader(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xFF);
  }
  return png + std::string("\x08\x02\0\0\0\0\0\0\0", 9);
}

std::string Line(int64_t line_idx) {
  std::string ref = "s3://bench-images/img/" + std::to_string(line_idx % 1000) + "/" +
                    std::to_string(line_idx) + ".png";
  const char* classes[] = {"bird", "sea_animal", "bug", "mammal", "fruit", "vegetable",
                           "vehicle", "flower"};
  std::string label = classes[line_idx % 8];
  if (line_idx % 3 == 2) {
    json line = {{"source-ref", ref},
                 {"bounding-box",
                  {{"image_size", {{{"width", 640}, {"height", 480}, {"depth", 3}}}},
                   {"annotations", {{{"class_id", 0}, {"left", 10}, {"top", 20},
                                     {"width", 100}, {"height", 80}},
                                    {{"class_id", 1}, {"left", 200}, {"top", 100},
                                     {"width", 150}, {"height", 120}}}}}},
                 {"bounding-box-metadata",
                  {{"objects", {{{"confidence", 1}}, {{"confidence", 1}}}},
                   {"class-map", {{"0", label}, {"1", classes[(line_idx + 3) % 8]}}},
                   {"type", "groundtruth/object-detection"},
                   {"human-annotated", "yes"},
                   {"creation-date", "2024-01-01T00:00:00.000000"},
                   {"job-name", "labeling-job/bench"}}}};
    return line.dump();
  }
  json line = {{"source-ref", ref},
               {"objects8", line_idx % 8},
               {"objects8-metadata",
                {{"confidence", 1}, {"job-name", "labeling-job/objects8"}, {"class-name", label},
                 {"human-annotated", "yes"}, {"creation-date", "2024-01-01T00:00:00.000000"},
                 {"type", "groundtruth/image-classification"}}}};
  return line.dump();
}

void WriteImages(const fs::path& buckets, int64_t lines) {
  fs::create_directories(buckets / "bench-images");
  std::ofstream(buckets / "bench-images" / ".osprey.bucket") << "1\n";
  const std::string png = PngHeader(640, 480);
  for (int64_t line_idx = 0; line_idx < lines; ++line_idx) {
    fs::path dir = buckets / "bench-images" / "img" / std::to_string(line_idx % 1000) /
                   (std::to_string(line_idx) + ".png");
    fs::create_directories(dir);
    std::ofstream(dir / ".osprey.obj", std::ios::binary) << png;
  }
}

double PeakRssMiB() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Validate and import a generated Ground Truth manifest");
  int64_t lines = 100000;
  std::string dir = (fs::temp_directory_path() / "osprey-bench-ingest").string();
  bool keep = false;
  app.add_option("--lines", lines, "Manifest lines")->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (replaced)")->capture_default_str();
  app.add_flag("--keep", keep, "Keep the scratch directory");
  CLI11_PARSE(app, argc, argv);

  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as each phase ends
  // The binary links LibTorch through `osprey`; its start-up pages are the baseline.
  std::printf("baseline: RSS %.1f MiB before any work\n", PeakRssMiB());
  fs::remove_all(dir);
  auto t0 = Clock::now();
  WriteImages(fs::path(dir) / "buckets", lines);
  auto objects =
      std::move(osprey::storage::LocalObjectStore::Open(fs::path(dir) / "buckets")).value();
  (void)objects->CreateBucket("bench-manifests");
  // Streamed in 1 MiB pieces so that the setup does not inflate the peak RSS reported below.
  auto put = objects->PutObjectStream(
      "bench-manifests", "bench.manifest",
      [lines](const osprey::storage::ChunkWriter& write) {
        std::string chunk;
        for (int64_t line_idx = 0; line_idx < lines; ++line_idx) {
          chunk += Line(line_idx) + "\n";
          if (chunk.size() >= (1 << 20) || line_idx + 1 == lines) {
            OSPREY_RETURN_IF_ERROR(write(chunk));
            chunk.clear();
          }
        }
        return osprey::Status::Ok();
      },
      {});
  if (!put.ok()) return 1;
  std::printf("setup: %lld lines, %.1f MiB manifest, images written in %.1f s, RSS %.1f MiB\n",
              static_cast<long long>(lines), put->size / 1048576.0, Seconds(t0), PeakRssMiB());

  // Phase 1: validation only (parse, header probes, whole-file rules); entries are dropped.
  auto t1 = Clock::now();
  auto reader = osprey::dataset::ObjectChunkReader(*objects, "bench-manifests", "bench.manifest",
                                                   objects->HeadObject("bench-manifests",
                                                                       "bench.manifest")->size);
  auto result = osprey::dataset::ImportManifest(
      reader, -1, *objects, {}, [](std::vector<osprey::dataset::DatasetEntry>&) {
        return osprey::Status::Ok();
      });
  double validate_s = Seconds(t1);
  if (!result.ok() || result->failure || result->entries != lines) {
    std::fprintf(stderr, "validation failed: %s\n",
                 result.ok() ? "content" : result.status().ToString().c_str());
    return 1;
  }
  std::printf("validate: %.0f lines/s (%.2f s), peak RSS %.1f MiB\n", lines / validate_s,
              validate_s, PeakRssMiB());

  // Phase 2: the CreateDataset path: validate, stage in SQLite, commit.
  auto metadata = std::move(osprey::metadata::SqliteMetadataStore::Open(dir + "/osprey.db")).value();
  osprey::service::RekognitionService service(*metadata, *objects, osprey::Clock::Real(), {});
  osprey::service::RequestContext ctx;
  auto project = service.CreateProject(ctx, {"bench", {}});
  auto t2 = Clock::now();
  auto created = service.CreateDataset(
      ctx, {project->project_arn, "TRAIN",
            osprey::service::ManifestObject{"bench-manifests", "bench.manifest", ""}, "", {}});
  double import_s = Seconds(t2);
  auto described = service.DescribeDataset(ctx, {created->dataset_arn});
  std::printf("import: %.0f lines/s (%.2f s), status %s, %lld entries, peak RSS %.1f MiB\n",
              lines / import_s, import_s, described->description.status.c_str(),
              static_cast<long long>(described->description.stats.total_entries), PeakRssMiB());
  if (!keep) fs::remove_all(dir);
  return described->description.status == "CREATE_COMPLETE" ? 0 : 1;
}
