// ChunkFeeder: produces a recorded stream (stream_file.h) to a topic of
// librdkafka's mock cluster in chunks, so that no unread message is ever
// dropped and the consumer's time can be measured on its own.
//
// The mock cluster keeps at most 5 MiB (and 100,000 message sets) per
// partition and drops the oldest message sets beyond that (librdkafka
// rdkafka_mock.c, rd_kafka_mock_partition_new / rd_kafka_mock_msgset_new).
// The feeder therefore assigns each key's partition itself (FNV-1a of the DIN,
// so a donation's events stay in one partition, in order) and ends a chunk
// before any partition has received `chunk_bytes_per_partition` bytes since
// the last drain. For each chunk it calls, in order:
//   pause()              the consumer must not read while the chunk is produced
//   (produce the chunk and wait for every acknowledgement)
//   resume_and_drain(n)  let the consumer go and return once it has processed
//                        all n records produced so far
// and only the time spent in resume_and_drain counts as the consumer's.
//
// Threading: one thread calls run(); the hooks run on it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace RdKafka {
class Producer;
class DeliveryReportCb;
}  // namespace RdKafka

namespace hemoledger::bench {

struct FeedHooks {
  std::function<void()> pause;
  std::function<void(std::uint64_t produced)> resume_and_drain;
  // Asked after each chunk (optional): false ends the run there.
  std::function<bool()> keep_going;
  // Each record as it is produced (optional).
  std::function<void(std::string_view key, std::string_view value)> on_record;
};

struct FeedReport {
  std::uint64_t records = 0;
  std::uint64_t chunks = 0;
  std::uint64_t delivery_failures = 0;
  double drain_seconds = 0;    // the consumer's time
  double produce_seconds = 0;  // producing and acknowledging the chunks
};

class ChunkFeeder {
 public:
  // Throws std::runtime_error if the producer cannot be created.
  ChunkFeeder(const std::string& brokers, std::string topic, int partitions,
              std::size_t chunk_bytes_per_partition);
  ~ChunkFeeder();
  // Produces up to `max_records` records of the stream file (0: all).
  FeedReport run(const std::string& stream_path, std::uint64_t max_records, const FeedHooks& hooks);
  // The high watermark of each partition, as the broker reports it.
  std::map<int, std::int64_t> high_watermarks();
  // The first offset each partition still holds (the mock cluster drops the
  // oldest data past its cap).
  std::map<int, std::int64_t> low_watermarks();
  int partition_of(std::string_view key) const;

 private:
  std::map<int, std::int64_t> watermarks(bool low);
  std::string topic_;
  int partitions_;
  std::size_t chunk_bytes_;
  std::unique_ptr<RdKafka::DeliveryReportCb> cb_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace hemoledger::bench
