// TensorBoard event files: CRC32C against its published check value, the exact bytes of a
// record, reading back, the tags metrics records get, dropping what an interrupted run logged
// after its checkpoint, and write failures as electra::Error. TensorBoard's own reader checks the
// files end to end in tests/integration/test_tensorboard.py.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "test_util.h"
#include "train/event_file.h"
#include "train/trainer_core.h"
#include "util/crc32c.h"

namespace fs = std::filesystem;
using namespace electra;
using test::read_bytes;
using test::TempDir;

namespace {

std::string le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

std::string float_bytes(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return le(bits, 4);
}

std::string double_bytes(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return le(bits, 8);
}

// The steps of the events in an event file, in order (the file_version record is step 0).
std::vector<int64_t> steps_in(const std::string& path) {
  std::vector<int64_t> steps;
  for (const auto& r : parse_tfrecords(read_bytes(path))) steps.push_back(event_step(r));
  return steps;
}

}  // namespace

TEST(Crc32c, CheckValueAndMask) {
  // The CRC-32C check value (RFC 3720 lists the same polynomial), long enough for the 8-byte path.
  EXPECT_EQ(crc32c(std::string("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string()), 0u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);  // RFC 3720 B.4: 32 bytes of 0xff
  // Extending piece by piece equals one pass, wherever the pieces split.
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over.";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(crc32c_extend(crc32c(text.data(), cut), text.data() + cut, text.size() - cut), crc32c(text));
  }
  EXPECT_EQ(mask_crc32c(0xE3069283u), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
}

TEST(EventFile, RecordBytes) {
  const std::string data = "abc";
  const std::string framed = frame_tfrecord(data);
  const std::string header = le(3, 8);
  EXPECT_EQ(framed, header + le(mask_crc32c(crc32c(header)), 4) + data + le(mask_crc32c(crc32c(data)), 4));

  // wall_time 1.5, step 7, summary { value { tag "train/loss" simple_value 0.25 } }, byte by byte.
  const std::string value = std::string("\x0a\x0a") + "train/loss" + "\x15" + float_bytes(0.25f);
  const std::string summary = "\x0a" + std::string(1, static_cast<char>(value.size())) + value;
  const std::string expected = "\x09" + double_bytes(1.5) + "\x10\x07" + "\x2a" +
                               std::string(1, static_cast<char>(summary.size())) + summary;
  EXPECT_EQ(scalars_event(1.5, 7, {{"train/loss", 0.25f}}), expected);
  EXPECT_EQ(file_version_event(1.5), "\x09" + double_bytes(1.5) + "\x1a\x0d" + "brain.Event:2");

  EXPECT_EQ(event_step(expected), 7);
  EXPECT_EQ(event_step(file_version_event(1.5)), 0);
  EXPECT_EQ(event_step(scalars_event(0, 300, {})), 300);        // a two-byte varint
  EXPECT_EQ(event_step(scalars_event(0, int64_t(1) << 40, {})), int64_t(1) << 40);
  EXPECT_EQ(event_step("\x2a\x09"), -1);                         // a length past the end
}

TEST(EventFile, WritesAndReadsBack) {
  TempDir dir;
  const auto path = new_event_file_path(dir.file("tensorboard"));
  const auto name = fs::path(path).filename().string();
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  EXPECT_NE(name.find("." + std::to_string(::getpid()) + ".libelectra"), std::string::npos) << name;
  {
    EventFileWriter writer(path);
    writer.add_scalars(1, {{"train/loss", 2.0f}});
    // Flushed at once: the bytes are there before the writer closes.
    EXPECT_EQ(steps_in(path), (std::vector<int64_t>{0, 1}));
    writer.add_scalars(2, {{"train/loss", 1.0f}, {"train/learning_rate", 1e-4f}});
  }
  const auto records = parse_tfrecords(read_bytes(path));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  EXPECT_EQ(event_step(records[2]), 2);
  // A second writer on the same name (same second, same process) continues the file.
  { EventFileWriter(path).add_scalars(3, {{"train/loss", 0.5f}}); }
  EXPECT_EQ(steps_in(path), (std::vector<int64_t>{0, 1, 2, 3}));
  // A record cut short or damaged ends what is read, as TensorBoard's reader does.
  auto bytes = read_bytes(path);
  EXPECT_EQ(parse_tfrecords(bytes.substr(0, bytes.size() - 2)).size(), 3u);
  bytes[bytes.size() - 6] ^= 1;
  EXPECT_EQ(parse_tfrecords(bytes).size(), 3u);
}

TEST(EventFile, Tags) {
  const auto train = nlohmann::json::parse(
      R"({"split":"train","step":5,"loss":1.5,"learning_rate":0.001,"tokens_per_second":10,"note":"x","ok":true})");
  const auto scalars = tensorboard_scalars(train);
  std::map<std::string, float> by_tag;
  for (const auto& s : scalars) by_tag[s.tag] = s.value;
  EXPECT_EQ(by_tag, (std::map<std::string, float>{{"train/learning_rate", 0.001f}, {"train/loss", 1.5f},
                                                  {"train/tokens_per_second", 10.0f}}));
  const auto dev = nlohmann::json::parse(R"({"split":"dev","epoch":1.0,"step":8,"accuracy":90.5})");
  by_tag.clear();
  for (const auto& s : tensorboard_scalars(dev)) by_tag[s.tag] = s.value;
  EXPECT_EQ(by_tag, (std::map<std::string, float>{{"eval/accuracy", 90.5f}, {"eval/epoch", 1.0f}}));
  nlohmann::json eval = {{"split", "eval"}, {"step", 3}, {"disc_auc", std::nan("")}, {"mlm_accuracy", 0.5}};
  ASSERT_EQ(tensorboard_scalars(eval).size(), 1u);  // not finite: left out
  EXPECT_EQ(tensorboard_scalars(eval)[0].tag, "eval/mlm_accuracy");
}

TEST(EventFile, ResumeDropsLaterSteps) {
  TempDir dir;
  const auto path = new_event_file_path(dir.file("tensorboard"));
  {
    EventFileWriter writer(path);
    for (int64_t step = 1; step <= 6; ++step) writer.add_scalars(step, {{"train/loss", float(step)}});
  }
  auto bytes = read_bytes(path);
  test::write_bytes(path, bytes + frame_tfrecord(scalars_event(0, 7, {})).substr(0, 10));  // a crash mid-record
  EXPECT_EQ(drop_events_after(path, 4), 2u);
  EXPECT_EQ(steps_in(path), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  std::string reframed;
  for (const auto& r : parse_tfrecords(read_bytes(path))) reframed += frame_tfrecord(r);
  EXPECT_EQ(reframed, read_bytes(path));  // no damaged tail left
  const auto kept = read_bytes(path);
  EXPECT_EQ(drop_events_after(path, 4), 0u);
  EXPECT_EQ(read_bytes(path), kept);
  EXPECT_EQ(drop_events_after(path, 0), 4u);
  EXPECT_EQ(steps_in(path), (std::vector<int64_t>{0}));  // the file_version record stays

  const auto metrics = dir.file("metrics.jsonl");
  test::write_bytes(metrics,
                    "{\"split\":\"train\",\"step\":1,\"loss\":3}\n"
                    "{\"split\":\"dev\",\"epoch\":1,\"step\":2,\"accuracy\":50}\n"
                    "{\"split\":\"train\",\"step\":3,\"loss\":2}\n"
                    "not json\n"
                    "{\"split\":\"dev\",\"epoch\":2,\"step\":4,\"accuracy\":60}\n"
                    "{\"split\":\"train\",\"st");
  EXPECT_EQ(drop_metrics_after(metrics, 2), 3u);  // steps 3 and 4, and the line cut short
  EXPECT_EQ(read_bytes(metrics),
            "{\"split\":\"train\",\"step\":1,\"loss\":3}\n"
            "{\"split\":\"dev\",\"epoch\":1,\"step\":2,\"accuracy\":50}\n"
            "not json\n");
  EXPECT_EQ(drop_metrics_after(metrics, 2), 0u);
  EXPECT_EQ(drop_metrics_after(dir.file("missing.jsonl"), 2), 0u);
}

TEST(EventFile, FailuresAreErrors) {
  TempDir dir;
  test::write_bytes(dir.file("file"), "x");
  // A folder that cannot be made (a file is in the way).
  EXPECT_THROW(new_event_file_path(dir.file("file") + "/tensorboard"), Error);
  test::expect_error([&] { new_event_file_path(dir.file("file") + "/tensorboard"); },
                     {dir.file("file") + "/tensorboard: cannot create the TensorBoard folder"});
  // A file that cannot be opened: its folder is missing.
  test::expect_error([&] { EventFileWriter(dir.file("missing") + "/events.out.tfevents.1.h.1.libelectra"); },
                     {"events.out.tfevents.1.h.1.libelectra: cannot open the TensorBoard event file for writing"});
  // An unwritable folder (root writes anywhere, so only checked for other users).
  if (::geteuid() != 0) {
    fs::create_directories(dir.file("locked"));
    ::chmod(dir.file("locked").c_str(), 0500);
    EXPECT_THROW(EventFileWriter(new_event_file_path(dir.file("locked"))), Error);
    ::chmod(dir.file("locked").c_str(), 0700);
  }
  // A full disk: every write fails with ENOSPC.
  if (fs::exists("/dev/full")) {
    EXPECT_THROW(EventFileWriter("/dev/full"), Error);
    test::expect_error([] { EventFileWriter("/dev/full"); }, {"/dev/full: cannot write to the TensorBoard event file"});
  }
}
