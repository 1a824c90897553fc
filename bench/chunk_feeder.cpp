#include "bench/chunk_feeder.h"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/stream_file.h"

namespace hemoledger::bench {

namespace {

class CountFailures : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) ++failures;
  }
  std::atomic<std::uint64_t> failures{0};
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes a record takes in the mock's log besides key and value (record
// header, varints; generous).
constexpr std::size_t kRecordOverhead = 32;

}  // namespace

ChunkFeeder::ChunkFeeder(const std::string& brokers, std::string topic, int partitions,
                         std::size_t chunk_bytes_per_partition)
    : topic_(std::move(topic)), partitions_(partitions), chunk_bytes_(chunk_bytes_per_partition) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  cb_ = std::make_unique<CountFailures>();
  std::string err;
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", brokers},
      {"client.id", "hemoledger-bench-feeder"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"queue.buffering.max.messages", "1000000"}};
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) throw std::runtime_error(k + ": " + err);
  }
  if (conf->set("dr_cb", cb_.get(), err) != RdKafka::Conf::CONF_OK) throw std::runtime_error(err);
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw std::runtime_error("cannot create the feeder's producer: " + err);
}

ChunkFeeder::~ChunkFeeder() {
  if (producer_) producer_->flush(5000);
}

int ChunkFeeder::partition_of(std::string_view key) const {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : key) h = (h ^ c) * 16777619u;
  return static_cast<int>(h % static_cast<std::uint32_t>(partitions_));
}

FeedReport ChunkFeeder::run(const std::string& stream_path, std::uint64_t max_records,
                            const FeedHooks& hooks) {
  FeedReport report;
  StreamReader reader(stream_path);
  std::string key, value;
  bool have = reader.next(key, value);
  while (have && (max_records == 0 || report.records < max_records)) {
    if (hooks.pause) hooks.pause();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::size_t> bytes(static_cast<std::size_t>(partitions_), 0);
    while (have && (max_records == 0 || report.records < max_records)) {
      const int p = partition_of(key);
      const std::size_t size = key.size() + value.size() + kRecordOverhead;
      if (bytes[static_cast<std::size_t>(p)] + size > chunk_bytes_) break;  // next chunk
      bytes[static_cast<std::size_t>(p)] += size;
      for (;;) {
        auto e = producer_->produce(topic_, p, RdKafka::Producer::RK_MSG_COPY, value.data(),
                                    value.size(), key.data(), key.size(), 0, nullptr);
        if (e == RdKafka::ERR_NO_ERROR) break;
        if (e != RdKafka::ERR__QUEUE_FULL) throw std::runtime_error(RdKafka::err2str(e));
        producer_->poll(10);
      }
      producer_->poll(0);
      if (hooks.on_record) hooks.on_record(key, value);
      ++report.records;
      have = reader.next(key, value);
    }
    while (producer_->outq_len() > 0) producer_->poll(5);
    report.produce_seconds += since(t0);
    ++report.chunks;
    const auto t1 = std::chrono::steady_clock::now();
    hooks.resume_and_drain(report.records);
    report.drain_seconds += since(t1);
    if (hooks.keep_going && !hooks.keep_going()) break;
  }
  report.delivery_failures = static_cast<CountFailures*>(cb_.get())->failures.load();
  return report;
}

std::map<int, std::int64_t> ChunkFeeder::high_watermarks() { return watermarks(false); }
std::map<int, std::int64_t> ChunkFeeder::low_watermarks() { return watermarks(true); }

std::map<int, std::int64_t> ChunkFeeder::watermarks(bool low) {
  std::map<int, std::int64_t> out;
  for (int p = 0; p < partitions_; ++p) {
    int64_t lo = 0, hi = 0;
    if (producer_->query_watermark_offsets(topic_, p, &lo, &hi, 5000) == RdKafka::ERR_NO_ERROR) {
      out[p] = low ? lo : hi;
    }
  }
  return out;
}

}  // namespace hemoledger::bench
