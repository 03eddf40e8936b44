// Kafka message values of the stream lane: JSON (one record), protobuf
// Record (one record) and protobuf RecordBatch (one series, many records).
// Schemas: proto/stream_record.proto; the JSON fields in stream/README.md.
// Pure functions, no I/O: the unit tests and the fuzz target drive them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/types.h"

namespace sluice::stream {

// What a message says about its series besides the values.
struct SeriesMeta {
  std::string_view name;
  store::ValueType type = store::ValueType::kFloat64;
  std::string_view unit;
};

// {"series":..,"timestamp":"2024-05-01T12:00:00.123456789Z",
//  "timestamp_ns":..,"value":..,"type":"float64","unit":..}
// Non-finite doubles are written as null (JSON has no NaN); bytes values as
// base64 (RFC 4648, padded). Appends to `out`.
//
// Series names and units are written as UTF-8 in every format (JSON and
// proto3 `string` readers refuse anything else): a byte that starts no
// well-formed sequence (a name from a Sparkplug B metric, which nothing
// checks) becomes U+FFFD. The Kafka key keeps the name's own bytes.
void AppendJsonRecord(const SeriesMeta& series, const store::Record& record, std::string& out);

// A Record message (proto/stream_record.proto). Appends to `out`.
void AppendProtoRecord(const SeriesMeta& series, const store::Record& record, std::string& out);

// A RecordBatch message of records that all belong to `series`.
void AppendProtoBatch(const SeriesMeta& series, std::span<const store::Record* const> records,
                      std::string& out);

// "2024-05-01T12:00:00.123456789Z" (nine fraction digits, UTC, proleptic
// Gregorian calendar: what gmtime_r gives). AppendTimestamp appends it.
std::string FormatTimestamp(std::int64_t ns);
void AppendTimestamp(std::int64_t ns, std::string& out);

// Replaces {site} and {gateway} in a topic template. InvalidArgument for
// any other {...}, an unbalanced brace, or a result that is not a valid
// Kafka topic name (1..249 of [a-zA-Z0-9._-], not "." or "..").
Result<std::string> ExpandTopic(std::string_view topic_template, std::string_view site,
                                std::string_view gateway);

// fnmatch(3) without flags, as `sluice export --series-glob`: `*` also
// matches `/`.
bool SeriesMatches(std::string_view glob, std::string_view name);

}  // namespace sluice::stream
