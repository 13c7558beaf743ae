// AWS's manifest error codes and their documented messages (rekognition-api.md §9.3,
// [D:tm-debugging-json-line-errors], [D:debugging-datasets-terminal-errors]). Stateless.
#pragma once

#include <string>
#include <string_view>

#include "dataset/manifest_types.h"

namespace osprey::dataset {

// Non-terminal JSON-line errors (kept in the entry as cl-errors).
inline constexpr std::string_view kErrMissingSourceRef = "ERROR_MISSING_SOURCE_REF";
inline constexpr std::string_view kErrInvalidSourceRef = "ERROR_INVALID_SOURCE_REF_FORMAT";
inline constexpr std::string_view kErrNoLabelAttributes = "ERROR_NO_LABEL_ATTRIBUTES";
inline constexpr std::string_view kErrAttributeFormat = "ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT";
inline constexpr std::string_view kErrMetadataFormat =
    "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT";
inline constexpr std::string_view kErrNoValidAttributes = "ERROR_NO_VALID_LABEL_ATTRIBUTES";
inline constexpr std::string_view kErrMissingConfidence = "ERROR_MISSING_BOUNDING_BOX_CONFIDENCE";
inline constexpr std::string_view kErrMissingClassMapId = "ERROR_MISSING_CLASS_MAP_ID";
inline constexpr std::string_view kErrInvalidJsonLine = "ERROR_INVALID_JSON_LINE";
inline constexpr std::string_view kErrInvalidImage = "ERROR_INVALID_IMAGE";
inline constexpr std::string_view kErrInvalidImageDimension = "ERROR_INVALID_IMAGE_DIMENSION";
inline constexpr std::string_view kErrInvalidBoundingBox = "ERROR_INVALID_BOUNDING_BOX";
inline constexpr std::string_view kErrBoundingBoxTooSmall = "ERROR_BOUNDING_BOX_TOO_SMALL";
inline constexpr std::string_view kErrTooManyBoundingBoxes = "ERROR_TOO_MANY_BOUNDING_BOXES";
inline constexpr std::string_view kErrNoValidAnnotations = "ERROR_NO_VALID_ANNOTATIONS";
inline constexpr std::string_view kErrUnsupportedUseCase = "ERROR_UNSUPPORTED_USE_CASE_TYPE";
inline constexpr std::string_view kErrLabelNameLength = "ERROR_INVALID_LABEL_NAME_LENGTH";
// Terminal content errors in datasets: the line is dropped (not stored, counted as invalid).
inline constexpr std::string_view kErrLineTooLong = "ERROR_JSON_LINE_TOO_LONG";
inline constexpr std::string_view kErrDuplicateSourceRef = "ERROR_DUPLICATE_SOURCE_REF";
// Terminal file errors: the whole create/update fails with StatusMessageCode CLIENT_ERROR.
inline constexpr std::string_view kErrManifestInaccessible =
    "ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT";
inline constexpr std::string_view kErrEmptyManifest = "ERROR_EMPTY_MANIFEST";
inline constexpr std::string_view kErrManifestTooLarge = "ERROR_MANIFEST_SIZE_TOO_LARGE";
inline constexpr std::string_view kErrTooManyRows = "ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM";
inline constexpr std::string_view kErrTooManyRecordsInError = "ERROR_TOO_MANY_RECORDS_IN_ERROR";
inline constexpr std::string_view kErrTooManyLabels = "ERROR_MANIFEST_TOO_MANY_LABELS";
inline constexpr std::string_view kErrMultipleBuckets = "ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS";
inline constexpr std::string_view kErrInsufficientForDistribute =
    "ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE";
// Training-time content errors (for the model-version work).
inline constexpr std::string_view kErrTooFewLabels = "ERROR_MANIFEST_TOO_FEW_LABELS";
inline constexpr std::string_view kErrInsufficientForAutosplit =
    "ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT";

// The documented message for `code` ("" for a code without a documented text).
std::string_view ErrorMessage(std::string_view code);
// {code, ErrorMessage(code)}.
LineError MakeError(std::string_view code);

}  // namespace osprey::dataset
