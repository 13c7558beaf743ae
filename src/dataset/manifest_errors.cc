#include "dataset/manifest_errors.h"

#include <utility>

namespace osprey::dataset {

std::string_view ErrorMessage(std::string_view code) {
  // Texts are AWS's, verbatim (rekognition-api.md §9.3), including "One of more".
  static constexpr std::pair<std::string_view, std::string_view> kMessages[] = {
      {kErrMissingSourceRef, "The source-ref key is missing."},
      {kErrInvalidSourceRef, "The format of the source-ref value is invalid."},
      {kErrNoLabelAttributes, "No label attributes found."},
      {kErrAttributeFormat, "The format of the label attribute is invalid."},
      {kErrMetadataFormat, "The format of the label attribute metadata is invalid."},
      {kErrNoValidAttributes, "No valid label attributes found."},
      {kErrMissingConfidence, "One or more bounding boxes has a missing confidence value."},
      {kErrMissingClassMapId, "One of more class ids is missing from the class map."},
      {kErrInvalidJsonLine, "The JSON Line has an invalid format."},
      {kErrInvalidImage, "The image is invalid. Check S3 path and/or image properties."},
      {kErrInvalidImageDimension,
       "The image dimension(s) do not conform to allowed dimensions."},
      {kErrInvalidBoundingBox, "The bounding box has off frame values."},
      {kErrBoundingBoxTooSmall, "The height and width of the bounding box is too small."},
      {kErrTooManyBoundingBoxes, "There are more bounding boxes than the allowed maximum."},
      {kErrNoValidAnnotations, "No valid annotations found."},
      {kErrUnsupportedUseCase, "The use case type of the label attribute metadata is unsupported."},
      {kErrLabelNameLength, "The label name is too long."},
      {kErrLineTooLong, "The JSON Line is longer than 100,000 characters."},
      {kErrDuplicateSourceRef, "The source-ref is already used by an earlier JSON Line."},
      {kErrManifestInaccessible, "The manifest file extension or contents are invalid."},
      {kErrEmptyManifest, "The manifest file is empty."},
      {kErrManifestTooLarge, "The manifest file size exceeds the maximum supported size."},
      {kErrTooManyRows, "The manifest file has too many rows."},
      {kErrTooManyRecordsInError, "The manifest file has too many terminal errors."},
      {kErrTooManyLabels, "The manifest file has too many labels."},
      {kErrMultipleBuckets, "The manifest file contains images from multiple S3 buckets."},
      {kErrInsufficientForDistribute,
       "The manifest file doesn't have enough labeled images to distribute the dataset."},
      {kErrTooFewLabels, "The manifest file has too few labels."},
      {kErrInsufficientForAutosplit,
       "The manifest file contains insufficient labeled images per label to perform "
       "auto-split."},
  };
  for (const auto& [known, message] : kMessages) {
    if (known == code) return message;
  }
  return "";
}

LineError MakeError(std::string_view code) {
  return LineError{std::string(code), std::string(ErrorMessage(code))};
}

}  // namespace osprey::dataset
