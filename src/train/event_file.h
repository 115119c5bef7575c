#pragma once
// Internal: TensorBoard event files (what tf.summary and torch's SummaryWriter write), by hand
// and for scalars only: TFRecord framing around Event protos. No protobuf dependency for the
// dozen bytes a scalar needs. Field numbers follow TensorFlow's public event.proto and
// summary.proto.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace electra {

struct Scalar {
  std::string tag;  // "train/loss"
  float value;      // Summary.Value.simple_value is a float
};

// One TFRecord: data length (uint64 LE), masked CRC32C of those 8 bytes, data, masked CRC32C of
// the data (both CRCs little-endian).
std::string frame_tfrecord(const std::string& data);
// The records of a TFRecord file's bytes, in order, up to the first one that is cut short or
// fails its CRC (a crash mid-write): TensorBoard stops reading there too.
std::vector<std::string> parse_tfrecords(const std::string& bytes);

// Event protos: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string),
// summary = 5 (Summary { repeated Value value = 1 { tag = 1, simple_value = 2 } }).
std::string file_version_event(double wall_time);  // "brain.Event:2", the first record of a file
std::string scalars_event(double wall_time, int64_t step, const std::vector<Scalar>& scalars);
// An event's step (0 when it has none, as proto3 reads it); -1 when the bytes are not an event.
int64_t event_step(const std::string& event);

// A new file's path in `folder` (created if missing), named as TensorBoard expects:
// events.out.tfevents.<unix seconds>.<hostname>.<pid>.libelectra. Throws electra::Error
// naming the folder when it cannot be created.
std::string new_event_file_path(const std::string& folder);

// Appends events to one file; every record is flushed at once, so a run that crashes keeps
// everything it logged. Every failure is an electra::Error naming the file.
class EventFileWriter {
 public:
  // Opens `path` for appending; a new (empty) file starts with the file_version record.
  explicit EventFileWriter(std::string path);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // One event holding `scalars` at `step`, stamped with the current time.
  void add_scalars(int64_t step, const std::vector<Scalar>& scalars);
  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);

  std::string path_;
  std::FILE* file_ = nullptr;
};

// For a run resumed at `step`: rewrites the event file at `path` (temporary file + rename)
// without the events after `step` that the interrupted run had logged, and without a damaged
// tail. Leaves the file untouched when there is nothing to drop; returns the events dropped.
size_t drop_events_after(const std::string& path, int64_t step);

}  // namespace electra
