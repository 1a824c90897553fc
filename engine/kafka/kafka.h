// Kafka at the edge: librdkafka's mock cluster, a producer and the events
// consumer, with librdkafka's types and error codes kept inside kafka.cpp.
//
// KafkaConfig::brokers empty means "embedded": MockCluster starts librdkafka's
// built-in mock cluster (rdkafka_mock.h) on loopback. It speaks the real Kafka
// protocol, so kcat and any other client can use its bootstrap address, but it
// keeps messages in memory only (a few MiB per partition) and forgets them when
// the process ends: it is for development and demos. The RocksDB journal is
// hemoledger's durable record either way.
//
// Threading: Producer is thread-safe. Consumer belongs to the one thread that
// calls poll_batch(); its assignment callback runs inside poll_batch().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events/result.h"
#include "events/time.h"

namespace hemoledger {

struct KafkaConfig {
  std::string brokers;  // empty: use the embedded mock cluster
  // The brokers are librdkafka's mock cluster (MockCluster below). Its fetch
  // handler answers an empty fetch only after fetch.wait.max.ms and is not
  // woken by a produce, unlike a real broker, which answers a waiting fetch
  // as soon as data arrives. So consumers of the mock poll every
  // kMockFetchWaitMs, and consumers of a real cluster long-poll for
  // kBrokerFetchWaitMs (docs/reliability.md, "Latency").
  bool embedded = false;
  std::string events_topic = "hemoledger.events";
  std::string rejected_topic = "hemoledger.rejected";
  std::string alerts_topic = "hemoledger.alerts";
  // Scale-out (docs/scale-out.md): the compacted topic where instances of one
  // group publish their partitions' partial stock and who owns what.
  std::string partials_topic = "hemoledger.partials";
  std::string group = "hemoledger";
  int partitions = 6;  // for topics the embedded cluster creates
  // Passed through to librdkafka as they are (security.protocol, sasl.*, ssl.*,
  // or any other property), for producer and consumer alike.
  std::map<std::string, std::string> properties;
};

inline constexpr int kMockFetchWaitMs = 2;
inline constexpr int kBrokerFetchWaitMs = 100;

// librdkafka's mock cluster, alive as long as this object.
class MockCluster {
 public:
  // Starts `brokers` mock brokers on 127.0.0.1 and creates the given topics.
  [[nodiscard]] static Result<std::unique_ptr<MockCluster>> start(
      int brokers, const std::vector<std::string>& topics, int partitions);
  ~MockCluster();
  const std::string& bootstrap() const { return bootstrap_; }
  // Fault controls, for tests of broker faults (docs/reliability.md).
  void set_broker_down(int broker_id, bool down);
  // Adds `rtt_ms` of latency to every request the broker answers (0: none).
  void set_broker_latency(int broker_id, int rtt_ms);
  // The next `count` Fetch requests (from any client) fail with a retriable
  // error (NOT_LEADER_FOR_PARTITION), as when a leader moves.
  void fail_next_fetches(int count);
  // The next `count` Produce requests fail with a permanent error
  // (MSG_SIZE_TOO_LARGE): their messages are reported as not delivered.
  void fail_next_produces(int count);

 private:
  MockCluster() = default;
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::string bootstrap_;
};

struct Delivery {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// Whether a group of messages has reached Kafka: every message produced with
// the same tracker counts until Kafka answers for it (delivered or failed).
// The engine keeps a cursor (alert changes sent, lookbacks done) and moves it
// once the group is settled without failure, instead of waiting in flush().
class DeliveryTracker {
 public:
  bool settled() const { return outstanding_.load() == 0; }
  bool failed() const { return failures_.load() > 0; }

 private:
  friend class Producer;
  friend struct TrackedMessage;
  std::atomic<std::uint64_t> outstanding_{0}, failures_{0};
};

class Producer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Producer>> create(const KafkaConfig& config);
  ~Producer();
  // Produces and waits until the brokers acknowledge it (acks=all).
  [[nodiscard]] Result<Delivery> produce_sync(const std::string& topic, std::string_view key,
                                              std::string_view value, TimeMs timeout_ms);
  // Queues the message; delivery failures are counted and logged. With a
  // `tracker`, the message also counts in it until Kafka answers for it.
  [[nodiscard]] Status produce(const std::string& topic, std::string_view key,
                               std::string_view value,
                               const std::shared_ptr<DeliveryTracker>& tracker = nullptr);
  // Queues the message for one partition of the topic.
  [[nodiscard]] Status produce_to(const std::string& topic, std::int32_t partition,
                                  std::string_view key, std::string_view value,
                                  const std::shared_ptr<DeliveryTracker>& tracker = nullptr);
  // Waits for queued messages; false if some are still queued at the timeout.
  bool flush(TimeMs timeout_ms);
  std::uint64_t delivery_failures() const { return failures_.load(); }

 private:
  Producer() = default;
  // `opaque` is handed to the delivery callback (an Awaited, or null).
  Status enqueue(const std::string& topic, std::int32_t partition, std::string_view key,
                 std::string_view value, void* opaque);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> failures_{0};
};

struct Record {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  TimeMs timestamp = 0;  // Kafka message timestamp, 0 if none
};

class Consumer {
 public:
  // Called when partitions are assigned: returns the offset to start each at
  // (a missing entry starts at the beginning of the partition).
  using StartOffsets = std::function<std::map<std::int32_t, std::int64_t>(
      const std::vector<std::int32_t>& assigned)>;
  using Revoked = std::function<void(const std::vector<std::int32_t>& revoked)>;

  [[nodiscard]] static Result<std::unique_ptr<Consumer>> create(const KafkaConfig& config,
                                                                StartOffsets start,
                                                                Revoked revoked);
  ~Consumer();
  // Up to `max` records, waiting at most `wait_ms` for the first one.
  // Errors that librdkafka recovers from by itself are reported in `problem`
  // (empty when all is well) and do not fail the call.
  [[nodiscard]] Result<std::vector<Record>> poll_batch(std::size_t max, int wait_ms);
  // Tells the group how far we are (informational: RocksDB holds the truth).
  void commit_async(const std::map<std::int32_t, std::int64_t>& next_offsets);
  // High watermark per assigned partition, as last seen by the client.
  std::map<std::int32_t, std::int64_t> high_watermarks();
  std::string cluster_id(int timeout_ms);
  // Asks the partition's leader for its low and high watermarks.
  bool query_watermarks(std::int32_t partition, std::int64_t& low, std::int64_t& high,
                        int timeout_ms);
  // The events topic's partition count from the cluster's metadata (0: unknown).
  int partition_count(int timeout_ms);
  // Errors that librdkafka recovers from by itself (a broker down, ...), as
  // a sentence; empty once messages flow again or probe() reaches Kafka.
  const std::string& problem() const { return problem_; }
  // Asks the cluster for its metadata; true (and the problem cleared) if it answers.
  bool probe(int timeout_ms);
  void close();

 private:
  Consumer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string problem_;
};

// Reads every partition of one topic from its beginning, outside any group
// (nothing is committed). For the partials topic: each instance reads all of it.
// Belongs to the one thread that calls poll_batch().
class TopicReader {
 public:
  // Fails if the topic does not exist within `timeout_ms`.
  [[nodiscard]] static Result<std::unique_ptr<TopicReader>> create(const KafkaConfig& config,
                                                                   const std::string& topic,
                                                                   int timeout_ms);
  ~TopicReader();
  [[nodiscard]] Result<std::vector<Record>> poll_batch(std::size_t max, int wait_ms);

 private:
  TopicReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The partition librdkafka's default partitioner (consistent_random: CRC32 of
// the key) gives a keyed message, as every hemoledger producer and kcat use.
std::int32_t partition_for_key(std::string_view key, std::int32_t partitions);

}  // namespace hemoledger
